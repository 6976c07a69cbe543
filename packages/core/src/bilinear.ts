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

/**
 * The four taps of a bilinear read of image point (x, y): flat HW indices into `idx[o..o+3]` and
 * weights into `w[o..o+3]` (order: top-left, top-right, bottom-left, bottom-right). Coordinates
 * are clamped to the map (border padding), so a read outside the map returns the nearest edge
 * value; {@link sampleBilinear} and {@link scatterBilinear} use the same taps, which keeps the
 * scatter the exact transpose of the sample. Exported so hot loops (tracker, supervision) can
 * precompute taps into their own buffers.
 */
export function bilinearTaps(
  map: Pick<FeatureMap, 'width' | 'height' | 'scale'>,
  x: number,
  y: number,
  idx: Int32Array,
  w: Float64Array,
  o: number,
): void {
  const { width, height, scale } = map;
  let u = toFeatureCoord(x, scale);
  let v = toFeatureCoord(y, scale);
  u = u < 0 ? 0 : u > width - 1 ? width - 1 : u;
  v = v < 0 ? 0 : v > height - 1 ? height - 1 : v;
  const u0 = Math.floor(u);
  const v0 = Math.floor(v);
  const u1 = u0 + 1 < width ? u0 + 1 : u0;
  const v1 = v0 + 1 < height ? v0 + 1 : v0;
  const a = u - u0;
  const b = v - v0;
  idx[o] = v0 * width + u0;
  idx[o + 1] = v0 * width + u1;
  idx[o + 2] = v1 * width + u0;
  idx[o + 3] = v1 * width + u1;
  w[o] = (1 - a) * (1 - b);
  w[o + 1] = a * (1 - b);
  w[o + 2] = (1 - a) * b;
  w[o + 3] = a * b;
}

const tapIdx = new Int32Array(4);
const tapW = new Float64Array(4);

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
    const p = points[n]!;
    bilinearTaps(map, p.x, p.y, tapIdx, tapW, 0);
    const [i00, i01, i10, i11] = tapIdx as unknown as [number, number, number, number];
    const [w00, w01, w10, w11] = tapW as unknown as [number, number, number, number];
    const base = n * C;
    for (let c = 0; c < C; c++) {
      const o = c * plane;
      result[base + c] = w00 * d[o + i00]! + w01 * d[o + i01]! + w10 * d[o + i10]! + w11 * d[o + i11]!;
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
    const p = points[n]!;
    bilinearTaps(map, p.x, p.y, tapIdx, tapW, 0);
    const [i00, i01, i10, i11] = tapIdx as unknown as [number, number, number, number];
    const [w00, w01, w10, w11] = tapW as unknown as [number, number, number, number];
    const base = n * C;
    for (let c = 0; c < C; c++) {
      const g = sampleGrad[base + c]!;
      if (g === 0) continue;
      const o = c * plane;
      grad[o + i00] = grad[o + i00]! + w00 * g;
      grad[o + i01] = grad[o + i01]! + w01 * g;
      grad[o + i10] = grad[o + i10]! + w10 * g;
      grad[o + i11] = grad[o + i11]! + w11 * g;
    }
  }
  return grad;
}
