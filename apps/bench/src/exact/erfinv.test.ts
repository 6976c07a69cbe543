import { describe, expect, it } from 'vitest';
import { erf, erfinv } from './erfinv.js';

// Reference values (Abramowitz & Stegun tables; agree with scipy.special to the digits given).
const ERF: readonly [number, number][] = [
  [0.01, 0.011283415555849616],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [-1.5, -0.9661051464753108],
  [2, 0.9953222650189527],
  [3, 0.9999779095030014],
  [4, 0.9999999845827421],
];
const ERFINV: readonly [number, number][] = [
  [1e-8, 8.86226925452758e-9],
  [-0.3, -0.2724627147267543],
  [0.5, 0.4769362762044699],
  [0.9, 1.1630871536766743],
  [0.999, 2.3267537655135246],
  [0.99999, 3.123413274341571],
];

describe('erf and erfinv', () => {
  it('match known values', () => {
    for (const [x, v] of ERF) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-14);
    for (const [x, v] of ERFINV) expect(Math.abs(erfinv(x) - v)).toBeLessThan(1e-12 * Math.max(1, Math.abs(v)));
  });

  it('invert each other, including the probit map θ = erf(z/√2) of the generators', () => {
    for (let z = -4; z <= 4; z += 0.37) {
      expect(Math.SQRT2 * erfinv(erf(z / Math.SQRT2))).toBeCloseTo(z, 8);
    }
    for (let x = -0.99; x < 1; x += 0.09) expect(erf(erfinv(x))).toBeCloseTo(x, 14);
  });

  it('is odd, infinite at ±1 and undefined outside [−1, 1]', () => {
    expect(erfinv(0)).toBe(0);
    expect(erfinv(-0.7)).toBe(-erfinv(0.7));
    expect(erfinv(1)).toBe(Infinity);
    expect(erfinv(-1)).toBe(-Infinity);
    expect(erfinv(1.5)).toBeNaN();
  });
});
