import type { DragPair, Point } from '@stabledrag/core';
import { mean } from '../aggregate.js';
import type { FloatImage } from '../image.js';
import { locatePatch } from '../metrics/ncc.js';
import { stats, type ErrorStats } from '../ncc-error.js';
import { locateExact, type PreparedExact } from './score-exact.js';

export interface LocatorErrors {
  readonly cases: readonly ErrorStats[];
  /** Mean error of each measure over its cases on the model's images: the error each measure states. */
  readonly patch: number;
  readonly exact: number;
}

interface Sample {
  readonly pairs: readonly DragPair[];
  /** The model's image of the task's seed (the drag's starting image). */
  readonly original: FloatImage;
  readonly exact: PreparedExact;
}

const dist = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);

/**
 * Both Mean Distance measures on images where the answer is known from the renderer: the model's
 * image moved by the exact flow (content at `landed`), by the half-way flow (at the half-way
 * `landed`) and unmoved (at the handle); and the renderer's own exact edit and original. A measure
 * is not run on the image its template comes from (a trivial zero). Last, the patch matcher on the
 * model's own render of θ′: where that render puts the content, which is why it is not the answer.
 */
export function measureExactLocatorError(samples: readonly Sample[]): LocatorErrors {
  const e = {
    patchEdit: [] as number[], patchHalf: [] as number[], exactHalf: [] as number[], exactOriginal: [] as number[],
    patchRenderer: [] as number[], exactRenderer: [] as number[], patchRendered: [] as number[],
  };
  for (const { pairs, original, exact } of samples) {
    const { answer, model } = exact;
    pairs.forEach((p, i) => {
      const landed = answer.landed[i]!;
      const half = answer.half.landed[i]!;
      e.patchEdit.push(dist(locatePatch(original, model.edit, p.handle, p.target).point, landed));
      e.patchHalf.push(dist(locatePatch(original, model.half, p.handle, p.target).point, half));
      e.exactHalf.push(dist(locateExact(model.edit, model.half, landed, p.handle).point, half));
      e.exactOriginal.push(dist(locateExact(model.edit, original, landed, p.handle).point, p.handle));
      e.patchRenderer.push(dist(locatePatch(answer.rendererOriginal, answer.rendererEdit, p.handle, p.target).point, landed));
      e.exactRenderer.push(dist(locateExact(answer.rendererEdit, answer.rendererOriginal, landed, p.handle).point, p.handle));
      e.patchRendered.push(dist(locatePatch(original, model.rendered, p.handle, p.target).point, landed));
    });
  }
  const cases = [
    stats('patch matching', "model's image moved by the exact flow (answer: landed)", e.patchEdit),
    stats('patch matching', "model's image moved by the half-way flow", e.patchHalf),
    stats('exact template', "model's image moved by the half-way flow", e.exactHalf),
    stats('exact template', "model's image of the seed, unedited (answer: the handle)", e.exactOriginal),
    stats('patch matching', "renderer's exact edit (the renderer's own images)", e.patchRenderer),
    stats('exact template', "renderer's original (the renderer's own images)", e.exactRenderer),
    stats('patch matching', "model's own render of θ′ (not a locator error: where that render puts the content)", e.patchRendered),
  ];
  return { cases, patch: mean([...e.patchEdit, ...e.patchHalf]), exact: mean([...e.exactHalf, ...e.exactOriginal]) };
}
