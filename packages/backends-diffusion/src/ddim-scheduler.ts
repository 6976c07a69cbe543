import { StableDragError } from '@stabledrag/core';

/** The noise schedule of a latent diffusion model; defaults are Stable Diffusion 1.5's. */
export interface DdimConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  /** `scaled_linear` (SD: a linear ramp of √β, squared) or `linear`. */
  readonly betaSchedule: 'scaled_linear' | 'linear';
  /** Added to every inference timestep (SD: 1, so the 50-step table ends at t = 1). */
  readonly stepsOffset: number;
  /** Whether ᾱ before t = 0 is 1 or ᾱ_0 (SD and DragDiffusion: false → ᾱ_0). */
  readonly setAlphaToOne: boolean;
}

export const SD15_DDIM: DdimConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  stepsOffset: 1,
  setAlphaToOne: false,
};

/** One DDIM update: the new latent and the x̂_0 it was computed through. */
export interface DdimStepResult {
  readonly latent: Float32Array;
  readonly predX0: Float32Array;
}

function fail(message: string): never {
  throw new StableDragError('INVALID_INPUT', message);
}

/**
 * Deterministic DDIM (Song et al. 2021, Eq. 12 with η = 0) for a fixed number of inference steps,
 * in float64 arithmetic on float32 latents. `step` denoises x_t → x_{t−Δ}; `inverseStep` runs it
 * backwards as DragDiffusion's `inv_step` does (ε predicted at the *target* timestep t from the
 * latent at t − Δ). With SD's settings, 50 steps and strength 0.7 the drag happens at t = 681.
 */
export class DdimScheduler {
  readonly config: DdimConfig;
  readonly numInferenceSteps: number;
  /** ᾱ_t for t = 0 … numTrainTimesteps − 1. */
  readonly alphasCumprod: Float64Array;
  /** ᾱ used "before" t = 0: 1 or ᾱ_0 (`setAlphaToOne`). */
  readonly finalAlphaCumprod: number;
  /** Inference timesteps, descending (SD, 50 steps: 981, 961, …, 21, 1). */
  readonly timesteps: readonly number[];
  /** Δ between consecutive inference timesteps. */
  readonly stepRatio: number;

  constructor(numInferenceSteps = 50, config: DdimConfig = SD15_DDIM) {
    const T = config.numTrainTimesteps;
    if (!Number.isInteger(T) || T < 2) fail(`num_train_timesteps must be an integer ≥ 2, got ${T}.`);
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > T) {
      fail(`The number of DDIM steps must be an integer in [1, ${T}], got ${numInferenceSteps}.`);
    }
    if (!(config.betaStart > 0 && config.betaEnd < 1 && config.betaStart <= config.betaEnd)) {
      fail(`Betas must satisfy 0 < beta_start ≤ beta_end < 1, got ${config.betaStart} and ${config.betaEnd}.`);
    }
    this.config = config;
    this.numInferenceSteps = numInferenceSteps;
    this.alphasCumprod = DdimScheduler.alphasCumprod(config);
    this.finalAlphaCumprod = config.setAlphaToOne ? 1 : this.alphasCumprod[0]!;
    // diffusers' "leading" spacing: integer multiples of T / steps, reversed, plus the offset.
    this.stepRatio = Math.floor(T / numInferenceSteps);
    this.timesteps = Array.from({ length: numInferenceSteps }, (_, i) => (numInferenceSteps - 1 - i) * this.stepRatio + config.stepsOffset);
  }

  static alphasCumprod(config: DdimConfig): Float64Array {
    const T = config.numTrainTimesteps;
    const out = new Float64Array(T);
    const lerp = (a: number, b: number, i: number): number => a + ((b - a) * i) / (T - 1);
    let prod = 1;
    for (let i = 0; i < T; i++) {
      const beta = config.betaSchedule === 'scaled_linear'
        ? lerp(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), i) ** 2
        : lerp(config.betaStart, config.betaEnd, i);
      prod *= 1 - beta;
      out[i] = prod;
    }
    return out;
  }

  /** ᾱ_t, with the final ᾱ for t < 0. */
  alpha(t: number): number {
    if (!Number.isInteger(t) || t >= this.config.numTrainTimesteps) fail(`Timestep ${t} is outside the schedule.`);
    return t >= 0 ? this.alphasCumprod[t]! : this.finalAlphaCumprod;
  }

  /** Steps of inversion for a strength in (0, 1] (DragDiffusion: round(0.7 · 50) = 35). */
  inversionSteps(strength: number): number {
    if (!(strength > 0 && strength <= 1)) fail(`Inversion strength must be in (0, 1], got ${strength}.`);
    return Math.round(strength * this.numInferenceSteps);
  }

  /** The timesteps inversion visits, ascending; the last is the editing timestep. */
  inversionTimesteps(strength: number): number[] {
    return [...this.timesteps].reverse().slice(0, this.inversionSteps(strength));
  }

  /** The timesteps denoising visits from the editing timestep to the end, descending. */
  denoiseTimesteps(strength: number): number[] {
    return this.timesteps.slice(this.numInferenceSteps - this.inversionSteps(strength));
  }

  /** The timestep the drag optimises z_t at (DragDiffusion: `timesteps[15]` = 681). */
  editTimestep(strength: number): number {
    return this.denoiseTimesteps(strength)[0]!;
  }

  /** x_t → x_{t−Δ} given ε̂(x_t, t). */
  step(eps: Float32Array, t: number, x: Float32Array): DdimStepResult {
    return this.update(eps, x, this.alpha(t), this.alpha(t - this.stepRatio));
  }

  /**
   * `step` as x_{t−Δ} = a·x_t + b·ε̂: a = √(ᾱ_{t−Δ}/ᾱ_t), b = √(1−ᾱ_{t−Δ}) − √ᾱ_{t−Δ}·√(1−ᾱ_t)/√ᾱ_t.
   * The step is linear in (x, ε̂), so d/dx_t of ⟨g, x_{t−Δ}⟩ is a·g + J_εᵀ(b·g).
   */
  stepCoefficients(t: number): { readonly a: number; readonly b: number } {
    const aFrom = this.alpha(t);
    const aTo = this.alpha(t - this.stepRatio);
    return { a: Math.sqrt(aTo / aFrom), b: Math.sqrt(1 - aTo) - (Math.sqrt(aTo) * Math.sqrt(1 - aFrom)) / Math.sqrt(aFrom) };
  }

  /** x_{t−Δ} → x_t given ε̂(x_{t−Δ}, t), the approximation DDIM inversion rests on. */
  inverseStep(eps: Float32Array, t: number, x: Float32Array): DdimStepResult {
    const from = Math.min(t - this.stepRatio, this.config.numTrainTimesteps - 1);
    return this.update(eps, x, this.alpha(from), this.alpha(t));
  }

  /** x̂_0 = (x − √(1−ᾱ_from) ε) / √ᾱ_from; x' = √ᾱ_to x̂_0 + √(1−ᾱ_to) ε. */
  private update(eps: Float32Array, x: Float32Array, aFrom: number, aTo: number): DdimStepResult {
    if (eps.length !== x.length) fail(`The noise prediction has ${eps.length} floats, the latent ${x.length}.`);
    const sFrom = Math.sqrt(1 - aFrom);
    const rFrom = Math.sqrt(aFrom);
    const rTo = Math.sqrt(aTo);
    const sTo = Math.sqrt(1 - aTo);
    const latent = new Float32Array(x.length);
    const predX0 = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const e = eps[i]!;
      const x0 = (x[i]! - sFrom * e) / rFrom;
      predX0[i] = x0;
      latent[i] = rTo * x0 + sTo * e;
    }
    return { latent, predX0 };
  }
}
