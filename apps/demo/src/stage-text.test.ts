import { describe, expect, it } from 'vitest';
import { StageClock, timeLeftMs } from './stage-clock.js';
import { formatDuration, stageText } from './stage-text.js';

describe('stage progress', () => {
  it('estimates the time left from the rate so far', () => {
    expect(timeLeftMs({ step: 5, total: 35, elapsedMs: 1000 })).toBe(6000);
    expect(timeLeftMs({ step: 0, total: 35, elapsedMs: 0 })).toBeNull();
    expect(timeLeftMs({ step: 40, total: 35, elapsedMs: 10 })).toBe(0);
  });

  it('names the stage, counts the steps and says the time left', () => {
    expect(stageText('invert', 7, 35, 700)).toBe('Inverting the photo (DDIM)… 7 / 35 · 2.8 s left');
    expect(stageText('decode', 1, 1, 90)).toBe('Decoding (VAE)…');
    expect(stageText('lora', 80, 80, 60_000)).toBe('Fine-tuning LoRA on the photo… 80 / 80');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(12_400)).toBe('12 s');
  });

  it('times each stage from the end of the one before', () => {
    let t = 100;
    const ticks: { stage: string; elapsedMs: number }[] = [];
    const clock = new StageClock((tick) => ticks.push(tick), () => t);
    clock.start();
    t = 150;
    clock.tick('encode', 1, 1);
    t = 250;
    clock.tick('invert', 1, 2);
    t = 330;
    clock.tick('invert', 2, 2);
    expect(ticks.map((x) => [x.stage, x.elapsedMs])).toEqual([['encode', 50], ['invert', 100], ['invert', 180]]);
    expect(clock.stagesMs).toEqual({ encode: 50, invert: 180 });
  });
});
