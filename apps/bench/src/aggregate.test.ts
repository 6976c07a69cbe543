import { describe, expect, it } from 'vitest';
import { compare, summarise } from './aggregate.js';
import type { BudgetResult, RunRecord } from './runner.js';

function budget(b: number, distances: number[], lengths: number[], extra: Partial<BudgetResult> = {}): BudgetResult {
  return {
    budget: b,
    updates: b,
    converged: false,
    trackerDistances: distances,
    pairs: distances.map((d, i) => ({ length: lengths[i]!, found: { x: 0, y: 0 }, ncc: 0.9, distance: d, texture: 0.1 })),
    ssim: 0.9,
    ssimFixed: null,
    mae1: 0.95,
    mae1Fixed: null,
    mae1Outside: 0.95,
    destroyed: false,
    ...extra,
  };
}

function run(task: string, method: string, budgets: BudgetResult[]): RunRecord {
  return {
    task, method, stopReason: 'max-steps', steps: 10, setupMs: 1, trackerInitMs: 1, supervisorInitMs: 0,
    timings: { forward: 0, track: 0, supervise: 0, backward: 0, optimizer: 0, total: 0, n: 0 },
    branches: { motion: 0, template: 0, none: 0 }, wallMs: 1, maxFeatureRmsRatio: 1, budgets,
  };
}

describe('summarise', () => {
  it('averages MD over pairs (not tasks), buckets by drag length and averages fixed-region scores over masked tasks only', () => {
    const records = [
      run('a', 'm', [budget(10, [1, 3], [5, 25], { ssimFixed: 0.8, mae1Fixed: 0.9 })]),
      run('b', 'm', [budget(10, [8], [15], { ssim: 0.7 })]),
      run('b', 'other', [budget(10, [100], [15])]),
    ];
    const s = summarise(records, 'm', 10)!;
    expect(s.tasks).toBe(2);
    expect(s.pairs).toBe(3);
    expect(s.md).toBeCloseTo(4, 12);
    expect(s.mdShort).toBe(1);
    expect(s.mdMedium).toBe(8);
    expect(s.mdLong).toBe(3);
    expect(s.ssim).toBeCloseTo(0.8, 12);
    expect(s.ssimFixed).toBeCloseTo(0.8, 12);
    expect(s.mae1Fixed).toBeCloseTo(0.9, 12);
    expect(summarise(records, 'm', 99)).toBeNull();
  });
});

describe('compare', () => {
  it('pairs the same handles of the same tasks and counts wins beyond 0.5 px', () => {
    const records = [
      run('a', 'x', [budget(5, [1, 2], [9, 9])]),
      run('a', 'y', [budget(5, [3, 2.2], [9, 9])]),
      run('b', 'x', [budget(5, [4], [9])]),
      run('b', 'y', [budget(5, [2], [9])]),
      run('c', 'x', [budget(5, [4], [9])]), // y did not run c: left out
    ];
    const c = compare(records, 'x', 'y', 5)!;
    expect(c.pairs).toBe(3);
    expect(c.meanDiff).toBeCloseTo((-2 - 0.2 + 2) / 3, 12);
    expect(c.aBetter).toBe(1);
    expect(c.bBetter).toBe(1);
    expect(c.ties).toBe(1);
    expect(c.ci[0]).toBeLessThanOrEqual(c.meanDiff);
    expect(c.ci[1]).toBeGreaterThanOrEqual(c.meanDiff);
  });
});
