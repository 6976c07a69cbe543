import type { FeatureMap, Point } from '@stabledrag/core';
import { DEFAULT_FUSION_LAMBDA, DEFAULT_RESPONSE_NORMALISATION } from './defaults.js';
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
 * How the filter response ⟨F(q), z_i⟩ of Eq. 2 is bounded (see the README's "Confidence").
 * - 'gated' (default): clamp(⟨F(q), z_i⟩ / ⟨f_i, z_i⟩, 0, 1) · exp(−‖F(q) − f_i‖₁ / ν_i): the filter's vote only
 *   counts as far as F(q) still resembles the template, so S ≤ exp(−‖F(q) − f_i‖₁ / ν_i) and s_i falls
 *   to ≈ e^{-1} once only background is left in the window.
 * - 'magnitude': ⟨F(q), z_i⟩ · min(1, ‖f_i‖² / ‖F(q)‖²), clamped to [0, 1]. Features that
 *   grow past the template's norm score less, not more, so the argmax is not drawn to regions
 *   whose features blow up and s_i falls when the content stops resembling the handle's.
 * - 'cosine': ⟨F(q), z_i⟩ · ‖f_i‖ / ‖F(q)‖ (the response of F(q) rescaled to the template's norm), clamped to [0, 1].
 * - 'none': the raw response, unbounded (the paper's formula; kept for comparison).
 */
export type ResponseNormalisation = 'gated' | 'magnitude' | 'cosine' | 'none';

/**
 * The bounded filter term of Eq. 2 for one candidate: raw response g, squared norms of F(q) and
 * f_i, and g0 = ⟨f_i, z_i⟩, the template's own response. Dividing by g0 calibrates the term to 1
 * where the handle's content is found as it was (the learnt peak is ≈ 0.3–0.7, not the label's 1,
 * because of the ridge and the bilinear blur), so s_1 ≈ 1 and τ·s_1 means "τ of a perfect match".
 */
export function normaliseResponse(g: number, normSq: number, templateNormSq: number, g0: number, mode: ResponseNormalisation): number {
  if (mode === 'none') return g;
  if (mode === 'gated') {
    const r = g / (g0 > 0 ? g0 : 1);
    return r < 0 ? 0 : r > 1 ? 1 : r;
  }
  const ratio = normSq > 0 ? templateNormSq / normSq : 1;
  const r = (mode === 'magnitude' ? g * Math.min(1, ratio) : g * Math.sqrt(ratio)) / (g0 > 0 ? g0 : 1);
  return r < 0 ? 0 : r > 1 ? 1 : r;
}

/**
 * StableDrag Eq. 2 on sampled candidates: S(q) = λ·exp(−‖F(q) − f_i‖₁ / ν_i) + (1 − λ)·g(F(q), z_i),
 * g the filter response bounded by `normalisation` (so S ∈ [0, 1] unless 'none').
 * Writes the scores into `out` (−Infinity off the image) and returns the index of the maximum;
 * ties go to the candidate nearest the window centre.
 */
export function fusedScores(
  win: WindowSamples,
  model: DiscriminativeModel,
  lambda: number,
  out: Float64Array,
  normalisation: ResponseNormalisation = DEFAULT_RESPONSE_NORMALISATION,
): number {
  const { count, channels: C, samples, side, radius } = win;
  const f = model.template;
  const z = model.filter;
  const inv = 1 / model.normaliser;
  let f2 = 0;
  let g0 = 0;
  for (let c = 0; c < C; c++) {
    f2 += f[c]! * f[c]!;
    g0 += f[c]! * z[c]!;
  }
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
    let n2 = 0;
    for (let c = 0; c < C; c++) {
      const s = samples[o + c]!;
      l1 += Math.abs(s - f[c]!);
      g += s * z[c]!;
      n2 += s * s;
    }
    const e = Math.exp(-l1 * inv);
    const r = normaliseResponse(g, n2, f2, g0, normalisation);
    const score = lambda * e + (1 - lambda) * (normalisation === 'gated' ? r * e : r);
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
  /** How the filter response is bounded; default {@link DEFAULT_RESPONSE_NORMALISATION}. */
  readonly normalisation?: ResponseNormalisation;
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
  const best = fusedScores(win, model, lambda, scores, options.normalisation);
  const q = win.points[best]!;
  return { scores, side: win.side, radius, best: { x: q.x, y: q.y }, bestScore: scores[best]! };
}
