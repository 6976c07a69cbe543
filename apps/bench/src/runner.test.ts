import { describe, expect, it } from 'vitest';
import { GaussianBlobBackend } from '@stabledrag/core/reference';
import { NearestNeighbourTracker } from '@stabledrag/tracker';
import type { BuiltMethod, MethodSpec } from './methods.js';
import { prepareTask, runDrag } from './runner.js';
import { StandInMotionSupervision } from './standin-supervision.js';
import type { BenchTask } from './tasks.js';

const spec: MethodSpec = { id: 'stand-in', label: 'stand-in', name: 'draggan' };
const build = (): BuiltMethod => ({
  tracker: new NearestNeighbourTracker({ radius: 4 }),
  supervisor: new StandInMotionSupervision(3),
  label: 'stand-in',
  standIn: true,
});

async function blobTask(backend: GaussianBlobBackend, dx: number): Promise<BenchTask> {
  const latent = await backend.createLatent({ type: 'seed', seed: 5 });
  const h = { x: Math.round(latent.optimized[0]!), y: Math.round(latent.optimized[1]!) };
  return { id: 'blob', name: 'blob', part: 'blob', seed: 5, pairs: [{ handle: h, target: { x: h.x + dx, y: h.y } }] };
}

describe('runDrag', () => {
  it('scores the snapshot of a budget exactly as a run capped at that budget', async () => {
    const backend = new GaussianBlobBackend({ size: 64, distractors: 0 });
    const task = await blobTask(backend, 10);
    const prepared = await prepareTask(backend, task);
    const long = await runDrag(backend, prepared, spec, build(), [3, 6]);
    const short = await runDrag(backend, prepared, spec, build(), [3]);
    expect(long.budgets.map((b) => b.budget)).toEqual([3, 6]);
    expect(long.budgets[0]!.updates).toBe(3);
    expect(long.budgets[0]!.pairs[0]!.found).toEqual(short.budgets[0]!.pairs[0]!.found);
    expect(long.budgets[0]!.ssim).toBe(short.budgets[0]!.ssim);
    // and the longer budget has moved on
    expect(long.budgets[1]!.pairs[0]!.distance).not.toBe(long.budgets[0]!.pairs[0]!.distance);
  });

  it('measures the drag with NCC: a blob dragged to its target scores a small Mean Distance', async () => {
    const backend = new GaussianBlobBackend({ size: 64, distractors: 0 });
    const task = await blobTask(backend, 10);
    const prepared = await prepareTask(backend, task);
    const centres: number[][] = [];
    const r = await runDrag(backend, prepared, spec, build(), [0, 200], {
      onImage: (_b, _img, latent) => centres.push([latent.optimized[0]!, latent.optimized[1]!]),
    });
    const start = r.budgets[0]!;
    const end = r.budgets[1]!;
    expect(start.updates).toBe(0);
    expect(start.pairs[0]!.distance).toBeCloseTo(10, 0);
    expect(start.ssim).toBeCloseTo(1, 10);
    expect(r.stopReason).toBe('converged');
    // converged = tracked within 2 px; the blob really moved, by NCC's independent measure
    // The blob centre is the latent itself, so the true motion of the handle's content is the
    // motion of the centre: NCC must recover it to a fraction of a pixel.
    const [x0, y0] = centres[0]!;
    const [x1, y1] = centres[1]!;
    const h = task.pairs[0]!.handle;
    const f = end.pairs[0]!.found;
    expect(Math.hypot(f.x - h.x - (x1! - x0!), f.y - h.y - (y1! - y0!))).toBeLessThan(0.1);
    expect(end.pairs[0]!.distance).toBeLessThan(3);
    expect(end.ssim).toBeLessThan(1);
    expect(r.timings.n).toBe(r.steps);
    expect(r.branches.motion).toBe(r.steps);
  });
});
