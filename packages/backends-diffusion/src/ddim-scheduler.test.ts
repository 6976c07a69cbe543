import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '@stabledrag/core/conformance';
import { DdimScheduler } from './ddim-scheduler.js';

// Made in torch float64 by scripts/make_ddim_golden.py from DDIM's formulas with SD 1.5's settings.
const golden = JSON.parse(readFileSync(new URL('./__fixtures__/ddim-golden.json', import.meta.url), 'utf8')) as {
  alphas_cumprod: number[];
  alphas_cumprod_float32: number[];
  final_alpha_cumprod: number;
  timesteps: number[];
  inversion_timesteps: number[];
  denoise_timesteps: number[];
  x: number[];
  eps: number[];
  single: { t: number; step: number[]; step_x0: number[]; inverse: number[]; inverse_x0: number[] }[];
  chain_z_t: number[];
  chain_z_0: number[];
};

const fakeEps = (x: Float32Array, t: number): Float32Array => Float32Array.from(x, (v) => Math.tanh(v) * (t / 1000) + 0.05 * Math.sin(t));

describe('DdimScheduler (SD 1.5 settings)', () => {
  const s = new DdimScheduler(50);

  it('has the known 50-step table 981, 961, …, 21, 1 and edits at t = 681 after 35 inversion steps', () => {
    expect(s.timesteps).toHaveLength(50);
    expect(s.timesteps.slice(0, 3)).toEqual([981, 961, 941]);
    expect(s.timesteps.slice(-2)).toEqual([21, 1]);
    expect(s.timesteps).toEqual(golden.timesteps);
    expect(s.inversionSteps(0.7)).toBe(35);
    expect(s.editTimestep(0.7)).toBe(681);
    expect(s.timesteps[15]).toBe(681);
    expect(s.inversionTimesteps(0.7)).toEqual(golden.inversion_timesteps);
    expect(s.denoiseTimesteps(0.7)).toEqual(golden.denoise_timesteps);
  });

  it('has ᾱ_t of the scaled_linear schedule (float64 to 1e-12; diffusers float32 to 1e-5 relative)', () => {
    expectAllClose(s.alphasCumprod, golden.alphas_cumprod, { atol: 1e-12, rtol: 1e-12 });
    expectAllClose(s.alphasCumprod, golden.alphas_cumprod_float32, { atol: 0, rtol: 1e-5 });
    // Well-known values of SD's schedule: ᾱ_0 = 1 − 0.00085 and ᾱ_999 ≈ 0.00466.
    expect(s.alphasCumprod[0]).toBeCloseTo(0.99915, 12);
    expect(s.alphasCumprod[999]).toBeCloseTo(0.004660, 5);
    expect(s.finalAlphaCumprod).toBe(golden.final_alpha_cumprod);
  });

  it('matches the golden single denoise and inversion steps at both ends of the table', () => {
    const x = Float32Array.from(golden.x);
    const eps = Float32Array.from(golden.eps);
    for (const g of golden.single) {
      const f = s.step(eps, g.t, x);
      expectAllClose(f.latent, g.step, { atol: 1e-6, rtol: 1e-6 });
      expectAllClose(f.predX0, g.step_x0, { atol: 1e-5, rtol: 1e-6 });
      const b = s.inverseStep(eps, g.t, x);
      expectAllClose(b.latent, g.inverse, { atol: 1e-6, rtol: 1e-6 });
      expectAllClose(b.predX0, g.inverse_x0, { atol: 1e-5, rtol: 1e-6 });
    }
  });

  it('reproduces a 35-step inversion and 35-step denoise driven by a closed-form ε', () => {
    let z: Float32Array = Float32Array.from(golden.x);
    for (const t of s.inversionTimesteps(0.7)) z = s.inverseStep(fakeEps(z, t), t, z).latent;
    expectAllClose(z, golden.chain_z_t, { atol: 1e-5, rtol: 1e-5 });
    for (const t of s.denoiseTimesteps(0.7)) z = s.step(fakeEps(z, t), t, z).latent;
    expectAllClose(z, golden.chain_z_0, { atol: 1e-5, rtol: 1e-5 });
  });

  it('inverts a denoising step exactly when ε does not depend on x', () => {
    const x = Float32Array.from(golden.x);
    const eps = Float32Array.from(golden.eps);
    const down = s.step(eps, 681, x).latent;
    expectAllClose(s.inverseStep(eps, 681, down).latent, x, { atol: 1e-5, rtol: 1e-5 });
  });

  it('refuses bad step counts, strengths, timesteps and sizes with one-line errors', () => {
    expect(() => new DdimScheduler(0)).toThrow(/integer in \[1, 1000\]/);
    expect(() => s.inversionSteps(0)).toThrow(/strength must be in \(0, 1\]/);
    expect(() => s.alpha(1000)).toThrow(/outside the schedule/);
    expect(() => s.step(new Float32Array(2), 681, new Float32Array(3))).toThrow(/2 floats, the latent 3/);
  });
});
