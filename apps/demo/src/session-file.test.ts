import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, parseSession, serializeSession, type DemoSession } from './session-file.js';
import { defaultSettings } from './settings.js';

function session(): DemoSession {
  const mask = new Uint8Array(16);
  mask[3] = 1;
  return {
    model: 'test-model',
    resolution: 4,
    seed: 42,
    originalLatent: { optimized: Float32Array.of(0.1, -2.5e-8, 3), frozen: Float32Array.of(7), meta: { seed: 42 } },
    latent: { optimized: Float32Array.of(Math.PI, Number.MIN_VALUE, -0), frozen: Float32Array.of(7), meta: { seed: 42 } },
    pairs: [{ handle: { x: 1, y: 2 }, target: { x: 3, y: 0.5 } }],
    mask,
    settings: { ...defaultSettings(128, 0.002), method: 'draggan' },
  };
}

describe('session files', () => {
  it('round-trip the latent bit-exactly, with points, mask and settings', () => {
    const s = session();
    const back = parseSession(serializeSession(s));
    expect(back.model).toBe('test-model');
    expect(back.seed).toBe(42);
    expect(Array.from(back.latent.optimized)).toEqual(Array.from(s.latent.optimized));
    expect(Object.is(back.latent.optimized[2], -0)).toBe(true);
    expect(Array.from(back.originalLatent.optimized)).toEqual(Array.from(s.originalLatent.optimized));
    expect(back.latent.meta).toEqual({ seed: 42 });
    expect(back.pairs).toEqual(s.pairs);
    expect(Array.from(back.mask!)).toEqual(Array.from(s.mask!));
    expect(back.settings).toEqual(s.settings);
  });

  it('keeps a null mask', () => {
    const back = parseSession(serializeSession({ ...session(), mask: null }));
    expect(back.mask).toBeNull();
  });

  it('rejects other files with a message that says why', () => {
    expect(() => parseSession('not json')).toThrow(/not JSON/);
    expect(() => parseSession('{"format":"x"}')).toThrow(/not a StableDrag demo session/);
    const bad = JSON.parse(serializeSession(session()));
    bad.version = 99;
    expect(() => parseSession(JSON.stringify(bad))).toThrow(/version 99/);
    const badPoint = JSON.parse(serializeSession(session()));
    badPoint.pairs[0].target.x = 'a';
    expect(() => parseSession(JSON.stringify(badPoint))).toThrow(/Pair 1 target/);
    const badMask = JSON.parse(serializeSession(session()));
    badMask.mask = bytesToBase64(new Uint8Array(5));
    expect(() => parseSession(JSON.stringify(badMask))).toThrow(/5 pixels/);
    const badSettings = JSON.parse(serializeSession(session()));
    badSettings.settings.tau = 3;
    expect(() => parseSession(JSON.stringify(badSettings))).toThrow(/τ/);
  });

  it('base64 handles arrays larger than one chunk', () => {
    const big = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);
    expect(Array.from(base64ToBytes(bytesToBase64(big)))).toEqual(Array.from(big));
  });
});
