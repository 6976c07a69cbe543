import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Adam } from './adam.js';
import { expectAllClose } from './all-close.js';

// Recorded from torch.optim.Adam(lr=0.01) by __fixtures__/adam-golden.py.
const golden = JSON.parse(readFileSync(new URL('./__fixtures__/adam-golden.json', import.meta.url), 'utf8')) as {
  grad: number[];
  param: number[];
}[];

describe('Adam', () => {
  it('matches PyTorch Adam to 1e-6 over five steps of a worked example', () => {
    const params = Float32Array.from([0.5, -1.25, 2.0, 0.0, 3.5]);
    const adam = new Adam(params.length, { lr: 0.01 });
    for (const rec of golden) {
      adam.step(params, Float32Array.from(rec.grad));
      expectAllClose(params, rec.param, { atol: 1e-6, rtol: 0 });
    }
    expect(adam.steps).toBe(5);
  });

  it('rejects mismatched sizes and a bad learning rate', () => {
    expect(() => new Adam(2, { lr: 0 })).toThrow(/positive/);
    expect(() => new Adam(2, { lr: 0.1 }).step(new Float32Array(2), new Float32Array(3))).toThrow(/expected 2/);
  });
});
