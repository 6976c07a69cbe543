import type { DragPair, Mask, Point } from '@stabledrag/core';
import type { FloatImage } from '../image.js';
import { oneMinusMae, ssim } from '../metrics/fidelity.js';
import { locatePatch } from '../metrics/ncc.js';
import { invertMask } from './edit-region-mask.js';

/** A drag pair with, for renderer tasks, where the exact edit puts the handle's content. */
export interface DiffusionPair extends DragPair {
  /** The true landing point of the handle's content (exact_edit.py), image pixels; absent for photos. */
  readonly landed?: Point;
}

export interface DiffusionPairScore {
  /** |target − handle|, pixels. */
  readonly length: number;
  /** Where the patch matcher (src/metrics/ncc.ts) found the handle's content in the edit. */
  readonly found: Point;
  readonly ncc: number;
  /** Weighted RGB std of the handle's source patch (< 0.03: nearly flat, placed roughly). */
  readonly texture: number;
  /** (a) Mean Distance term: |found − target|. */
  readonly distance: number;
  /** (b) |found − landed|: against the renderer's exact answer instead of the nominal target. */
  readonly exactDistance: number | null;
}

export interface DiffusionEditScore {
  readonly pairs: readonly DiffusionPairScore[];
  /** Fidelity outside the edit region against the source: 1 − MAE and SSIM (valid windows centred outside). */
  readonly outsideMae1: number | null;
  readonly outsideSsim: number | null;
  /** Inside the edit region against the exact edit (renderer tasks only). */
  readonly exactMae1: number | null;
  readonly exactSsim: number | null;
}

/**
 * Scores one edited image. MD (a) follows the GAN benchmark (the paper's Mean Distance with a
 * pixel patch matcher in place of DIFT); (b) and the edit-region similarity use the renderer's
 * exact edit, which the paper's DragBench cannot offer.
 */
export function scoreDiffusionEdit(input: {
  readonly source: FloatImage;
  readonly edited: FloatImage;
  readonly exact?: FloatImage;
  readonly pairs: readonly DiffusionPair[];
  /** 1 = edit region (editRegionMask). */
  readonly region: Mask;
}): DiffusionEditScore {
  const { source, edited, exact, region } = input;
  const pairs = input.pairs.map((p) => {
    const r = locatePatch(source, edited, p.handle, p.target);
    return {
      length: Math.hypot(p.target.x - p.handle.x, p.target.y - p.handle.y),
      found: r.point,
      ncc: r.score,
      texture: r.templateStd,
      distance: Math.hypot(r.point.x - p.target.x, r.point.y - p.target.y),
      exactDistance: p.landed ? Math.hypot(r.point.x - p.landed.x, r.point.y - p.landed.y) : null,
    };
  });
  // ssim/oneMinusMae's `fixed` is "where the mask is 0": the region itself for the outside,
  // its inverse for the inside.
  const inside = invertMask(region);
  return {
    pairs,
    outsideMae1: oneMinusMae(source, edited, region).fixed,
    outsideSsim: ssim(source, edited, region).fixed,
    exactMae1: exact ? oneMinusMae(exact, edited, inside).fixed : null,
    exactSsim: exact ? ssim(exact, edited, inside).fixed : null,
  };
}
