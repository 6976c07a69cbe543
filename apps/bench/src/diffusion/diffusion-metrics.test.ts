import { describe, expect, it } from 'vitest';
import { warp, type FloatImage } from '../image.js';
import type { RunRecord } from '../runner.js';
import { editRegionMask } from './edit-region-mask.js';
import type { DiffusionRunRecord, DiffusionTaskRecord } from './run-diffusion-task.js';
import { scoreDiffusionEdit, type DiffusionEditScore } from './score-diffusion-edit.js';
import { pairedDifferences, summariseScores, timeSplit } from './summarise-diffusion.js';

/** A smooth, textured test image (sums of sines per channel), size × size. */
function texture(size: number): FloatImage {
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        data[c * size * size + y * size + x] = 0.5 + 0.2 * Math.sin(0.37 * x + 1.3 * c) * Math.cos(0.29 * y - c) + 0.15 * Math.sin(0.11 * (x + 2 * y) + c);
      }
    }
  }
  return { data, width: size, height: size };
}

const score = (distances: number[], fidelity = 0.9, exact: number[] | null = null): DiffusionEditScore => ({
  pairs: distances.map((d, i) => ({ length: 8, found: { x: 0, y: 0 }, ncc: 1, texture: 0.1, distance: d, exactDistance: exact ? exact[i]! : null })),
  outsideMae1: fidelity,
  outsideSsim: fidelity,
  exactMae1: null,
  exactSsim: null,
});

describe('scoreDiffusionEdit', () => {
  const size = 64;
  const source = texture(size);
  const handle = { x: 30, y: 32 };
  const target = { x: 36, y: 32 };
  it('finds content moved by a whole-image shift, against the target and the exact landing point', () => {
    const shifted = warp(source, () => [6, 0]);
    const region = editRegionMask([{ handle, target }], size, size);
    const s = scoreDiffusionEdit({ source, edited: shifted, exact: shifted, pairs: [{ handle, target, landed: { x: 36.5, y: 32 } }], region });
    expect(s.pairs[0]!.distance).toBeLessThan(0.2);
    expect(s.pairs[0]!.exactDistance!).toBeGreaterThan(0.3);
    expect(s.pairs[0]!.exactDistance!).toBeLessThan(0.7);
    // the edit is its own exact answer: perfect similarity inside the region
    expect(s.exactMae1).toBeCloseTo(1, 6);
    expect(s.exactSsim).toBeCloseTo(1, 6);
    // a shift changes the pixels outside the region too
    expect(s.outsideMae1!).toBeLessThan(0.99);
  });
  it('gives outside fidelity 1 when only the edit region changed, and no exact scores without an exact edit', () => {
    const region = editRegionMask([{ handle, target }], size, size);
    const edited = { ...source, data: new Float32Array(source.data) };
    for (let c = 0; c < 3; c++) for (let i = 0; i < size * size; i++) if (region.data[i] === 1) edited.data[c * size * size + i] = 0;
    const s = scoreDiffusionEdit({ source, edited, pairs: [{ handle, target }], region });
    expect(s.outsideMae1).toBeCloseTo(1, 6);
    expect(s.exactMae1).toBeNull();
    expect(s.pairs[0]!.exactDistance).toBeNull();
  });
});

describe('editRegionMask', () => {
  it('covers the drag segment within the radius and the mask\'s editable part', () => {
    const mask = { data: new Uint8Array(64 * 64), width: 64, height: 64 };
    mask.data[60 * 64 + 60] = 1;
    const r = editRegionMask([{ handle: { x: 10, y: 10 }, target: { x: 20, y: 10 } }], 64, 64, mask, 5);
    expect(r.data[14 * 64 + 15]).toBe(1); // 4 px from the segment's middle
    expect(r.data[16 * 64 + 15]).toBe(0); // 6 px
    expect(r.data[10 * 64 + 26]).toBe(0); // 6 px beyond the target
    expect(r.data[60 * 64 + 60]).toBe(1);
  });
});

describe('summariseScores', () => {
  it('averages distances over pairs (a two-pair task counts twice) and fidelity over tasks', () => {
    const s = summariseScores([score([1, 2], 0.8), score([6], 1)])!;
    expect(s.md).toBeCloseTo(3, 10);
    expect(s.outsideMae1).toBeCloseTo(0.9, 10);
    expect(s.mdExact).toBeNull();
    expect(s.pairs).toBe(3);
  });
});

function run(task: string, method: string, distances: number[], fidelity: number, step = 10): DiffusionRunRecord {
  const base: RunRecord = {
    task, method, stopReason: 'max-steps', steps: 4, setupMs: 0, trackerInitMs: 0, supervisorInitMs: 0,
    timings: { forward: 4 * step * 0.3, track: 0, supervise: 0, backward: 4 * step * 0.7, optimizer: 0, total: 4 * step, n: 4 },
    branches: { motion: 4, template: 0, none: 0 }, wallMs: 1000, maxFeatureRmsRatio: 1, budgets: [],
  };
  return { ...base, scores: [{ budget: 4, score: score(distances, fidelity, distances) }], denoiseMs: 200, decodeMs: 50, peakRssMiB: 100 };
}

describe('pairedDifferences', () => {
  it('pairs by task and pair, signs a − b, and gives an interval around the mean difference', () => {
    const runs: DiffusionRunRecord[] = [];
    for (let i = 0; i < 12; i++) {
      const d = [3 + (i % 3), 5];
      runs.push(run(`t${i}`, 'b', d, 0.9));
      runs.push(run(`t${i}`, 'a', d.map((v, k) => v - 1 - 0.1 * ((i + k) % 2)), 0.92));
    }
    const diffs = pairedDifferences(runs, 'a', 'b', 4);
    const md = diffs.find((d) => d.metric === 'md')!;
    expect(md.meanDiff).toBeCloseTo(-1.05, 10);
    expect(md.ci[0]).toBeLessThanOrEqual(md.meanDiff);
    expect(md.ci[1]).toBeGreaterThanOrEqual(md.meanDiff);
    expect(md.ci[1]).toBeLessThan(0);
    expect(md.n).toBe(24);
    expect(md.tasks).toBe(12);
    const fid = diffs.find((d) => d.metric === 'outsideMae1')!;
    expect(fid.meanDiff).toBeCloseTo(0.02, 10);
    expect(fid.n).toBe(12);
    // no exact-edit similarity in these scores: that measure is left out, not reported as 0
    expect(diffs.find((d) => d.metric === 'exactSsim')).toBeUndefined();
  });
  it('ignores tasks only one method ran', () => {
    const diffs = pairedDifferences([run('t0', 'a', [1], 0.9), run('t1', 'b', [2], 0.9)], 'a', 'b', 4);
    expect(diffs).toEqual([]);
  });
});

describe('timeSplit', () => {
  it('gives per-step means over the updates and adds the task\'s preparation to the whole edit', () => {
    const task: DiffusionTaskRecord = { task: 't0', name: 't0', pairs: 1, masked: false, encodeMs: 30, invertMs: 700, loraMs: 0, reconstruction: score([1]), noEdit: score([8]), exactEdit: null };
    const t = timeSplit([task], [run('t0', 'a', [1], 0.9, 10), run('t0', 'b', [1], 0.9)], 'a')!;
    expect(t.step.total).toBeCloseTo(10, 10);
    expect(t.step.backward).toBeCloseTo(7, 10);
    expect(t.editMs).toBeCloseTo(30 + 700 + 1000 + 200 + 50, 10);
    expect(t.runs).toBe(1);
  });
});
