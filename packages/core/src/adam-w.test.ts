import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Adam } from './adam.js';
import { AdamW } from './adam-w.js';
import { expectAllClose } from './all-close.js';

// Recorded from torch.optim.AdamW(lr=0.05, weight_decay=0.5) by __fixtures__/adamw-golden.py.
const golden = JSON.parse(readFileSync(new URL('./__fixtures__/adamw-golden.json', import.meta.url), 'utf8')) as {
  grad: number[];
  param: number[];
}[];

describe('AdamW', () => {
  it('matches PyTorch AdamW to 1e-6 over five steps of a worked example', () => {
    const params = Float32Array.from([0.5, -1.25, 2.0, 0.0, 3.5]);
    const opt = new AdamW(params.length, { lr: 0.05, weightDecay: 0.5 });
    for (const rec of golden) {
      opt.step(params, Float32Array.from(rec.grad));
      expectAllClose(params, rec.param, { atol: 1e-6, rtol: 0 });
    }
    expect(opt.steps).toBe(5);
  });

  it('is Adam when the weight decay is 0, and defaults to PyTorch\'s 1e-2', () => {
    const a = Float32Array.from([1, -2, 3]);
    const b = new Float32Array(a);
    const g = Float32Array.from([0.3, -0.1, 2]);
    new AdamW(3, { lr: 0.1, weightDecay: 0 }).step(a, g);
    new Adam(3, { lr: 0.1 }).step(b, g);
    expectAllClose(a, b, { atol: 0, rtol: 0 });
    expect(new AdamW(1, { lr: 1 }).weightDecay).toBe(1e-2);
  });

  it('rejects a negative weight decay and mismatched sizes without touching the parameters', () => {
    expect(() => new AdamW(2, { lr: 0.1, weightDecay: -1 })).toThrow(/weight decay/);
    const p = Float32Array.from([1, 2]);
    expect(() => new AdamW(2, { lr: 0.1 }).step(p, new Float32Array(3))).toThrow(/expected 2/);
    expect([...p]).toEqual([1, 2]);
  });
});
