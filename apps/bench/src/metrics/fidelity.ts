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

function windowWeights(size: number, sigma: number | null): Float64Array {
  const r = (size - 1) / 2;
  const w = new Float64Array(size * size);
  let sum = 0;
  for (let j = -r; j <= r; j++) {
    for (let i = -r; i <= r; i++) {
      const v = sigma === null ? 1 : Math.exp(-(i * i + j * j) / (2 * sigma * sigma));
      w[(j + r) * size + (i + r)] = v;
      sum += v;
    }
  }
  for (let k = 0; k < w.length; k++) w[k] = w[k]! / sum;
  return w;
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
  const w = windowWeights(size, sigma);
  const r = (size - 1) / 2;
  const { width: W, height: H } = a;
  const plane = W * H;
  const map = new Float64Array(plane).fill(Number.NaN);
  for (let y = r; y < H - r; y++) {
    for (let x = r; x < W - r; x++) {
      let total = 0;
      for (let c = 0; c < 3; c++) {
        const o = c * plane;
        let mx = 0;
        let my = 0;
        let xx = 0;
        let yy = 0;
        let xy = 0;
        for (let j = -r; j <= r; j++) {
          for (let i = -r; i <= r; i++) {
            const k = w[(j + r) * size + (i + r)]!;
            const p = o + (y + j) * W + (x + i);
            const u = a.data[p]!;
            const v = b.data[p]!;
            mx += k * u;
            my += k * v;
            xx += k * u * u;
            yy += k * v * v;
            xy += k * u * v;
          }
        }
        const vx = xx - mx * mx;
        const vy = yy - my * my;
        const cov = xy - mx * my;
        total += ((2 * mx * my + C1) * (2 * cov + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      }
      map[y * W + x] = total / 3;
    }
  }
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
