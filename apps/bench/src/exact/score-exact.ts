import type { DragPair, Point } from '@stabledrag/core';
import type { FloatImage } from '../image.js';
import { oneMinusMae, ssim } from '../metrics/fidelity.js';
import { locatePatch, type LocateResult } from '../metrics/ncc.js';
import type { ExactAnswer } from './load-exact-answers.js';
import type { ModelExactImages } from './model-exact-images.js';

/** A task's exact answer with the model's images of it, made once per task. */
export interface PreparedExact {
  readonly answer: ExactAnswer;
  readonly model: ModelExactImages;
}

export interface ExactScore {
  /** Per pair: where the exact template was found in the edit and its distance to the target. */
  readonly pairs: readonly { readonly found: Point; readonly distance: number; readonly ncc: number }[];
  /** The edit against the model's image of the exact answer. */
  readonly ssim: number;
  readonly mae1: number;
  /** The edit against the renderer's own image of the exact answer (carries the model's imitation error). */
  readonly ssimRenderer: number;
  readonly mae1Renderer: number;
}

/**
 * Where the handle's content sits in `edited`, found with a template of the model's image of the
 * exact edit around `landed`: it shows the content as the exact edit deforms it (squeezed ahead of
 * the drag, stretched behind), which a patch of the original does not. Same search as the patch
 * matcher: every whole-pixel offset in the box spanning `landed` and `handle`, plus the margin.
 */
export function locateExact(modelEdit: FloatImage, edited: FloatImage, landed: Point, handle: Point): LocateResult {
  return locatePatch(modelEdit, edited, landed, handle);
}

export function scoreExact(pairs: readonly DragPair[], exact: PreparedExact, edited: FloatImage): ExactScore {
  const { answer, model } = exact;
  const scored = pairs.map((p, i) => {
    const r = locateExact(model.edit, edited, answer.landed[i]!, p.handle);
    return { found: r.point, distance: Math.hypot(r.point.x - p.target.x, r.point.y - p.target.y), ncc: r.score };
  });
  return {
    pairs: scored,
    ssim: ssim(model.edit, edited).all,
    mae1: oneMinusMae(model.edit, edited).all,
    ssimRenderer: ssim(answer.rendererEdit, edited).all,
    mae1Renderer: oneMinusMae(answer.rendererEdit, edited).all,
  };
}
