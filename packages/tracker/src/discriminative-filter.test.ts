import { describe, expect, it } from 'vitest';
import { sampleBilinear, type FeatureMap } from '@stabledrag/core';
import {
  filterObjective,
  gaussianLabels,
  learnFilter,
  solveFilterClosedForm,
  solveFilterIterative,
  type FilterProblem,
} from './discriminative-filter.js';
import { choleskySolve } from './linalg.js';
import { SyntheticScene, gaussian, mulberry32, randomMap } from './synthetic.js';
import { maxAbs, maxAbsDiff } from './test-utils.js';

function randomProblem(seed: number, N: number, C: number, ridge: number): FilterProblem {
  const rand = mulberry32(seed);
  const samples = new Float64Array(N * C);
  // Correlated columns (a shared mean + noise), like real feature windows.
  const mean = Array.from({ length: C }, () => gaussian(rand));
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) samples[n * C + c] = mean[c]! + 0.5 * gaussian(rand);
  const labels = Float64Array.from({ length: N }, () => rand());
  const prior = Float64Array.from({ length: C }, () => gaussian(rand));
  return { samples, count: N, channels: C, labels, prior, ridge };
}

/** ‖(AᵀA + ρI) z − (Aᵀy + ρ prior)‖_∞ relative to ‖Aᵀy + ρ prior‖_∞: the optimality residual. */
function optimality(p: FilterProblem, z: ArrayLike<number>): number {
  const { samples: A, count: N, channels: C, labels: y, prior, ridge } = p;
  const g = new Float64Array(C);
  const b = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    let e = 0;
    for (let c = 0; c < C; c++) e += A[n * C + c]! * z[c]!;
    for (let c = 0; c < C; c++) {
      g[c] = g[c]! + A[n * C + c]! * e;
      b[c] = b[c]! + A[n * C + c]! * y[n]!;
    }
  }
  for (let c = 0; c < C; c++) {
    g[c] = g[c]! + ridge * z[c]!;
    b[c] = b[c]! + ridge * prior[c]!;
  }
  return maxAbsDiff(g, b) / maxAbs(b);
}

describe('choleskySolve', () => {
  it('solves a known 3×3 SPD system', () => {
    // S = [[4,2,0],[2,5,1],[0,1,3]], x = [1,-1,2] → b = S x = [2,-1,5]
    const S = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
    const x = choleskySolve(S, Float64Array.from([2, -1, 5]), 3);
    expect(maxAbsDiff(x, [1, -1, 2])).toBeLessThan(1e-12);
  });
  it('rejects an indefinite matrix', () => {
    expect(() => choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toThrow(/positive definite/);
  });
});

describe('filter solvers', () => {
  it('closed form satisfies the normal equations', () => {
    const p = randomProblem(1, 200, 40, 0.5);
    const z = solveFilterClosedForm(p);
    expect(optimality(p, z)).toBeLessThan(1e-10);
  });

  it('iterative (CG, 1000 iterations from f_i) reaches the closed-form minimiser', () => {
    const p = randomProblem(2, 300, 64, 1.0);
    const zc = solveFilterClosedForm(p);
    const { filter: zi, iterations } = solveFilterIterative(p);
    expect(iterations).toBeLessThanOrEqual(1000);
    expect(maxAbsDiff(zi, zc) / maxAbs(zc)).toBeLessThan(1e-8);
    expect(Math.abs(filterObjective(p, zi) - filterObjective(p, zc)) / filterObjective(p, zc)).toBeLessThan(1e-12);
    // Any other point has a larger objective (unique minimiser of a strictly convex loss).
    const zp = Float64Array.from(zc, (v, i) => v + (i === 3 ? 1e-3 : 0));
    expect(filterObjective(p, zp)).toBeGreaterThan(filterObjective(p, zc));
  });

  it('plain gradient descent with the safe step decreases the loss towards the same minimiser', () => {
    const p = randomProblem(3, 120, 16, 20);
    const zc = solveFilterClosedForm(p);
    const start = filterObjective(p, p.prior);
    const { filter: zg } = solveFilterIterative(p, { method: 'gd', iterations: 1000 });
    expect(filterObjective(p, zg)).toBeLessThan(start);
    expect(maxAbsDiff(zg, zc) / maxAbs(zc)).toBeLessThan(1e-3);
  });
});

describe('gaussianLabels', () => {
  it('peaks at the centre with value 1 and is e^{-1/2} one σ away', () => {
    const y = gaussianLabels(3, 2);
    expect(y.length).toBe(49);
    expect(y[3 * 7 + 3]).toBe(1);
    expect(y[3 * 7 + 5]).toBeCloseTo(Math.exp(-0.5), 12);
    expect(y[0]).toBeCloseTo(Math.exp(-18 / 8), 12);
  });
});

describe('learnFilter', () => {
  const scene = new SyntheticScene({ channels: 32, size: 24, scale: 4, period: 12 }, mulberry32(7));
  const F0 = scene.render({ x: 0, y: 0 }, { jitter: 0.1, white: 0.05 }, mulberry32(8));
  // 128 channels: the box of native pixels (K ≤ 81) is smaller than C → the K-space solve;
  // 32 channels: the C-space Cholesky.
  const wide = new SyntheticScene({ channels: 128, size: 24, scale: 4, period: 12 }, mulberry32(17));
  const F0wide = wide.render({ x: 0, y: 0 }, { jitter: 0.1, white: 0.05 }, mulberry32(18));

  for (const [F, handle] of [
    [F0, { x: 47.3, y: 46.6 }], // sub-pixel, interior
    [F0, { x: 3, y: 90.25 }], // window crosses the left and bottom borders
    [F0wide, { x: 47.3, y: 46.6 }],
    [F0wide, { x: 93.5, y: 0.75 }],
  ] as const) {
    it(`factorised closed form = dense closed form = iterative, C = ${F.channels}, handle (${handle.x}, ${handle.y})`, () => {
      const C = F.channels;
      const closed = learnFilter(F, handle, { radius: 12 });
      const iter = learnFilter(F, handle, { radius: 12, solver: 'iterative' });
      // The dense problem the factorised path must agree with.
      const side = 25;
      const pts = [];
      const labels = gaussianLabels(12, closed.labelSigma);
      const ys: number[] = [];
      for (let n = 0; n < side * side; n++) {
        const q = { x: handle.x + (n % side) - 12, y: handle.y + Math.floor(n / side) - 12 };
        if (q.x < -0.5 || q.y < -0.5 || q.x > 95.5 || q.y > 95.5) continue;
        pts.push(q);
        ys.push(labels[n]!);
      }
      const A = sampleBilinear(F, pts);
      const dense = solveFilterClosedForm({
        samples: A,
        count: pts.length,
        channels: C,
        labels: ys,
        prior: closed.template,
        ridge: closed.ridge,
      });
      expect(iter.ridge / closed.ridge).toBeCloseTo(1, 5);
      const scale = maxAbs(dense);
      expect(maxAbsDiff(closed.filter, dense) / scale).toBeLessThan(1e-4);
      expect(maxAbsDiff(iter.filter, dense) / scale).toBeLessThan(1e-4);
      expect(iter.iterations).toBeGreaterThan(0);
      expect(closed.iterations).toBe(0);
      // f_i is F0 at the handle, read bilinearly.
      expect(maxAbsDiff(closed.template, sampleBilinear(F, [handle]))).toBe(0);
    });
  }

  it('the learned filter scores the handle above its near-duplicates on the step-0 map', () => {
    const p = { x: 48, y: 48 };
    const m = learnFilter(F0, p, { radius: 12 });
    const resp = (q: { x: number; y: number }): number => {
      const s = sampleBilinear(F0, [q]);
      let g = 0;
      for (let c = 0; c < 32; c++) g += s[c]! * m.filter[c]!;
      return g;
    };
    const centre = resp(p);
    // The ridge (0.1 of the mean eigenvalue) shrinks the fit, so the peak stays below the label's 1.
    expect(centre).toBeGreaterThan(0.2);
    for (const [dx, dy] of [
      [12, 0],
      [-12, 0],
      [0, 12],
      [0, -12],
    ]) {
      expect(resp({ x: p.x + dx!, y: p.y + dy! })).toBeLessThan(centre / 2);
    }
  });

  it('the normaliser keeps exp(−L1/ν) away from underflow for C = 256', () => {
    const F = randomMap(mulberry32(9), 256, 16, 16, 4);
    const p = { x: 30, y: 30 };
    const m = learnFilter(F, p, { radius: 12 });
    const all = sampleBilinear(F, [{ x: 22, y: 30 }, { x: 42, y: 18 }]);
    let raw = 0;
    for (let c = 0; c < 256; c++) raw += Math.abs(all[c]! - m.template[c]!);
    // Why a normaliser is needed: the raw term of Eq. 2 is below float32's smallest normal
    // (1.2e-38; PyTorch would return 0) and invisible next to the filter term.
    expect(Math.exp(-raw)).toBeLessThan(1e-38);
    const t = Math.exp(-raw / m.normaliser);
    expect(t).toBeGreaterThan(0.05);
    expect(t).toBeLessThan(1);
    // ν is the mean L1 distance from f_i to the other window features of F0.
    const pts = [];
    for (let dy = -12; dy <= 12; dy++) for (let dx = -12; dx <= 12; dx++) if (dx || dy) pts.push({ x: 30 + dx, y: 30 + dy });
    const s = sampleBilinear(F, pts);
    let sum = 0;
    for (let n = 0; n < pts.length; n++) for (let c = 0; c < 256; c++) sum += Math.abs(s[n * 256 + c]! - m.template[c]!);
    expect(m.normaliser / (sum / pts.length)).toBeCloseTo(1, 5);
  });
});

describe('input errors', () => {
  const F = randomMap(mulberry32(1), 4, 8, 8, 2);
  it('names the handle whose window is off the map', () => {
    expect(() => learnFilter(F, { x: 20, y: 3 }, {}, 0)).toThrow(/handle 0 .*\(20, 3\)/);
  });
  it('rejects NaN features with where they are', () => {
    const data = F.data.slice();
    data[2 * 64 + 3 * 8 + 4] = NaN;
    const bad: FeatureMap = { ...F, data };
    expect(() => learnFilter(bad, { x: 8, y: 6 })).toThrow(/NaN/);
  });
  it('rejects a data length that does not match the shape', () => {
    expect(() => learnFilter({ ...F, channels: 5 }, { x: 8, y: 6 })).toThrow(/5×8×8/);
  });
  it('rejects non-positive ridge and unknown solvers', () => {
    expect(() => learnFilter(F, { x: 8, y: 6 }, { ridge: 0 })).toThrow(/ridge/);
    // @ts-expect-error testing a runtime check
    expect(() => learnFilter(F, { x: 8, y: 6 }, { solver: 'adam' })).toThrow(/solver/);
  });
});
