import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { Mask, RgbaImage } from '@stabledrag/core';
import { maskToImage } from '@stabledrag/cli';

/** An RGB image as three float planes in [0, 1] (CHW), the form every metric works on. */
export interface FloatImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

export function toFloat(image: RgbaImage): FloatImage {
  const { width, height } = image;
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[c * plane + i] = image.data[4 * i + c]! / 255;
  }
  return { data, width, height };
}

export function toRgba(image: FloatImage): RgbaImage {
  const { width, height } = image;
  const plane = width * height;
  const data = new Uint8ClampedArray(4 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[4 * i + c] = Math.round(image.data[c * plane + i]! * 255);
    data[4 * i + 3] = 255;
  }
  return { data, width, height };
}

/**
 * Bilinear read of channel `c` at (x, y), pixel centres at integers, coordinates clamped to the
 * image (edge padding) so reads just outside the border repeat the edge pixel.
 */
export function sampleChannel(image: FloatImage, c: number, x: number, y: number): number {
  const { width: W, height: H, data } = image;
  const cx = x < 0 ? 0 : x > W - 1 ? W - 1 : x;
  const cy = y < 0 ? 0 : y > H - 1 ? H - 1 : y;
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = x0 + 1 < W ? x0 + 1 : x0;
  const y1 = y0 + 1 < H ? y0 + 1 : y0;
  const a = cx - x0;
  const b = cy - y0;
  const o = c * W * H;
  return (
    (1 - a) * (1 - b) * data[o + y0 * W + x0]! +
    a * (1 - b) * data[o + y0 * W + x1]! +
    (1 - a) * b * data[o + y1 * W + x0]! +
    a * b * data[o + y1 * W + x1]!
  );
}

/**
 * Backward warp: out(p) = image(p − displacement(p)), bilinear with edge padding. A constant
 * displacement s moves the content by +s (what sat at p now sits at p + s).
 */
export function warp(image: FloatImage, displacement: (x: number, y: number) => readonly [number, number]): FloatImage {
  const { width: W, height: H } = image;
  const data = new Float32Array(image.data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [dx, dy] = displacement(x, y);
      for (let c = 0; c < 3; c++) data[c * W * H + y * W + x] = sampleChannel(image, c, x - dx, y - dy);
    }
  }
  return { data, width: W, height: H };
}

export function readPng(path: string): RgbaImage {
  const png = PNG.sync.read(readFileSync(path));
  return { data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), width: png.width, height: png.height };
}

export function writePng(path: string, image: RgbaImage): void {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length);
  writeFileSync(path, PNG.sync.write(png));
}

/** A mask PNG: white (luma ≥ 128) = editable (1), black = fixed (0). */
export function readMaskPng(path: string): Mask {
  const img = readPng(path);
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0; i < data.length; i++) {
    const luma = 0.299 * img.data[4 * i]! + 0.587 * img.data[4 * i + 1]! + 0.114 * img.data[4 * i + 2]!;
    data[i] = luma >= 128 ? 1 : 0;
  }
  return { data, width: img.width, height: img.height };
}

export function writeMaskPng(path: string, mask: Mask): void {
  writePng(path, maskToImage(mask));
}
