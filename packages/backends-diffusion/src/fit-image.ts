import { StableDragError } from '@stabledrag/core';
import type { RgbaImage } from '@stabledrag/core';

/** An image made ready for a model of fixed square size, with what was done to it. */
export interface FittedImage {
  readonly image: RgbaImage;
  /** One sentence per change (crop, resize, transparency), for the CLI and the page to show. */
  readonly notices: readonly string[];
}

/** Per output pixel: the first input index and the normalised weights of a resampling filter. */
function resampleWeights(inSize: number, outSize: number): { start: Int32Array; weights: Float64Array[] } {
  const scale = inSize / outSize;
  // A triangle (bilinear) filter stretched by the downscale factor, so shrinking averages every
  // input pixel instead of skipping some (PIL's antialiased BILINEAR).
  const support = Math.max(scale, 1);
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize - 1, Math.ceil(centre + support));
    const w = new Float64Array(hi - lo + 1);
    let sum = 0;
    for (let x = lo; x <= hi; x++) {
      const v = Math.max(0, 1 - Math.abs(x + 0.5 - centre) / support);
      w[x - lo] = v;
      sum += v;
    }
    for (let k = 0; k < w.length; k++) w[k] = w[k]! / sum;
    start[i] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/** Resizes RGBA8 separably (rows, then columns) in float64. */
export function resizeImage(image: RgbaImage, width: number, height: number): RgbaImage {
  if (image.width === width && image.height === height) return { data: new Uint8ClampedArray(image.data), width, height };
  const rx = resampleWeights(image.width, width);
  const ry = resampleWeights(image.height, height);
  const mid = new Float64Array(width * image.height * 4);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      const w = rx.weights[x]!;
      const s = rx.start[x]!;
      for (let c = 0; c < 4; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * image.data[4 * (y * image.width + s + k) + c]!;
        mid[4 * (y * width + x) + c] = acc;
      }
    }
  }
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const w = ry.weights[y]!;
    const s = ry.start[y]!;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * mid[4 * ((s + k) * width + x) + c]!;
        out[4 * (y * width + x) + c] = Math.round(acc);
      }
    }
  }
  return { data: out, width, height };
}

/**
 * Makes any RGBA image fit a model that takes `size`×`size` pixels. The policy, stated once:
 * transparent pixels are composited over white (what a viewer shows); a non-square image is
 * cropped to its centred square (the drag edits what is kept, nothing is squashed); the square is
 * then resized to `size` (antialiased). Each step adds a notice; an image that already fits comes
 * back unchanged with no notice.
 */
export function fitImage(image: RgbaImage, size: number): FittedImage {
  const { width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || image.data.length !== width * height * 4) {
    throw new StableDragError('INVALID_INPUT', `The image must be RGBA8 with width·height·4 bytes, got ${width}×${height} and ${image.data.length} bytes.`);
  }
  const notices: string[] = [];
  let data = image.data;
  let transparent = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]! < 255) transparent++;
  if (transparent > 0) {
    data = new Uint8ClampedArray(data);
    for (let i = 0; i < data.length; i += 4) {
      const a = data[i + 3]! / 255;
      for (let c = 0; c < 3; c++) data[i + c] = data[i + c]! * a + 255 * (1 - a);
      data[i + 3] = 255;
    }
    notices.push(`${transparent} transparent pixel(s) were composited over white.`);
  }
  let out: RgbaImage = { data, width, height };
  if (width !== height) {
    const side = Math.min(width, height);
    const x0 = Math.floor((width - side) / 2);
    const y0 = Math.floor((height - side) / 2);
    const crop = new Uint8ClampedArray(side * side * 4);
    for (let y = 0; y < side; y++) crop.set(data.subarray(4 * ((y0 + y) * width + x0), 4 * ((y0 + y) * width + x0 + side)), 4 * y * side);
    out = { data: crop, width: side, height: side };
    notices.push(`The ${width}×${height} image was cropped to its centred ${side}×${side} square.`);
  }
  if (out.width !== size) {
    notices.push(`The ${out.width}×${out.height} image was resized to the model's ${size}×${size}.`);
    out = resizeImage(out, size, size);
  }
  return { image: out, notices };
}
