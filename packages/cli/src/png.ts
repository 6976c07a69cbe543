import { readFile } from 'node:fs/promises';
import pngjs from 'pngjs';
import type { Mask, RgbaImage } from '@stabledrag/core';
import { usageError } from './errors.js';

// pngjs is CommonJS; its default export is the module object.
const { PNG } = pngjs;

/** Encodes an RGBA image as an 8-bit RGBA PNG. */
export function encodePng(image: RgbaImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType: 6 });
}

/** Decodes any PNG pngjs reads (grey, palette, 16-bit, with or without alpha) into RGBA8. */
export function decodePng(bytes: Uint8Array, where: string): RgbaImage {
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { data: new Uint8ClampedArray(png.data), width: png.width, height: png.height };
  } catch (error) {
    throw usageError(`${where} is not a readable PNG: ${(error as Error).message}`, error);
  }
}

/**
 * A mask from a picture: white (luma ≥ 128) and opaque (alpha ≥ 128) pixels are editable, every
 * other pixel stays fixed — what a user paints in any editor.
 */
export function imageToMask(image: RgbaImage): Mask {
  const n = image.width * image.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = image.data[4 * i]!;
    const g = image.data[4 * i + 1]!;
    const b = image.data[4 * i + 2]!;
    const a = image.data[4 * i + 3]!;
    // Rec. 601 luma, the usual "is it white" test.
    data[i] = a >= 128 && 0.299 * r + 0.587 * g + 0.114 * b >= 128 ? 1 : 0;
  }
  return { data, width: image.width, height: image.height };
}

/** Reads a mask PNG and checks it is `width`×`height` and marks at least one pixel editable. */
export async function readMask(path: string, width: number, height: number): Promise<Mask> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw usageError(`Cannot read the mask ${path}: ${(error as Error).message}`, error);
  }
  const mask = imageToMask(decodePng(bytes, `The mask ${path}`));
  if (mask.width !== width || mask.height !== height) {
    throw usageError(`The mask ${path} is ${mask.width}×${mask.height} but the image is ${width}×${height}; paint the mask at the image size (white = editable).`);
  }
  if (!mask.data.includes(1)) {
    throw usageError(`The mask ${path} has no white pixel, so nothing could move; paint the editable region white.`);
  }
  return mask;
}

/** A mask as a black-and-white image (white = editable), e.g. to show or save it. */
export function maskToImage(mask: Mask): RgbaImage {
  const data = new Uint8ClampedArray(mask.width * mask.height * 4);
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i] ? 255 : 0;
    data[4 * i] = v;
    data[4 * i + 1] = v;
    data[4 * i + 2] = v;
    data[4 * i + 3] = 255;
  }
  return { data, width: mask.width, height: mask.height };
}
