import { readFile, stat } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import type { RgbaImage } from '@stabledrag/core';
import { usageError } from './errors.js';
import { decodePng } from './png.js';

/** A photograph made ready for a model: the fitted image and one sentence per change made. */
export interface Photo {
  /** `size`×`size`, opaque: what the model edits and what --before writes. */
  readonly image: RgbaImage;
  /** Width and height of the file as read. */
  readonly originalSize: readonly [number, number];
  readonly notices: readonly string[];
}

/** PNG colour types without colour (0 grey, 4 grey + alpha), from the IHDR chunk. */
function isGreyPng(bytes: Uint8Array): boolean {
  const colourType = bytes[25];
  return colourType === 0 || colourType === 4;
}

function kindOf(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Decodes a PNG or JPEG file into RGBA8, with a notice when a grey PNG became RGB. */
export function decodePhoto(bytes: Uint8Array, where: string): { image: RgbaImage; notices: string[] } {
  const kind = kindOf(bytes);
  if (kind === 'png') {
    const image = decodePng(bytes, where);
    return { image, notices: isGreyPng(bytes) ? ['The grey PNG was converted to RGB.'] : [] };
  }
  if (kind === 'jpeg') {
    try {
      // A cap against a hostile header, far above any photo a model of this size can use.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { image: { data: new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height }, notices: [] };
    } catch (error) {
      throw usageError(`${where} is not a readable JPEG: ${(error as Error).message}`, error);
    }
  }
  throw usageError(`${where} is neither a PNG nor a JPEG (by its first bytes); convert it to one of those.`);
}

/** A photo as read from disk, before it is fitted to a model. */
export interface DecodedPhoto {
  readonly path: string;
  readonly image: RgbaImage;
  readonly notices: readonly string[];
}

/** Reads and decodes the photo of `--image`; a missing file, a folder or another format is a usage error (exit 2). */
export async function readPhotoFile(path: string, option = '--image'): Promise<DecodedPhoto> {
  const isFile = await stat(path).then((s) => s.isFile(), () => undefined);
  if (isFile === undefined) throw usageError(`${option} ${path}: no such file; give the path of a PNG or JPEG photo.`);
  if (!isFile) throw usageError(`${option} ${path} is a folder; give the path of a PNG or JPEG photo.`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw usageError(`Cannot read ${option} ${path}: ${(error as Error).message}`, error);
  }
  const decoded = decodePhoto(bytes, `${option} ${path}`);
  return { path, ...decoded };
}

/**
 * Fits a photo to a model of `size`×`size` pixels: transparency composited over white, a
 * non-square photo cropped to its centred square, then resized (the policy of `fitImage`, shared
 * with the diffusion backend, so the CLI shows and saves exactly what the model sees).
 */
export async function fitPhoto(photo: DecodedPhoto, size: number): Promise<Photo> {
  // Imported here: the diffusion package (and what it pulls in) is not needed to drag a seed.
  const { fitImage } = await import('@stabledrag/backends-diffusion');
  const fitted = fitImage(photo.image, size);
  return { image: fitted.image, originalSize: [photo.image.width, photo.image.height], notices: [...photo.notices, ...fitted.notices] };
}
