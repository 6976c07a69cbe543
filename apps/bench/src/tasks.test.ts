import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTasks, pairLength } from './tasks.js';

describe('the benchmark task set', () => {
  it('has at least 50 valid tasks with 1–3 in-image pairs, short to long drags, some masked', async () => {
    const tasks = await loadTasks(join(import.meta.dirname, '..', 'tasks'));
    expect(tasks.length).toBeGreaterThanOrEqual(50);
    const lengths = tasks.flatMap((t) => t.pairs.map(pairLength));
    for (const t of tasks) {
      expect(t.pairs.length).toBeGreaterThanOrEqual(1);
      expect(t.pairs.length).toBeLessThanOrEqual(3);
      for (const p of t.pairs) {
        for (const q of [p.handle, p.target]) {
          expect(q.x).toBeGreaterThanOrEqual(0);
          expect(q.x).toBeLessThanOrEqual(127);
          expect(q.y).toBeGreaterThanOrEqual(0);
          expect(q.y).toBeLessThanOrEqual(127);
        }
      }
      if (t.mask) {
        expect(t.mask.width).toBe(128);
        // every handle and target lies in the editable region
        for (const p of t.pairs) {
          expect(t.mask.data[p.handle.y * 128 + p.handle.x]).toBe(1);
          expect(t.mask.data[p.target.y * 128 + p.target.x]).toBe(1);
        }
      }
    }
    expect(Math.min(...lengths)).toBeLessThanOrEqual(6);
    expect(Math.max(...lengths)).toBeGreaterThanOrEqual(24);
    expect(tasks.filter((t) => t.mask).length).toBeGreaterThanOrEqual(8);
    expect(new Set(tasks.map((t) => t.part)).size).toBeGreaterThanOrEqual(10);
  });
});
