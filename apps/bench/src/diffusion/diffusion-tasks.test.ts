import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toFloat } from '../image.js';
import { locatePatch } from '../metrics/ncc.js';
import { loadDiffusionTasks } from './load-diffusion-tasks.js';

const dir = resolve(__dirname, '..', '..', 'tasks-diffusion');

describe('the diffusion task set (tasks-diffusion/, make_diffusion_tasks.py)', () => {
  const tasks = loadDiffusionTasks(join(dir, 'tasks.json'), 128);
  it('has 24 renderer tasks of 6–20 px drags, some with two pairs, some with a mask, each with an exact edit', () => {
    expect(tasks).toHaveLength(24);
    const lengths = tasks.flatMap((t) => t.pairs.map((p) => Math.hypot(p.target.x - p.handle.x, p.target.y - p.handle.y)));
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(5.5);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(20.5);
    expect(tasks.filter((t) => t.pairs.length === 2).length).toBeGreaterThanOrEqual(4);
    expect(tasks.filter((t) => t.mask).length).toBeGreaterThanOrEqual(4);
    for (const t of tasks) {
      expect(t.source.width).toBe(128);
      expect(t.exact?.width).toBe(128);
      // the exact edit lands each handle's content on its target (exact_edit.py's residual)
      for (const p of t.pairs) expect(Math.hypot(p.landed!.x - p.target.x, p.landed!.y - p.target.y)).toBeLessThanOrEqual(0.25);
    }
  });
  it('the patch matcher finds the handles\' content in the exact edits where the renderer put it', () => {
    const errors = tasks.flatMap((t) => t.pairs.map((p) => {
      const r = locatePatch(toFloat(t.source), toFloat(t.exact!), p.handle, p.target);
      return Math.hypot(r.point.x - p.landed!.x, r.point.y - p.landed!.y);
    }));
    expect(errors.reduce((a, b) => a + b, 0) / errors.length).toBeLessThan(0.5);
    expect(errors.filter((e) => e > 2).length).toBeLessThanOrEqual(1);
  });
  it('scales points with the model: a 64-px model gets half-size coordinates', () => {
    const small = loadDiffusionTasks(join(dir, 'tasks.json'), 64, 1)[0]!;
    const big = tasks[0]!;
    expect(small.source.width).toBe(64);
    expect(small.pairs[0]!.landed!.x).toBeCloseTo((big.pairs[0]!.landed!.x + 0.5) / 2 - 0.5, 6);
  });
  it('has the photographs with their licence note', () => {
    const photos = loadDiffusionTasks(join(dir, 'photos', 'photos.json'), 128);
    expect(new Set(photos.map((t) => t.id.split('-')[0]))).toEqual(new Set(['astronaut', 'chelsea', 'coffee']));
    expect(photos.every((t) => t.exact === undefined && t.source.width === 128)).toBe(true);
    expect(readFileSync(join(dir, 'photos', 'LICENSES.md'), 'utf8')).toMatch(/CC0/);
  });
});
