import { describe, expect, it } from 'vitest';
import { compareClose, expectAllClose } from './all-close.js';

describe('compareClose', () => {
  it('accepts values within atol + rtol·|expected| and rejects the first one beyond', () => {
    expect(compareClose([1.0, 2.0], [1.0005, 2.0], { atol: 1e-3, rtol: 0 }).ok).toBe(true);
    const r = compareClose([1.0, 2.1], [1.0, 2.0], { atol: 1e-3, rtol: 1e-2 });
    expect(r.ok).toBe(false);
    expect(r.worstIndex).toBe(1);
    expect(r.worstExcess).toBeCloseTo(0.1 - 1e-3 - 2e-2, 12);
  });
  it('treats NaN and infinities explicitly', () => {
    expect(compareClose([NaN], [NaN], { atol: 1, rtol: 1 }).ok).toBe(true);
    expect(compareClose([NaN], [0], { atol: 1e9, rtol: 1 }).ok).toBe(false);
    expect(compareClose([0], [NaN], { atol: 1e9, rtol: 1 }).ok).toBe(false);
    expect(compareClose([Infinity], [Infinity], { atol: 0, rtol: 0 }).ok).toBe(true);
    expect(compareClose([Infinity], [-Infinity], { atol: 1e9, rtol: 1 }).ok).toBe(false);
    expect(compareClose([1e300], [Infinity], { atol: 1e9, rtol: 1 }).ok).toBe(false);
  });
  it('rejects a length mismatch and expectAllClose throws with the worst element', () => {
    expect(compareClose([1, 2], [1], { atol: 1, rtol: 1 }).ok).toBe(false);
    expect(() => expectAllClose([0, 5], [0, 4], { atol: 0.5, rtol: 0 })).toThrow(/element 1: actual 5, expected 4/);
  });
});
