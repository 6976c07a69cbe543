import { describe, expect, it } from 'vitest';
import { luSolve, upperProducts } from './linalg.js';
import { gaussian, mulberry32 } from './synthetic.js';

describe('upperProducts', () => {
  for (const n of [1, 4, 7]) {
    it(`equals the naive products on and above the diagonal, n = ${n}`, () => {
      const rand = mulberry32(n);
      const len = 5;
      const X = Float64Array.from({ length: n * len }, () => gaussian(rand));
      const Y = Float64Array.from({ length: n * len }, () => gaussian(rand));
      const out = upperProducts(X, Y, n, len, new Float64Array(n * n));
      for (let i = 0; i < n; i++) {
        for (let j = i; j < n; j++) {
          let s = 0;
          for (let k = 0; k < len; k++) s += X[i * len + k]! * Y[j * len + k]!;
          expect(out[i * n + j]).toBeCloseTo(s, 12);
        }
      }
    });
  }
});

describe('luSolve', () => {
  it('solves a non-symmetric system that needs pivoting', () => {
    // A = [[0,2,1],[1,1,0],[3,0,1]], x = [1,2,3] → b = [7,3,6]
    const x = luSolve(Float64Array.from([0, 2, 1, 1, 1, 0, 3, 0, 1]), Float64Array.from([7, 3, 6]), 3);
    expect(Array.from(x).map((v) => +v.toFixed(12))).toEqual([1, 2, 3]);
  });
  it('rejects a singular matrix', () => {
    expect(() => luSolve(Float64Array.from([1, 2, 2, 4]), Float64Array.from([1, 1]), 2)).toThrow(/singular/);
  });
});
