import { extname } from 'node:path';
import jpeg from 'jpeg-js';
import type { RgbaImage } from '@stabledrag/core';
import { usageError } from './errors.js';
import { encodePng } from './png.js';

/** The image files the CLI writes, chosen by the output's extension. */
export type ImageFormat = 'png' | 'jpeg';

const FORMATS: Record<string, ImageFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg' };

/** JPEG quality (0-100) of written images: high, since the edit's detail is the point. */
export const JPEG_QUALITY = 92;

/**
 * The format an image output is written in, from its extension (case-insensitive). Anything else
 * is refused before the drag, rather than writing bytes the name misdescribes.
 */
export function imageFormatOf(path: string, option: string): ImageFormat {
  const ext = extname(path).toLowerCase();
  const format = FORMATS[ext];
  if (format) return format;
  const what = ext === '' ? 'has no extension' : `ends in "${ext}"`;
  throw usageError(`${option} ${path} ${what}; images are written as .png or .jpg/.jpeg, so name the file with one of those.`);
}

/** Encodes an opaque RGBA image as PNG (lossless, RGBA) or baseline JPEG (alpha dropped). */
export function encodeImage(image: RgbaImage, format: ImageFormat): Uint8Array {
  if (format === 'png') return encodePng(image);
  const data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const encoded = jpeg.encode({ data, width: image.width, height: image.height }, JPEG_QUALITY);
  return new Uint8Array(encoded.data.buffer, encoded.data.byteOffset, encoded.data.byteLength);
}
