import type { FeatureMap } from './types.js';

/** Default bound on the features' RMS relative to F0's before a drag counts as diverged (see DragSessionOptions.divergence). */
export const DEFAULT_FEATURE_RMS_LIMIT = 3;

/** Root mean square of a feature map (NaN when any value is not finite). */
export function featureRms(map: FeatureMap): number {
  const d = map.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  return Math.sqrt(s / d.length);
}

/**
 * Watches a drag for having left the generator's range. A latent pushed off the generator's
 * range makes the drag features grow without bound (measured on the default GAN: runaway drags
 * that ended in flat colour blocks had feature RMS 15–200× F0's, healthy ones stayed within
 * 0.8–1.6×), so the ratio RMS(F)/RMS(F0) is the signal: backend-agnostic and free to compute.
 */
export class DivergenceGuard {
  private rms0 = NaN;
  constructor(readonly rmsLimit: number = DEFAULT_FEATURE_RMS_LIMIT) {}

  /** Records F0. */
  init(features0: FeatureMap): void {
    this.rms0 = featureRms(features0);
  }

  /** RMS(F)/RMS(F0) of this step's features (NaN when they are not finite). */
  ratio(features: FeatureMap): number {
    const r = featureRms(features);
    return this.rms0 > 0 ? r / this.rms0 : r === 0 ? 1 : Infinity;
  }

  /** True when the ratio is past the limit or not a number. */
  diverged(ratio: number): boolean {
    return !(ratio <= this.rmsLimit);
  }
}
