import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

const { PNG } = pngjs;

/** RGBA pixels of a test photo: gradients plus a bright disc, so crops and resizes are visible. */
export function photoPixels(width: number, height: number, alpha = 255): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 5) ** 2;
      data[i] = (255 * x) / width;
      data[i + 1] = (255 * y) / height;
      data[i + 2] = disc ? 250 : 20;
      data[i + 3] = alpha;
    }
  }
  return data;
}

/** Writes a PNG of `colorType` (2 RGB, 0 grey, 4 grey + alpha, 6 RGBA) into `dir`; returns its path. */
export function writePhotoPng(dir: string, name: string, width: number, height: number, options: { colorType?: 0 | 2 | 4 | 6; alpha?: number } = {}): string {
  const png = new PNG({ width, height });
  png.data = photoPixels(width, height, options.alpha ?? 255);
  const path = join(dir, name);
  const colorType = options.colorType ?? 2;
  writeFileSync(path, PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true }));
  return path;
}

/** Writes a baseline JPEG into `dir`; returns its path. */
export function writePhotoJpeg(dir: string, name: string, width: number, height: number): string {
  const path = join(dir, name);
  writeFileSync(path, jpeg.encode({ data: photoPixels(width, height), width, height }, 90).data);
  return path;
}
