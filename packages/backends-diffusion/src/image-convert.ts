import type { RgbaImage } from '@stabledrag/core';

/** RGBA8 → a [1, 3, H, W] float image in [−1, 1], the VAE's input range (alpha ignored). */
export function rgbaToChw(image: RgbaImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = image.data[4 * i + c]! / 127.5 - 1;
  }
  return out;
}

/** A [1, 3, H, W] float image in [−1, 1] → RGBA8 (alpha 255), clamping. */
export function chwToRgba(data: Float32Array, width: number, height: number): RgbaImage {
  const plane = width * height;
  if (data.length < 3 * plane) throw new RangeError(`image tensor has ${data.length} floats, expected ${3 * plane}`);
  const out = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = (data[c * plane + i]! + 1) * 127.5;
    out[4 * i + 3] = 255;
  }
  return { data: out, width, height };
}
