import type { FeatureMap, Point } from './types.js';

/**
 * Image-pixel coordinate → feature-pixel coordinate under the align_corners=False convention
 * (see FeatureMap.scale): u = (x + 0.5) / scale − 0.5.
 */
export function toFeatureCoord(x: number, scale: number): number {
  return (x + 0.5) / scale - 0.5;
}

/** Feature-pixel coordinate → image-pixel coordinate; inverse of {@link toFeatureCoord}. */
export function toImageCoord(u: number, scale: number): number {
  return (u + 0.5) * scale - 0.5;
}

interface Taps {
  i00: number;
  i01: number;
  i10: number;
  i11: number;
  w00: number;
  w01: number;
  w10: number;
  w11: number;
}

/**
 * The four taps of a bilinear read. Coordinates are clamped to the map (border padding), so a
 * read outside the map returns the nearest edge value; the adjoint uses the same taps, which
 * keeps {@link scatterBilinear} the exact transpose of {@link sampleBilinear}.
 */
function taps(map: Pick<FeatureMap, 'width' | 'height' | 'scale'>, p: Point, out: Taps): Taps {
  const { width, height, scale } = map;
  let u = toFeatureCoord(p.x, scale);
  let v = toFeatureCoord(p.y, scale);
  u = u < 0 ? 0 : u > width - 1 ? width - 1 : u;
  v = v < 0 ? 0 : v > height - 1 ? height - 1 : v;
  const u0 = Math.floor(u);
  const v0 = Math.floor(v);
  const u1 = u0 + 1 < width ? u0 + 1 : u0;
  const v1 = v0 + 1 < height ? v0 + 1 : v0;
  const a = u - u0;
  const b = v - v0;
  out.i00 = v0 * width + u0;
  out.i01 = v0 * width + u1;
  out.i10 = v1 * width + u0;
  out.i11 = v1 * width + u1;
  out.w00 = (1 - a) * (1 - b);
  out.w01 = a * (1 - b);
  out.w10 = (1 - a) * b;
  out.w11 = a * b;
  return out;
}

const scratch: Taps = { i00: 0, i01: 0, i10: 0, i11: 0, w00: 0, w01: 0, w10: 0, w11: 0 };

/**
 * Reads the C-vector of `map` at each point (image pixels) by bilinear interpolation.
 * Returns (or fills `out`) a points.length × C array, point-major.
 */
export function sampleBilinear(map: FeatureMap, points: readonly Point[], out?: Float32Array): Float32Array {
  const C = map.channels;
  const plane = map.width * map.height;
  const result = out ?? new Float32Array(points.length * C);
  if (result.length < points.length * C) {
    throw new RangeError(`sampleBilinear: out has ${result.length} floats, needs ${points.length * C}`);
  }
  const d = map.data;
  for (let n = 0; n < points.length; n++) {
    const t = taps(map, points[n]!, scratch);
    const base = n * C;
    for (let c = 0; c < C; c++) {
      const o = c * plane;
      result[base + c] =
        t.w00 * d[o + t.i00]! + t.w01 * d[o + t.i01]! + t.w10 * d[o + t.i10]! + t.w11 * d[o + t.i11]!;
    }
  }
  return result;
}

/**
 * Adjoint of {@link sampleBilinear}: adds the gradient of each sampled vector (points.length × C,
 * point-major) into `grad`, a CHW array shaped like `map`. ⟨sample(F), g⟩ = ⟨F, scatter(g)⟩ exactly.
 */
export function scatterBilinear(
  map: Pick<FeatureMap, 'channels' | 'width' | 'height' | 'scale'>,
  points: readonly Point[],
  sampleGrad: Float32Array,
  grad: Float32Array,
): Float32Array {
  const C = map.channels;
  const plane = map.width * map.height;
  if (grad.length !== C * plane) {
    throw new RangeError(`scatterBilinear: grad has ${grad.length} floats, the map has ${C * plane}`);
  }
  for (let n = 0; n < points.length; n++) {
    const t = taps(map, points[n]!, scratch);
    const base = n * C;
    for (let c = 0; c < C; c++) {
      const g = sampleGrad[base + c]!;
      if (g === 0) continue;
      const o = c * plane;
      grad[o + t.i00] = grad[o + t.i00]! + t.w00 * g;
      grad[o + t.i01] = grad[o + t.i01]! + t.w01 * g;
      grad[o + t.i10] = grad[o + t.i10]! + t.w10 * g;
      grad[o + t.i11] = grad[o + t.i11]! + t.w11 * g;
    }
  }
  return grad;
}
