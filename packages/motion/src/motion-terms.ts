import { bilinearTaps, type FeatureMap, type Mask, type Point } from '@stabledrag/core';
import { fail } from './validate.js';

/** Integer offsets (dx, dy) with dx² + dy² ≤ r², row-major: the disc Θ(p, r1) of Eq. 1 around any p. */
export function discOffsets(radius: number): Point[] {
  if (!(Number.isFinite(radius) && radius >= 0)) fail(`radius must be a non-negative number, got ${radius}.`);
  const r = Math.floor(radius);
  const out: Point[] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= radius * radius) out.push({ x: dx + 0, y: dy + 0 }); // + 0: no -0
  return out;
}

/** Scratch buffers for {@link shiftedL1}, reusable across calls. */
export interface ShiftScratch {
  idx: Int32Array;
  w: Float64Array;
}

export function createShiftScratch(points: number): ShiftScratch {
  return { idx: new Int32Array(8 * points), w: new Float64Array(8 * points) };
}

/**
 * weight · Σ_k Σ_c |ref_k,c − F(p + o_k + d)_c| and its gradient w.r.t. F (added into `grad`).
 *
 * Eq. 1: ref_k = sg(F(p + o_k)) — pass `reference = null` and it is read from `features` itself,
 * detached (no gradient through it). Eq. 4: ref_k = F0(p⁰ + o_k) — pass the template (K × C).
 * The gradient flows only through the bilinear read at p + o_k + d, with sign(0) = 0.
 */
export function shiftedL1(
  features: FeatureMap,
  center: Point,
  offsets: readonly Point[],
  step: Point,
  reference: Float32Array | null,
  weight: number,
  grad: Float32Array | null,
  scratch: ShiftScratch = createShiftScratch(offsets.length),
): number {
  const { channels: C, data } = features;
  const plane = features.width * features.height;
  const K = offsets.length;
  if (reference !== null && reference.length < K * C) fail(`shiftedL1: the template has ${reference.length} values, needs ${K}×${C}.`);
  const { idx, w } = scratch;
  for (let k = 0; k < K; k++) {
    const o = offsets[k]!;
    const x = center.x + o.x;
    const y = center.y + o.y;
    bilinearTaps(features, x, y, idx, w, 8 * k);
    bilinearTaps(features, x + step.x, y + step.y, idx, w, 8 * k + 4);
  }
  let loss = 0;
  for (let k = 0; k < K; k++) {
    const t = 8 * k;
    const s0 = idx[t]!, s1 = idx[t + 1]!, s2 = idx[t + 2]!, s3 = idx[t + 3]!;
    const a0 = w[t]!, a1 = w[t + 1]!, a2 = w[t + 2]!, a3 = w[t + 3]!;
    const d0 = idx[t + 4]!, d1 = idx[t + 5]!, d2 = idx[t + 6]!, d3 = idx[t + 7]!;
    const b0 = w[t + 4]!, b1 = w[t + 5]!, b2 = w[t + 6]!, b3 = w[t + 7]!;
    for (let c = 0; c < C; c++) {
      const o = c * plane;
      const ref =
        reference === null
          ? a0 * data[o + s0]! + a1 * data[o + s1]! + a2 * data[o + s2]! + a3 * data[o + s3]!
          : reference[k * C + c]!;
      const dst = b0 * data[o + d0]! + b1 * data[o + d1]! + b2 * data[o + d2]! + b3 * data[o + d3]!;
      const e = dst - ref;
      const a = Math.abs(e);
      loss += a;
      // e / |e| is sign(e) without a data-dependent branch (random signs defeat branch
      // prediction); sign(0) = 0, and NaN propagates into the loss.
      if (grad !== null && a > 0) {
        const g = weight * (e / a);
        grad[o + d0] = grad[o + d0]! + g * b0;
        grad[o + d1] = grad[o + d1]! + g * b1;
        grad[o + d2] = grad[o + d2]! + g * b2;
        grad[o + d3] = grad[o + d3]! + g * b3;
      }
    }
  }
  return weight * loss;
}

/**
 * The mask at feature resolution, as the list of *fixed* feature pixels (v·W + u). A feature
 * pixel covers image pixels [u·s, (u+1)·s) × [v·s, (v+1)·s); it is fixed only when every image
 * pixel it covers is fixed (mask 0), so features that reach into the editable region stay free.
 */
export function fixedFeaturePixels(mask: Mask, map: Pick<FeatureMap, 'width' | 'height' | 'scale'>): Int32Array {
  const { width: W, height: H, scale: s } = map;
  const iw = Math.round(W * s);
  const ih = Math.round(H * s);
  if (!(mask.data instanceof Uint8Array) || mask.width !== iw || mask.height !== ih || mask.data.length !== iw * ih) {
    fail(
      `mask: expected a ${iw}×${ih} Uint8Array mask (the image size of a ${W}×${H} map at scale ${s}), ` +
        `got ${mask.width}×${mask.height} with ${mask.data?.length} values.`,
    );
  }
  const out: number[] = [];
  for (let v = 0; v < H; v++) {
    const y0 = Math.max(0, Math.floor(v * s));
    const y1 = Math.min(ih, Math.ceil((v + 1) * s));
    for (let u = 0; u < W; u++) {
      const x0 = Math.max(0, Math.floor(u * s));
      const x1 = Math.min(iw, Math.ceil((u + 1) * s));
      let fixed = true;
      for (let y = y0; y < y1 && fixed; y++) for (let x = x0; x < x1; x++) if (mask.data[y * iw + x] !== 0) {
        fixed = false;
        break;
      }
      if (fixed) out.push(v * W + u);
    }
  }
  return Int32Array.from(out);
}

/**
 * The mask term η·mean|F − F0| over the fixed feature pixels (the mean runs over all C·H·W
 * elements, as DragGAN's l1_loss(F·m, F0·m) does), gradient η/(C·H·W)·sign(F − F0) added into
 * `grad`. `fixed` must be sorted (as {@link fixedFeaturePixels} returns it): it is walked as runs
 * of consecutive pixels so the inner loop is contiguous and branch-free.
 */
export function maskL1(
  features: FeatureMap,
  features0: Float32Array,
  fixed: Int32Array,
  eta: number,
  grad: Float32Array | null,
): number {
  const { channels: C, data } = features;
  const plane = features.width * features.height;
  const k = eta / (C * plane);
  const runs: number[] = [];
  for (let j = 0; j < fixed.length; ) {
    const start = fixed[j]!;
    let end = start + 1;
    j++;
    while (j < fixed.length && fixed[j] === end) {
      end++;
      j++;
    }
    runs.push(start, end);
  }
  let loss = 0;
  for (let c = 0; c < C; c++) {
    const o = c * plane;
    for (let r = 0; r < runs.length; r += 2) {
      const a = o + runs[r]!;
      const b = o + runs[r + 1]!;
      if (grad === null) {
        for (let i = a; i < b; i++) loss += Math.abs(data[i]! - features0[i]!);
      } else {
        for (let i = a; i < b; i++) {
          const e = data[i]! - features0[i]!;
          const m = Math.abs(e);
          loss += m;
          if (m > 0) grad[i] = grad[i]! + k * (e / m); // branch-free sign, see shiftedL1
        }
      }
    }
  }
  return k * loss;
}
