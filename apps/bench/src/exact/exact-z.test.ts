import { describe, expect, it } from 'vitest';
import { erf } from './erfinv.js';
import { exactZ, MAX_THETA } from './exact-z.js';

const thetaOf = (z: Float32Array): number[] => Array.from(z, (v) => Math.fround(erf(v / Math.SQRT2)));

describe('exactZ', () => {
  it('keeps z0 where θ did not change and inverts θ = erf(z/√2) where it did', () => {
    const z0 = Float32Array.from([0.3, -1.2, 2.0, 3.6, -0.1]);
    const t0 = thetaOf(z0);
    const t1 = [...t0];
    t1[1] = -0.5;
    t1[2] = 0.2;
    const z = exactZ(z0, t0, t1);
    expect(z[0]).toBe(z0[0]);
    expect(z[3]).toBe(z0[3]);
    expect(z[4]).toBe(z0[4]);
    expect(erf(z[1]! / Math.SQRT2)).toBeCloseTo(-0.5, 6);
    expect(erf(z[2]! / Math.SQRT2)).toBeCloseTo(0.2, 6);
  });

  it('clamps entries at the bound ±1 to a finite z, and keeps z0 when both ends lie beyond the clamp', () => {
    const z0 = Float32Array.from([1.0, 3.6]);
    const t0 = thetaOf(z0);
    const z = exactZ(z0, t0, [1, 1]);
    expect(erf(z[0]! / Math.SQRT2)).toBeCloseTo(MAX_THETA, 6);
    expect(z[1]).toBe(z0[1]);
  });

  it('rejects an answer made for another z dimension in one line', () => {
    expect(() => exactZ(new Float32Array(3), [0, 0], [0, 0])).toThrow(/another model/);
  });
});
