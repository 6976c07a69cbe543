import type { Mask } from '@stabledrag/core';
import type { FloatImage } from '../image.js';

export interface SsimOptions {
  /** Odd window side. Default 11 (Wang et al. 2004). */
  readonly size?: number;
  /** Gaussian σ of the window; `null` for a uniform (box) window. Default 1.5. */
  readonly sigma?: number | null;
  /** Stabilisers C1 = (K1·L)², C2 = (K2·L)² with dynamic range L = 1. Defaults 0.01, 0.03. */
  readonly k1?: number;
  readonly k2?: number;
}

export interface RegionScore {
  /** Over the whole image. */
  readonly all: number;
  /** Over the fixed region (mask = 0) only; null without a mask or when the region is empty. */
  readonly fixed: number | null;
}

/** Normalised 1-D window (sum 1); the 2-D window is its outer product (Gaussian and box are separable). */
function windowWeights1d(size: number, sigma: number | null): Float64Array {
  const r = (size - 1) / 2;
  const w = new Float64Array(size);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = sigma === null ? 1 : Math.exp(-(i * i) / (2 * sigma * sigma));
    w[i + r] = v;
    sum += v;
  }
  for (let k = 0; k < size; k++) w[k] = w[k]! / sum;
  return w;
}

/**
 * Windowed mean of `src` (W×H) at every valid centre, by a horizontal then a vertical pass of the
 * 1-D window; `out` is W×H with only the valid centres written.
 */
function filterValid(src: Float64Array, W: number, H: number, w: Float64Array, tmp: Float64Array, out: Float64Array): void {
  const size = w.length;
  const r = (size - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = r; x < W - r; x++) {
      let acc = 0;
      const o = y * W + x - r;
      for (let k = 0; k < size; k++) acc += w[k]! * src[o + k]!;
      tmp[y * W + x] = acc;
    }
  }
  for (let y = r; y < H - r; y++) {
    for (let x = r; x < W - r; x++) {
      let acc = 0;
      for (let k = 0; k < size; k++) acc += w[k]! * tmp[(y - r + k) * W + x]!;
      out[y * W + x] = acc;
    }
  }
}

/**
 * The SSIM map (Wang et al. 2004) of each RGB channel, averaged over the channels, at every pixel
 * whose whole window lies inside the image ("valid" positions). Returned as a full-size map with
 * NaN where the window does not fit.
 */
export function ssimMap(a: FloatImage, b: FloatImage, options: SsimOptions = {}): Float64Array {
  if (a.width !== b.width || a.height !== b.height) throw new Error('ssim: images differ in size');
  const size = options.size ?? 11;
  if (size % 2 !== 1 || size < 1) throw new Error(`ssim: window size must be odd, got ${size}`);
  const sigma = options.sigma === undefined ? 1.5 : options.sigma;
  const C1 = (options.k1 ?? 0.01) ** 2;
  const C2 = (options.k2 ?? 0.03) ** 2;
  const w = windowWeights1d(size, sigma);
  const r = (size - 1) / 2;
  const { width: W, height: H } = a;
  const plane = W * H;
  const map = new Float64Array(plane).fill(Number.NaN);
  if (W < size || H < size) return map;
  const x = new Float64Array(plane);
  const y = new Float64Array(plane);
  const prod = new Float64Array(plane);
  const tmp = new Float64Array(plane);
  const mx = new Float64Array(plane);
  const my = new Float64Array(plane);
  const xx = new Float64Array(plane);
  const yy = new Float64Array(plane);
  const xy = new Float64Array(plane);
  const total = new Float64Array(plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      x[i] = a.data[c * plane + i]!;
      y[i] = b.data[c * plane + i]!;
    }
    filterValid(x, W, H, w, tmp, mx);
    filterValid(y, W, H, w, tmp, my);
    for (let i = 0; i < plane; i++) prod[i] = x[i]! * x[i]!;
    filterValid(prod, W, H, w, tmp, xx);
    for (let i = 0; i < plane; i++) prod[i] = y[i]! * y[i]!;
    filterValid(prod, W, H, w, tmp, yy);
    for (let i = 0; i < plane; i++) prod[i] = x[i]! * y[i]!;
    filterValid(prod, W, H, w, tmp, xy);
    for (let j = r; j < H - r; j++) {
      for (let i = r; i < W - r; i++) {
        const k = j * W + i;
        const ux = mx[k]!;
        const uy = my[k]!;
        const vx = xx[k]! - ux * ux;
        const vy = yy[k]! - uy * uy;
        const cov = xy[k]! - ux * uy;
        total[k] = total[k]! + ((2 * ux * uy + C1) * (2 * cov + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
      }
    }
  }
  for (let j = r; j < H - r; j++) for (let i = r; i < W - r; i++) map[j * W + i] = total[j * W + i]! / 3;
  return map;
}

function meanOver(map: Float64Array, keep: (i: number) => boolean): number | null {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (Number.isNaN(v) || !keep(i)) continue;
    sum += v;
    n++;
  }
  return n > 0 ? sum / n : null;
}

/** Mean SSIM over the valid positions; `fixed` over valid positions whose centre has mask = 0. */
export function ssim(a: FloatImage, b: FloatImage, mask?: Mask, options: SsimOptions = {}): RegionScore {
  const map = ssimMap(a, b, options);
  const all = meanOver(map, () => true);
  if (all === null) throw new Error('ssim: the image is smaller than the window');
  return { all, fixed: mask ? meanOver(map, (i) => mask.data[i] === 0) : null };
}

/** 1 − mean absolute error over RGB values in [0, 1]; `fixed` over pixels with mask = 0. */
export function oneMinusMae(a: FloatImage, b: FloatImage, mask?: Mask): RegionScore {
  if (a.width !== b.width || a.height !== b.height) throw new Error('mae: images differ in size');
  const plane = a.width * a.height;
  let sumAll = 0;
  let sumFixed = 0;
  let nFixed = 0;
  for (let i = 0; i < plane; i++) {
    let e = 0;
    for (let c = 0; c < 3; c++) e += Math.abs(a.data[c * plane + i]! - b.data[c * plane + i]!);
    sumAll += e;
    if (mask && mask.data[i] === 0) {
      sumFixed += e;
      nFixed++;
    }
  }
  return {
    all: 1 - sumAll / (3 * plane),
    fixed: mask && nFixed > 0 ? 1 - sumFixed / (3 * nFixed) : null,
  };
}
