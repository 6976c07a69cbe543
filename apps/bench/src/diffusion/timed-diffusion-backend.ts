import type { CallOptions, DragBackend, DragLatent, ForwardOptions, ForwardPass, LatentSource, RgbaImage } from '@stabledrag/core';
import type { DiffusionBackend, DiffusionProgress } from '@stabledrag/backends-diffusion';

/** Milliseconds spent in each stage of the diffusion backend's long calls, summed. */
export interface StageTimes {
  encode: number;
  invert: number;
  denoise: number;
  decode: number;
  renders: number;
}

/**
 * Passes every call to a DiffusionBackend and times the stages of an edit that happen outside
 * the drag loop: createLatent's VAE encode and DDIM inversion (from its progress events, which
 * fire as each stage's step ends) and render's denoising and VAE decode (called separately).
 */
export class TimedDiffusionBackend implements DragBackend {
  readonly specificationVersion = 'v1' as const;
  readonly times: StageTimes = { encode: 0, invert: 0, denoise: 0, decode: 0, renders: 0 };

  constructor(readonly inner: DiffusionBackend) {}

  get info(): DragBackend['info'] {
    return this.inner.info;
  }

  async createLatent(source: LatentSource, options?: CallOptions): Promise<DragLatent> {
    let mark = performance.now();
    const onProgress = (p: DiffusionProgress): void => {
      const now = performance.now();
      if (p.stage === 'encode' || p.stage === 'invert') this.times[p.stage] += now - mark;
      mark = now;
    };
    return this.inner.createLatent(source, { ...options, onProgress });
  }

  forward(latent: DragLatent, options?: ForwardOptions): Promise<ForwardPass> {
    return this.inner.forward(latent, options);
  }

  async render(latent: DragLatent, options?: CallOptions): Promise<RgbaImage> {
    const t0 = performance.now();
    const z0 = await this.inner.denoise(latent, options);
    const t1 = performance.now();
    const image = await this.inner.decode(z0, options);
    this.times.denoise += t1 - t0;
    this.times.decode += performance.now() - t1;
    this.times.renders++;
    return image;
  }

  /** The inner backend belongs to the caller. */
  async dispose(): Promise<void> {}
}
