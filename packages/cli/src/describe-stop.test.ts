import { describe, expect, it } from 'vitest';
import type { DragResult } from '@stabledrag/core';
import { describeStop } from './commands/drag.js';
import { ExitCode } from './errors.js';

function result(stopReason: DragResult['stopReason'], s1: number[], last: number[], steps = 30, bestStep = steps): Pick<DragResult, 'stopReason' | 'steps' | 'history' | 'bestStep'> {
  const event = (confidences: number[]) => ({ confidences }) as unknown as DragResult['history'][number];
  return { stopReason, steps, bestStep, history: [event(s1), event(last)] };
}

describe('describeStop', () => {
  it('says "converged" only when every handle is at its target with confidence above τ·s_1', () => {
    expect(describeStop(result('converged', [1, 0.9], [0.8, 0.5]), 0.4)).toBe('converged in 30 steps');
    const low = describeStop(result('converged', [1, 0.9], [0.8, 0.3]), 0.4);
    expect(low).not.toMatch(/converged/);
    expect(low).toMatch(/^reached the targets in 30 steps, but with low confidence \(handle 2 0\.30 < 0\.36/);
    expect(low.includes('\n')).toBe(false);
  });

  it('names the other stops, the kept step of a diverged drag included', () => {
    expect(describeStop(result('diverged', [1], [1], 120, 87), 0.4)).toBe('diverged after 120 steps (kept step 87)');
    expect(describeStop(result('max-steps', [1], [1], 300), 0.4)).toBe('stopped at the step limit (300)');
    expect(describeStop(result('aborted', [1], [1], 12), 0.4)).toBe('interrupted after 12 steps');
    expect(ExitCode.DIVERGED).toBe(4);
  });
});
