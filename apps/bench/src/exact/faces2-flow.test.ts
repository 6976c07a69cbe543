import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneMinusMae } from '../metrics/fidelity.js';
import { loadTasks } from '../tasks.js';
import { GRID, WARP_AMP, displacement, moveByFlow, movedPoint } from './faces2-flow.js';
import { loadExactAnswers } from './load-exact-answers.js';

const dir = join(import.meta.dirname, '..', '..', 'tasks-faces2');

describe('the faces2 displacement field in TypeScript', () => {
  it('a uniform lattice of offsets moves the interior by the offset (the B-spline sums to 1 there)', () => {
    const theta = new Array<number>(59).fill(0).concat(new Array<number>(GRID * GRID).fill(0.5), new Array<number>(GRID * GRID).fill(-0.25));
    for (const [x, y] of [[0, 0], [0.3, -0.2], [-0.5, 0.55]] as const) {
      const [dx, dy] = displacement(theta, x, y);
      expect(dx).toBeCloseTo(0.5 * WARP_AMP, 12);
      expect(dy).toBeCloseTo(-0.25 * WARP_AMP, 12);
    }
  });

  it("moves every handle where the renderer's exact edit lands it (make_exact.py's `landed`, to 0.001 px)", async () => {
    const answers = loadExactAnswers(dir);
    for (const t of await loadTasks(dir)) {
      const a = answers.get(t.id)!;
      t.pairs.forEach((p, i) => {
        const m = movedPoint(a.theta0, a.theta, p.handle, 128);
        expect(Math.hypot(m.x - a.landed[i]!.x, m.y - a.landed[i]!.y)).toBeLessThan(1e-3);
        const h = movedPoint(a.theta0, a.half.theta, p.handle, 128);
        expect(Math.hypot(h.x - a.half.landed[i]!.x, h.y - a.half.landed[i]!.y)).toBeLessThan(1e-3);
      });
    }
  });

  it("moving the renderer's original by the flow gives its exact edit (1 − MAE ≥ 0.99; unmoved: lower)", () => {
    const answers = [...loadExactAnswers(dir).values()].slice(0, 6);
    for (const a of answers) {
      const same = moveByFlow(a.rendererOriginal, a.theta0, a.theta0);
      expect(oneMinusMae(same, a.rendererOriginal).all).toBeGreaterThan(1 - 1e-6);
      const moved = moveByFlow(a.rendererOriginal, a.theta0, a.theta);
      const gain = oneMinusMae(moved, a.rendererEdit).all;
      expect(gain).toBeGreaterThanOrEqual(0.99);
      expect(gain).toBeGreaterThan(oneMinusMae(a.rendererOriginal, a.rendererEdit).all);
    }
  });
});
