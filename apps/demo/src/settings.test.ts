import { describe, expect, it } from 'vitest';
import { defaultSettings, validateSettings } from './settings.js';

describe('defaultSettings', () => {
  it("scales DragGAN's r1 = 3, r2 = 12 at 512 px, with floors of 2 and 6 for small images", () => {
    expect(defaultSettings(512, 0.001)).toMatchObject({ r1: 3, r2: 12, learningRate: 0.001, method: 'stabledrag' });
    expect(defaultSettings(1024, 0.001)).toMatchObject({ r1: 6, r2: 24 });
    expect(defaultSettings(128, 0.001)).toMatchObject({ r1: 2, r2: 6 });
    expect(defaultSettings(64, 0.5)).toMatchObject({ r1: 2, r2: 6, learningRate: 0.5 });
  });

  it('uses the paper defaults λ = 0.3, τ = 0.4 and DragGAN GUI mask weight 20, and validates clean', () => {
    const s = defaultSettings(128, 0.001);
    expect([s.lambda, s.tau, s.maskWeight]).toEqual([0.3, 0.4, 20]);
    expect(validateSettings(s)).toEqual([]);
  });
});

describe('validateSettings', () => {
  it('names each bad field', () => {
    const s = defaultSettings(128, 0.001);
    expect(validateSettings({ ...s, maxSteps: 0 })).toEqual([expect.stringMatching(/Steps/)]);
    expect(validateSettings({ ...s, maxSteps: 2.5 })).toEqual([expect.stringMatching(/Steps/)]);
    expect(validateSettings({ ...s, learningRate: 0 })).toEqual([expect.stringMatching(/Learning rate/)]);
    expect(validateSettings({ ...s, learningRate: Number.NaN })).toEqual([expect.stringMatching(/Learning rate/)]);
    expect(validateSettings({ ...s, r1: 0, r2: 1.5 })).toEqual([expect.stringMatching(/r1/), expect.stringMatching(/r2/)]);
    expect(validateSettings({ ...s, lambda: -0.1, tau: 1.1 })).toEqual([expect.stringMatching(/λ/), expect.stringMatching(/τ/)]);
    expect(validateSettings({ ...s, maskWeight: -1 })).toEqual([expect.stringMatching(/mask weight/)]);
    expect(validateSettings({ ...s, method: 'other' as never })).toEqual([expect.stringMatching(/Unknown method/)]);
  });
});
