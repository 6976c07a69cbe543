import type { FeatureMap, Point } from './types.js';

/** Where a tracker found one handle, and how sure it is. */
export interface TrackResult {
  readonly point: Point;
  /**
   * Tracking confidence s_i (StableDrag Eq. 2: the maximum of the score map). Comparable across
   * steps of one drag; the confident supervision (Eq. 5) compares it with the step-1 value.
   */
  readonly confidence: number;
}

/**
 * Finds the handle points again after each latent update. DragGAN's nearest-neighbour search and
 * StableDrag's discriminative tracker both implement this (see `@stabledrag/tracker`).
 */
export interface PointTracker {
  readonly name: string;
  /** Step 0: read the handle templates f_i from F0 and learn whatever the tracker needs. */
  init(features0: FeatureMap, handles: readonly Point[]): void;
  /** Searches around `current` (image pixels) in `features`; one result per handle, same order. */
  track(features: FeatureMap, current: readonly Point[]): TrackResult[];
}
