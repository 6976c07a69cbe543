import type { CallOptions, DragBackend, DragLatent, ForwardOptions, ForwardPass, LatentSource, RgbaImage } from '@stabledrag/core';

/**
 * Passes every call through and keeps a copy of the optimised latent of each forward call.
 * DragSession's k-th forward call (0-based) sees the latent after k Adam updates, so one run of
 * N steps yields the result a run capped at any budget b < N would have returned — the loop has no
 * schedule that depends on maxSteps — and Table 1's three budgets cost one run.
 */
export class RecordingBackend implements DragBackend {
  readonly specificationVersion = 'v1' as const;
  readonly snapshots: Float32Array[] = [];

  constructor(private readonly inner: DragBackend) {}

  get info(): DragBackend['info'] {
    return this.inner.info;
  }

  createLatent(source: LatentSource, options?: CallOptions): Promise<DragLatent> {
    return this.inner.createLatent(source, options);
  }

  forward(latent: DragLatent, options?: ForwardOptions): Promise<ForwardPass> {
    this.snapshots.push(new Float32Array(latent.optimized));
    return this.inner.forward(latent, options);
  }

  render(latent: DragLatent, options?: CallOptions): Promise<RgbaImage> {
    return this.inner.render(latent, options);
  }

  /** The inner backend belongs to the caller. */
  async dispose(): Promise<void> {}
}
