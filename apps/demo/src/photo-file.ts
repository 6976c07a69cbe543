import { fitImage } from '@stabledrag/backends-diffusion';
import type { RgbaImage } from '@stabledrag/core';

/** Files above this are refused before decoding (a tab would hold several copies of the pixels). */
export const MAX_PHOTO_BYTES = 40 * 1024 * 1024;
/** Decoded photos above this many pixels are refused (≈ 4 × 25 MP = 100 MB of RGBA in the page). */
export const MAX_PHOTO_PIXELS = 25_000_000;

/** A photo fitted to the model: the pixels the drag edits and what was done to get them. */
export interface FittedPhoto {
  readonly image: RgbaImage;
  readonly name: string;
  readonly notices: readonly string[];
}

/** Why a file cannot be used, in one line; null when it may be tried. */
export function checkPhotoFile(file: { readonly name: string; readonly type: string; readonly size: number }): string | null {
  const byType = file.type === 'image/png' || file.type === 'image/jpeg';
  const byName = /\.(png|jpe?g)$/i.test(file.name);
  if (!byType && !(file.type === '' && byName)) {
    return `"${file.name}" is not a PNG or JPEG image (${file.type || 'unknown type'}); choose a .png or .jpg photo.`;
  }
  if (file.size > MAX_PHOTO_BYTES) {
    return `"${file.name}" is ${(file.size / 1048576).toFixed(0)} MB; photos up to ${MAX_PHOTO_BYTES / 1048576} MB are accepted. Save a smaller copy and try again.`;
  }
  return null;
}

/** RGBA pixels of a decoded bitmap (via a canvas; alpha is kept for fitImage to composite). */
function pixelsOf(bitmap: ImageBitmap): RgbaImage {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  g.drawImage(bitmap, 0, 0);
  const d = g.getImageData(0, 0, bitmap.width, bitmap.height);
  return { data: d.data, width: d.width, height: d.height };
}

/**
 * Decodes a PNG or JPEG in the page and fits it to the model's `size`: composited over white
 * where transparent, cropped to its centred square, resized (the notices say which happened).
 * Grey PNGs decode to RGB like any other. Throws an Error with a one-line message.
 */
export async function loadPhoto(file: Blob & { readonly name: string }, size: number): Promise<FittedPhoto> {
  const problem = checkPhotoFile(file);
  if (problem) throw new Error(problem);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`"${file.name}" could not be decoded as an image; it may be damaged or not really a PNG or JPEG.`);
  }
  try {
    if (bitmap.width * bitmap.height > MAX_PHOTO_PIXELS) {
      throw new Error(`"${file.name}" is ${bitmap.width}×${bitmap.height} pixels; photos up to ${MAX_PHOTO_PIXELS / 1e6} megapixels are accepted. Save a smaller copy and try again.`);
    }
    const fitted = fitImage(pixelsOf(bitmap), size);
    return { image: fitted.image, name: file.name, notices: fitted.notices };
  } finally {
    bitmap.close();
  }
}
