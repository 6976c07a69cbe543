import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { erf } from './exact/erfinv.js';
import { loadExactAnswers } from './exact/load-exact-answers.js';
import { defaultTaskSets, modelRenderer } from './task-sets.js';
import { type BenchTask, loadTasks, pairLength } from './tasks.js';

const benchDir = join(import.meta.dirname, '..');

describe('task sets by renderer', () => {
  it("reads the renderer from model.json's z_distribution and picks its sets", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-model-'));
    try {
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ z_distribution: 'z ~ N(0, I) (theta = erf(z / sqrt(2)), see tools/dataset/faces2.py PARAM_NAMES)' }));
      expect(modelRenderer(dir)).toBe('faces2');
      expect(defaultTaskSets(benchDir, 'faces2').tasks).toMatch(/tasks-faces2$/);
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ z_distribution: 'z ~ N(0, I)' }));
      expect(modelRenderer(dir)).toBeNull();
      expect(defaultTaskSets(benchDir, null)).toEqual({ tasks: join(benchDir, 'tasks'), long: null, medium: null, short2: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the embedded default model (the faces2 generator) gets the faces2 sets', () => {
    expect(modelRenderer(join(benchDir, '..', '..', 'packages', 'backends-gan', 'models', 'default'))).toBe('faces2');
  });
});

describe('the faces2 task sets', () => {
  it('short set: ~60 tasks, each with an exact answer that lands on its targets inside the training range', async () => {
    await expectShortSet('tasks-faces2');
  });

  it('second short set: the same on faces (seeds 200+) no other set uses', async () => {
    const tasks = await expectShortSet('tasks-faces2-short2');
    expect(Math.min(...tasks.map((t) => t.seed))).toBeGreaterThanOrEqual(200);
    for (const other of ['tasks-faces2', 'tasks-faces2-long', 'tasks-faces2-medium']) {
      expect(Math.max(...(await loadTasks(join(benchDir, other))).map((t) => t.seed))).toBeLessThan(200);
    }
  });

  it("short set: θ0 is the backend's seed z through erf (seed-z.ts's draw)", async () => {
    const { createNormalRng } = await import('@stabledrag/core');
    const answers = loadExactAnswers(join(benchDir, 'tasks-faces2'));
    const a = answers.values().next().value!;
    const rng = createNormalRng(a.seed);
    for (let i = 0; i < 131; i++) expect(a.theta0[i]!).toBeCloseTo(erf(rng() / Math.SQRT2), 6);
  });

  it('long set: ~60 one-pair drags of 20–60 px inside the image', async () => {
    await expectOnePairDrags('tasks-faces2-long', 20, 60);
  });

  it('medium set: ~60 one-pair drags of 10–20 px inside the image, between the other two', async () => {
    await expectOnePairDrags('tasks-faces2-medium', 10, 20);
  });
});

/** A set of ≥ 50 one-pair drags of min–max px (±0.5 for the rounding to whole pixels) inside the 128-px image. */
async function expectOnePairDrags(folder: string, min: number, max: number): Promise<void> {
  const tasks = await loadTasks(join(benchDir, folder));
  expect(tasks.length).toBeGreaterThanOrEqual(50);
  for (const t of tasks) {
    expect(t.pairs.length).toBe(1);
    expect(pairLength(t.pairs[0]!)).toBeGreaterThanOrEqual(min - 0.5);
    expect(pairLength(t.pairs[0]!)).toBeLessThanOrEqual(max + 0.5);
    for (const q of [t.pairs[0]!.handle, t.pairs[0]!.target]) for (const v of [q.x, q.y]) expect(v >= 0 && v <= 127).toBe(true);
  }
}

/** A short set: ≥ 50 tasks (masked and two-pair ones among them), each with an exact answer that lands on its targets inside |θ| ≤ 1. */
async function expectShortSet(folder: string): Promise<BenchTask[]> {
  const dir = join(benchDir, folder);
  const tasks = await loadTasks(dir);
  const answers = loadExactAnswers(dir);
  expect(tasks.length).toBeGreaterThanOrEqual(50);
  expect(tasks.filter((t) => t.mask).length).toBeGreaterThanOrEqual(8);
  expect(tasks.filter((t) => t.pairs.length === 2).length).toBeGreaterThanOrEqual(8);
  for (const t of tasks) {
    const a = answers.get(t.id)!;
    expect(a.seed).toBe(t.seed);
    expect(a.theta.length).toBe(131);
    expect(Math.max(...a.theta.map(Math.abs))).toBeLessThanOrEqual(1);
    t.pairs.forEach((p, i) => {
      expect(pairLength(p)).toBeGreaterThanOrEqual(2.5);
      expect(pairLength(p)).toBeLessThanOrEqual(16.5);
      expect(Math.hypot(a.landed[i]!.x - p.target.x, a.landed[i]!.y - p.target.y)).toBeLessThanOrEqual(0.25);
    });
    expect(a.rendererEdit.width).toBe(128);
  }
  return tasks;
}
