import { describe, expect, it } from 'vitest';
import type { DragPair, Point } from '@stabledrag/core';
import { warp, type FloatImage } from '../image.js';
import type { BudgetResult, RunRecord } from '../runner.js';
import { measureExactLocatorError } from './exact-locator-error.js';
import type { ExactAnswer } from './load-exact-answers.js';
import { renderExactSection } from './render-exact-section.js';
import { scoreExact, type ExactScore, type PreparedExact } from './score-exact.js';
import { measureGap, pairedExact, summariseExact } from './summarise-exact.js';

/** A smooth, textured 64 × 64 test image (no two patches alike). */
function texture(): FloatImage {
  const S = 64;
  const data = new Float32Array(3 * S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) data[c * S * S + y * S + x] = 0.5 + 0.25 * Math.sin(0.31 * x + 0.17 * y * (c + 1) + c) * Math.cos(0.23 * y - 0.11 * x * (2 - c));
    }
  }
  return { data, width: S, height: S };
}

/** out(p) = in(p − s·g(p)), g a Gaussian (σ 10 px) centred on the destination: the content at h moves to h + s. */
function localMove(img: FloatImage, h: Point, s: Point): FloatImage {
  const d = { x: h.x + s.x, y: h.y + s.y };
  return warp(img, (x, y) => {
    const g = Math.exp(-((x - d.x) ** 2 + (y - d.y) ** 2) / 200);
    return [s.x * g, s.y * g];
  });
}

const H: Point = { x: 30, y: 32 };
const T: Point = { x: 37, y: 29 };
const pairs: DragPair[] = [{ handle: H, target: T }];

function prepared(): { original: FloatImage; exact: PreparedExact } {
  const original = texture();
  const edit = localMove(original, H, { x: T.x - H.x, y: T.y - H.y });
  const half = localMove(original, H, { x: (T.x - H.x) / 2, y: (T.y - H.y) / 2 });
  const answer: ExactAnswer = {
    seed: 0, theta0: [], theta: [], landed: [T],
    half: { theta: [], landed: [{ x: (H.x + T.x) / 2, y: (H.y + T.y) / 2 }] },
    rendererEdit: edit, rendererOriginal: original,
  };
  return { original, exact: { answer, model: { edit, half, rendered: edit } } };
}

describe('exact-answer measures', () => {
  it("find the handle's content where it is: at the target in the exact edit's twin, half way in a half-way edit, at the handle unedited", () => {
    const { original, exact } = prepared();
    const atTarget = scoreExact(pairs, exact, exact.model.edit);
    expect(atTarget.pairs[0]!.distance).toBeLessThan(0.05);
    expect(atTarget.ssim).toBeCloseTo(1, 6);
    expect(atTarget.mae1).toBeCloseTo(1, 6);
    const half = scoreExact(pairs, exact, exact.model.half);
    const mid = exact.answer.half.landed[0]!;
    // the template shows the content squeezed by a full 7.6 px move, the image by half of it
    expect(Math.hypot(half.pairs[0]!.found.x - mid.x, half.pairs[0]!.found.y - mid.y)).toBeLessThan(0.75);
    const none = scoreExact(pairs, exact, original);
    expect(Math.hypot(none.pairs[0]!.found.x - H.x, none.pairs[0]!.found.y - H.y)).toBeLessThan(0.5);
    expect(none.ssim).toBeLessThan(half.ssim);
  });

  it('measure their own error on the known-answer images: small for both locators here', () => {
    const { original, exact } = prepared();
    const err = measureExactLocatorError([{ pairs, original, exact }]);
    expect(err.cases).toHaveLength(7);
    expect(err.patch).toBeLessThan(0.75);
    expect(err.exact).toBeLessThan(0.75);
    for (const c of err.cases) expect(c.n).toBe(1);
  });
});

/** A run record with the given per-budget MD by patch matching, MD exact and SSIM to the exact edit. */
function record(task: string, method: string, rows: [number, number, number, number][]): RunRecord {
  const budgets = rows.map(([budget, md, mdExact, s]): BudgetResult => {
    const exact: ExactScore = { pairs: [{ found: T, distance: mdExact, ncc: 1 }], ssim: s, mae1: s, ssimRenderer: s, mae1Renderer: s };
    return {
      budget, updates: budget, converged: false, trackerDistances: [md], ssim: s, ssimFixed: null, mae1: s, mae1Fixed: null, mae1Outside: 1, destroyed: false,
      pairs: [{ length: 10, found: T, ncc: 1, distance: md, texture: 0.1 }], exact,
    };
  });
  const timings = { forward: 0, track: 0, supervise: 0, backward: 0, optimizer: 0, total: 0, n: 0 };
  return { task, method, stopReason: 'max-steps', steps: 60, setupMs: 0, trackerInitMs: 0, supervisorInitMs: 0, timings, branches: { motion: 0, template: 0, none: 0 }, wallMs: 0, maxFeatureRmsRatio: 1, budgets };
}

describe('exact-answer aggregation', () => {
  const records = [
    record('a', 'draggan', [[0, 10, 10, 0.8], [60, 3, 2, 0.9]]),
    record('b', 'draggan', [[0, 10, 10, 0.8], [60, 5, 4, 0.92]]),
    record('a', 'stabledrag', [[0, 10, 10, 0.8], [60, 2, 2, 0.95]]),
    record('b', 'stabledrag', [[0, 10, 10, 0.8], [60, 4, 3, 0.94]]),
  ];

  it('summarises MD by both measures, as a share of the drag length, and the similarity to the exact edit', () => {
    const s = summariseExact(records, 'draggan', 60)!;
    expect(s).toMatchObject({ tasks: 2, pairs: 2, meanLength: 10, md: 3, mdPatch: 4 });
    expect(s.ssim).toBeCloseTo(0.91, 12);
    expect(summariseExact(records, 'draggan', 40)).toBeNull();
  });

  it('pairs methods, budgets and the two measures task by task', () => {
    expect(pairedExact(records, 'md', 'stabledrag', 60, 'draggan', 60)!.mean).toBeCloseTo(-0.5, 12);
    expect(pairedExact(records, 'mdPatch', 'stabledrag', 60, 'draggan', 60)!.mean).toBeCloseTo(-1, 12);
    const gain = pairedExact(records, 'ssim', 'draggan', 60, 'draggan', 0)!;
    expect(gain.mean).toBeCloseTo(0.11, 12);
    expect(gain.ci[0]).toBeLessThanOrEqual(gain.mean);
    expect(measureGap(records, 'draggan', 60)!.mean).toBe(1);
  });

  it('renders the section with the done-when verdict, nothing without exact scores', () => {
    const locator = { cases: [], patch: 0.5, exact: 0.4 };
    const methods = [{ id: 'draggan', label: 'DragGAN' }, { id: 'stabledrag', label: 'StableDrag' }];
    const lines = renderExactSection({ records, methods, budgets: [60], midBudget: 60, locator }).join('\n');
    expect(lines).toContain('## Exact answers');
    expect(lines).toMatch(/DragGAN at 60 steps: MD 4\.00 px by patch matching and 3\.00 px by the exact template, 40 % and 30 % of the 10\.00 px drags \(not both below 40 %\); the measures differ by 1\.00 px \(beyond the stated 0\.90 px\)/);
    expect(lines).toMatch(/StableDrag at 60 steps: .*\(both below 40 %\).*\(within the stated 0\.90 px\)/);
    const bare = records.map((r) => ({ ...r, budgets: r.budgets.map(({ exact: _e, ...b }) => b) }));
    expect(renderExactSection({ records: bare, methods, budgets: [60], midBudget: 60, locator })).toEqual([]);
  });
});
