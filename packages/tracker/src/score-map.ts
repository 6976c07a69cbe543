import type { FeatureMap, Point } from '@stabledrag/core';
import { DEFAULT_FUSION_LAMBDA } from './defaults.js';
import type { DiscriminativeModel } from './discriminative-filter.js';
import { checkFeatureMap, checkPoints, createWindow, fail, sampleWindow, type WindowSamples } from './window.js';

/** The fused score of every candidate of one window, and its argmax. */
export interface ScoreMap {
  /** side² scores, row-major over (dy, dx); −Infinity for candidates off the image. */
  readonly scores: Float64Array;
  readonly side: number;
  readonly radius: number;
  /** argmax of the score over the valid candidates (image pixels). */
  readonly best: Point;
  /** The maximum score, s_i of Eq. 2. */
  readonly bestScore: number;
}

/**
 * StableDrag Eq. 2 on sampled candidates: S(q) = λ·exp(−‖F(q) − f_i‖₁ / ν_i) + (1 − λ)·⟨F(q), z_i⟩.
 * Writes the scores into `out` (−Infinity off the image) and returns the index of the maximum;
 * ties go to the candidate nearest the window centre.
 */
export function fusedScores(win: WindowSamples, model: DiscriminativeModel, lambda: number, out: Float64Array): number {
  const { count, channels: C, samples, side, radius } = win;
  const f = model.template;
  const z = model.filter;
  const inv = 1 / model.normaliser;
  let best = -1;
  let bestScore = -Infinity;
  let bestD2 = Infinity;
  for (let n = 0; n < count; n++) {
    if (win.valid[n] === 0) {
      out[n] = -Infinity;
      continue;
    }
    const o = n * C;
    let l1 = 0;
    let g = 0;
    for (let c = 0; c < C; c++) {
      const s = samples[o + c]!;
      l1 += Math.abs(s - f[c]!);
      g += s * z[c]!;
    }
    const score = lambda * Math.exp(-l1 * inv) + (1 - lambda) * g;
    out[n] = score;
    const dx = (n % side) - radius;
    const dy = Math.floor(n / side) - radius;
    const d2 = dx * dx + dy * dy;
    if (score > bestScore || (score === bestScore && d2 < bestD2)) {
      best = n;
      bestScore = score;
      bestD2 = d2;
    }
  }
  if (best < 0) fail('fusedScores: every score is NaN; check the features and the model.');
  return best;
}

export interface ScoreWindowOptions {
  /** λ of Eq. 2; default {@link DEFAULT_FUSION_LAMBDA}. λ = 1 is the (normalised) feature difference alone, λ = 0 the filter alone. */
  readonly lambda?: number;
  /** Search radius in image pixels; default: the radius the model was learned with. */
  readonly radius?: number;
}

/** Scores the window around `center` in `features` with a learned model (Eq. 2); allocates its buffers. */
export function scoreWindow(
  features: FeatureMap,
  center: Point,
  model: DiscriminativeModel,
  options: ScoreWindowOptions = {},
): ScoreMap {
  checkFeatureMap(features, 'scoreWindow(features)');
  if (features.channels !== model.template.length) {
    fail(`scoreWindow: the map has ${features.channels} channels but the model was learned on ${model.template.length}.`);
  }
  checkPoints(features, [center], null, 'scoreWindow');
  const lambda = options.lambda ?? DEFAULT_FUSION_LAMBDA;
  const radius = options.radius ?? model.radius;
  const win = sampleWindow(features, center, createWindow(radius, features.channels), 0, 'scoreWindow');
  const scores = new Float64Array(win.count);
  const best = fusedScores(win, model, lambda, scores);
  const q = win.points[best]!;
  return { scores, side: win.side, radius, best: { x: q.x, y: q.y }, bestScore: scores[best]! };
}
