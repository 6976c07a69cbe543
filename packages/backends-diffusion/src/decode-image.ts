import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { StableDragError } from '@stabledrag/core';
import type { RgbaImage } from '@stabledrag/core';

// Both codecs are CommonJS; their default exports are the module objects.
const { PNG } = pngjs;

/** What kind of file the first bytes say it is. */
function sniff(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Decodes a PNG (any colour type pngjs reads: grey, palette, 16-bit, with or without alpha) or a
 * baseline/progressive JPEG into RGBA8; grey images come back with R = G = B. `where` names the
 * file in errors. Node only (pngjs needs zlib); pages decode with the browser's own codecs.
 */
export function decodeImage(bytes: Uint8Array, where: string): RgbaImage {
  const kind = sniff(bytes);
  try {
    if (kind === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { data: new Uint8ClampedArray(png.data), width: png.width, height: png.height };
    }
    if (kind === 'jpeg') {
      // 1 GB of decoded pixels at most: a guard against a hostile header, far above any photo we can drag.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { data: new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height };
    }
  } catch (error) {
    throw new StableDragError('INVALID_INPUT', `${where} is not a readable ${kind === 'png' ? 'PNG' : 'JPEG'}: ${(error as Error).message}`, { cause: error });
  }
  throw new StableDragError('INVALID_INPUT', `${where} is neither a PNG nor a JPEG (by its first bytes); convert it to one of those.`);
}
