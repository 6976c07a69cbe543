import { describe, expect, it } from 'vitest';
import { parseSession, serializeSession } from './session-file.js';
import type { DragSettings } from './session-file.js';

const settings: DragSettings = {
  method: 'stabledrag', discriminative: true, confident: false, steps: 200, lr: 0.001, r1: 2, r2: 6,
  lambda: 0.3, tau: 0.4, maskWeight: 20, stopDistance: 2,
};

describe('session files', () => {
  it('round-trip latents bit-exactly, pairs, mask and settings', () => {
    const optimized = new Float32Array([1.5, -0, Math.PI, 3.4e38, -1e-40]);
    const text = serializeSession({
      model: '/models/x',
      modelName: 'x',
      seed: 4,
      truncation: 0.7,
      latent: { optimized, frozen: new Float32Array([7]), meta: { seed: 4, rows: [1, 2] } },
      pairs: [{ handle: { x: 10.25, y: 11 }, target: { x: 20, y: 11 } }],
      initialPairs: [{ handle: { x: 5, y: 11 }, target: { x: 20, y: 11 } }],
      mask: { width: 2, height: 2, data: new Uint8Array([0, 1, 1, 0]) },
      settings,
      result: { stopReason: 'max-steps', steps: 200 },
    });
    const back = parseSession(JSON.parse(text), 's.json');
    expect([...back.latent.optimized]).toEqual([...optimized]);
    expect(Object.is(back.latent.optimized[1], -0)).toBe(true);
    expect([...back.latent.frozen]).toEqual([7]);
    expect(back.latent.meta).toEqual({ seed: 4, rows: [1, 2] });
    expect(back.pairs).toEqual([{ handle: { x: 10.25, y: 11 }, target: { x: 20, y: 11 } }]);
    expect(back.initialPairs[0]!.handle).toEqual({ x: 5, y: 11 });
    expect([...back.mask!.data]).toEqual([0, 1, 1, 0]);
    expect(back.settings).toEqual(settings);
    expect(back).toMatchObject({ model: '/models/x', modelName: 'x', seed: 4, truncation: 0.7, result: { stopReason: 'max-steps', steps: 200 } });
  });
  it('refuses files that are not sessions or are damaged', () => {
    expect(() => parseSession({ seed: 1, pairs: [] }, 't.json')).toThrow(/not a stabledrag session file/);
    const good = JSON.parse(
      serializeSession({ model: 'reference', modelName: 'r', latent: { optimized: new Float32Array(2), frozen: new Float32Array(0), meta: {} }, pairs: [], initialPairs: [], settings }),
    );
    expect(() => parseSession({ ...good, settings: { ...settings, method: 'x' } }, 's.json')).toThrow(/settings.method/);
    expect(() => parseSession({ ...good, latent: { ...good.latent, optimized: 'AAA' } }, 's.json')).toThrow(/float32/);
    expect(() => parseSession({ ...good, mask: { width: 3, height: 3, encoding: 'base64-u8', data: 'AAAA' } }, 's.json')).toThrow(/mask data holds 3 values/);
    expect(() => parseSession({ ...good, pairs: [{ handle: [1], target: [1, 2] }] }, 's.json')).toThrow(/pairs\[0\]\.handle/);
  });
});
