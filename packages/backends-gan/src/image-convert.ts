import type { RgbaImage } from '@stabledrag/core';

/** A [1, 3, H, W] float image with values in `range` → RGBA8 (alpha 255), clamping. */
export function chwToRgba(data: Float32Array, width: number, height: number, range: readonly [number, number]): RgbaImage {
  const plane = width * height;
  if (data.length < 3 * plane) throw new RangeError(`image tensor has ${data.length} floats, expected ${3 * plane}`);
  const [lo, hi] = range;
  const k = 255 / (hi - lo);
  const out = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    out[4 * i] = (data[i]! - lo) * k;
    out[4 * i + 1] = (data[plane + i]! - lo) * k;
    out[4 * i + 2] = (data[2 * plane + i]! - lo) * k;
    out[4 * i + 3] = 255;
  }
  return { data: out, width, height };
}
