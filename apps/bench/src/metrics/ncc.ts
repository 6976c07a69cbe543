import type { Point } from '@stabledrag/core';
import { sampleChannel, type FloatImage } from '../image.js';

export interface LocateOptions {
  /** Half-size of the square template: the patch is (2r+1)² pixels. Default 7 (15×15 at 128 px). */
  readonly patchRadius?: number;
  /**
   * Candidate centres are searched in the axis-aligned box spanning `searchFrom` and `searchTo`,
   * grown by `margin` pixels on every side. Default margin 10.
   */
  readonly margin?: number;
  /**
   * σ of the Gaussian weight over the patch, pixels; `null` for uniform weights. Default
   * patchRadius / 3: a drag deforms the content around the handle, and the weight lets the centre
   * of the patch decide while the rim still disambiguates.
   */
  readonly weightSigma?: number | null;
}

export interface LocateResult {
  /** Where the template's content sits in the edited image (sub-pixel). */
  readonly point: Point;
  /** Zero-mean normalised cross-correlation at the integer peak, in [−1, 1]. */
  readonly score: number;
  /** Standard deviation of the template (0 = a flat patch NCC cannot place). */
  readonly templateStd: number;
  /**
   * The peak lies on the search box's edge: the best match may be outside the box (or nowhere,
   * on a flat patch), so `point` is not a trustworthy location.
   */
  readonly onEdge: boolean;
}

export const DEFAULT_PATCH_RADIUS = 7;
export const DEFAULT_SEARCH_MARGIN = 10;

/** (2r+1)² × 3 samples of `image` around `centre`, bilinear (exact at integer centres). */
function readPatch(image: FloatImage, centre: Point, r: number, out: Float64Array): Float64Array {
  let k = 0;
  for (let c = 0; c < 3; c++) {
    for (let j = -r; j <= r; j++) {
      for (let i = -r; i <= r; i++) out[k++] = sampleChannel(image, c, centre.x + i, centre.y + j);
    }
  }
  return out;
}

/** Normalised weights (sum 1) over the (2r+1)² patch. */
function patchWeights(r: number, sigma: number | null): Float64Array {
  const side = 2 * r + 1;
  const w = new Float64Array(side * side);
  let sum = 0;
  for (let j = -r; j <= r; j++) {
    for (let i = -r; i <= r; i++) {
      const v = sigma === null ? 1 : Math.exp(-(i * i + j * j) / (2 * sigma * sigma));
      w[(j + r) * side + (i + r)] = v;
      sum += v;
    }
  }
  for (let k = 0; k < w.length; k++) w[k] = w[k]! / sum;
  return w;
}

/**
 * Vertex of the parabola through (−1, a), (0, b), (1, c): the sub-pixel offset of a peak at 0,
 * clamped to ±0.5 (a larger value means the integer peak was not a local maximum).
 */
export function parabolicOffset(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  if (!(den < 0)) return 0;
  const off = (0.5 * (a - c)) / den;
  return off > 0.5 ? 0.5 : off < -0.5 ? -0.5 : off;
}

/**
 * Finds where the content around `handle` in `original` went in `edited`, independently of any
 * generator feature: Gaussian-weighted zero-mean normalised cross-correlation (ZNCC) of the RGB
 * template (each channel's weighted mean subtracted, one joint norm) against every candidate centre
 * handle + (i, j), i and j integers, in the search box; then a separable parabolic fit of the ZNCC
 * surface around the best candidate.
 *
 * With w the normalised weights and T' = T − Σw·T the centred template, the weighted covariance of
 * a candidate patch P is Σ w·T'·P (the mean of P drops out since Σ w·T' = 0) and its variance
 * Σ w·P² − (Σ w·P)², so each candidate costs three weighted sums per channel.
 */
export function locatePatch(
  original: FloatImage,
  edited: FloatImage,
  handle: Point,
  searchTo: Point,
  options: LocateOptions = {},
): LocateResult {
  const r = options.patchRadius ?? DEFAULT_PATCH_RADIUS;
  const margin = options.margin ?? DEFAULT_SEARCH_MARGIN;
  const weights = patchWeights(r, options.weightSigma === undefined ? r / 3 : options.weightSigma);
  const side = 2 * r + 1;
  const n = weights.length;
  const template = readPatch(original, handle, r, new Float64Array(3 * n));
  // Centre the template with the weights, then fold the weights in: wt = w·T'.
  let tVar = 0;
  for (let c = 0; c < 3; c++) {
    let mean = 0;
    for (let k = 0; k < n; k++) mean += weights[k]! * template[c * n + k]!;
    for (let k = 0; k < n; k++) {
      const v = template[c * n + k]! - mean;
      tVar += weights[k]! * v * v;
      template[c * n + k] = weights[k]! * v;
    }
  }
  const tNorm = Math.sqrt(tVar);
  const templateStd = Math.sqrt(tVar / 3);
  const W = edited.width;
  const H = edited.height;
  const lo = (v: number, t: number): number => Math.min(v, t) - margin;
  const hi = (v: number, t: number): number => Math.max(v, t) + margin;
  const dx0 = Math.ceil(Math.max(lo(handle.x, searchTo.x), 0) - handle.x);
  const dx1 = Math.floor(Math.min(hi(handle.x, searchTo.x), W - 1) - handle.x);
  const dy0 = Math.ceil(Math.max(lo(handle.y, searchTo.y), 0) - handle.y);
  const dy1 = Math.floor(Math.min(hi(handle.y, searchTo.y), H - 1) - handle.y);
  const cols = dx1 - dx0 + 1;
  const rows = dy1 - dy0 + 1;
  // The edited image resampled on the grid handle + integers (exact copy for an integer handle),
  // over the search box grown by the patch radius, edge-padded.
  const gw = cols + 2 * r;
  const gh = rows + 2 * r;
  const grid = new Float64Array(3 * gw * gh);
  const ox = handle.x + dx0 - r;
  const oy = handle.y + dy0 - r;
  for (let c = 0; c < 3; c++) {
    for (let j = 0; j < gh; j++) for (let i = 0; i < gw; i++) grid[(c * gh + j) * gw + i] = sampleChannel(edited, c, ox + i, oy + j);
  }
  const scores = new Float64Array(cols * rows);
  let best = 0;
  let bestScore = -Infinity;
  for (let cj = 0; cj < rows; cj++) {
    for (let ci = 0; ci < cols; ci++) {
      let cov = 0;
      let pVar = 0;
      for (let c = 0; c < 3; c++) {
        let s1 = 0;
        let s2 = 0;
        let st = 0;
        const base = c * gh;
        for (let j = 0; j < side; j++) {
          const row = (base + cj + j) * gw + ci;
          const kr = j * side;
          for (let i = 0; i < side; i++) {
            const v = grid[row + i]!;
            const w = weights[kr + i]!;
            s1 += w * v;
            s2 += w * v * v;
            st += template[c * n + kr + i]! * v;
          }
        }
        cov += st;
        pVar += s2 - s1 * s1;
      }
      const denom = tNorm * Math.sqrt(Math.max(pVar, 0));
      const s = denom > 1e-12 ? cov / denom : 0;
      scores[cj * cols + ci] = s;
      // Strict '>' keeps the first maximum in scan order, so results are deterministic.
      if (s > bestScore) {
        bestScore = s;
        best = cj * cols + ci;
      }
    }
  }
  const bi = best % cols;
  const bj = Math.floor(best / cols);
  const at = (i: number, j: number): number => scores[j * cols + i]!;
  const offX = bi > 0 && bi < cols - 1 ? parabolicOffset(at(bi - 1, bj), at(bi, bj), at(bi + 1, bj)) : 0;
  const offY = bj > 0 && bj < rows - 1 ? parabolicOffset(at(bi, bj - 1), at(bi, bj), at(bi, bj + 1)) : 0;
  return {
    point: { x: handle.x + dx0 + bi + offX, y: handle.y + dy0 + bj + offY },
    score: bestScore,
    templateStd,
    onEdge: bi === 0 || bi === cols - 1 || bj === 0 || bj === rows - 1,
  };
}
