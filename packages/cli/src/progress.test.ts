import { describe, expect, it } from 'vitest';
import type { DragStepEvent } from '@stabledrag/core';
import { Sink, runMain } from './__fixtures__/run-main.js';
import { DragProgress } from './progress.js';

function event(step: number, converged: boolean, maxSteps = 300): DragStepEvent {
  const zero = { forward: 1, track: 1, supervise: 1, backward: 1, optimizer: 1, total: 5 };
  return {
    step, maxSteps, converged, points: [{ x: 1, y: 1 }], targets: [{ x: 1, y: 2 }], confidences: [0.9], distances: [1],
    loss: converged ? 0 : 1, branches: [converged ? 'none' : 'motion'], timings: zero, featureRmsRatio: 1,
  };
}

describe('the progress line', () => {
  it('shows the converged event as the final tracking after the steps taken, not as one more step', () => {
    const plain = new Sink();
    const p = new DragProgress(plain);
    for (let s = 1; s <= 30; s++) p.step(event(s, false));
    p.step(event(31, true));
    const lines = plain.text.trim().split('\n');
    expect(lines.at(-2)).toMatch(/^step +30\/300 /);
    expect(lines.at(-1)).toBe('final tracking after 30 steps: distance 1.0 px  confidence 0.90  (every handle at its target; no update)');
    expect(plain.text).not.toMatch(/31/);

    const tty = new Sink(true);
    const q = new DragProgress(tty);
    q.step(event(2, false, 4));
    q.step(event(3, true, 4));
    q.done();
    expect(tty.text).not.toMatch(/3\/4/);
    expect(tty.text).toMatch(/\] final tracking after 2 steps: /);
  });

  it('agrees with the verdict of a real drag', async () => {
    const r = await runMain(['drag', '--model', 'reference', '--seed', '0', '--points', '22,10:34,14', '--steps', '100', '--json']);
    expect(r.code).toBe(0);
    const n = Number(/converged in (\d+) steps/.exec(r.stderr)?.[1]);
    expect(n).toBeGreaterThan(2);
    expect(r.stderr).toMatch(new RegExp(`^final tracking after ${n} steps: `, 'm'));
    const counters = [...r.stderr.matchAll(/^step +(\d+)\//gm)].map((m) => Number(m[1]));
    expect(Math.max(...counters)).toBeLessThanOrEqual(n);
  });
});
