import { describe, expect, it } from 'vitest';
import { Sink } from './__fixtures__/run-main.js';
import { StageProgress, formatSeconds } from './stage-progress.js';

describe('StageProgress', () => {
  it('prints step k/n with the time left from the mean step so far, and times each stage', () => {
    let now = 0;
    const sink = new Sink();
    const p = new StageProgress(sink, { now: () => now });
    p.begin('lora');
    for (let step = 1; step <= 20; step++) {
      now += 500;
      p.update('lora', step, 20, 'loss 0.1');
    }
    // A stage ends at its last step; the next begins there, so its first report already has an estimate.
    now += 100;
    p.update('invert', 1, 35);
    now += 100;
    p.end();
    const lines = sink.text.trimEnd().split('\n');
    // Step 1 of 20 after 0.5 s: 19 × 0.5 s = 9.5 s left; every 10th step and the last are printed.
    expect(lines).toEqual(['LoRA fine-tuning  1/20 9.5 s left  loss 0.1', 'LoRA fine-tuning 10/20 5.0 s left  loss 0.1', 'LoRA fine-tuning 20/20  loss 0.1', 'DDIM inversion  1/35 3.4 s left']);
    // LoRA ended with its last step; the 100 ms up to the first inversion report were inversion's first step.
    expect(p.timings).toEqual({ lora: 10_000, invert: 200 });
    expect(p.lastStage).toBe('invert');
  });

  it('redraws one line on a terminal, stays silent when quiet, and adds repeated stages up', () => {
    let now = 0;
    const tty = new Sink(true);
    const p = new StageProgress(tty, { now: () => now });
    p.begin('denoise');
    now += 10;
    p.update('denoise', 1, 2);
    p.end();
    expect(tty.text).toBe('\r\x1b[2Kdenoise 1/2 0.0 s left\n');
    const quiet = new StageProgress(undefined, { now: () => now });
    quiet.begin('denoise');
    now += 30;
    quiet.end();
    quiet.begin('denoise');
    now += 12;
    quiet.add('gif', 5);
    quiet.end();
    expect(quiet.timings).toEqual({ denoise: 42, gif: 5 });
    expect(formatSeconds(125_000)).toBe('2 min 05 s');
  });
});
