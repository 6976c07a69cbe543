import type { Point, RgbaImage } from '@stabledrag/core';

type Rgb = readonly [number, number, number];

export const HANDLE_COLOUR: Rgb = [230, 30, 30];
export const TARGET_COLOUR: Rgb = [40, 90, 240];
const ARROW_COLOUR: Rgb = [255, 255, 255];

/** Nearest-neighbour upscale by an integer factor (so drawn points stay crisp in a GIF). */
export function upscale(image: RgbaImage, factor: number): RgbaImage {
  if (factor === 1) return { data: new Uint8ClampedArray(image.data), width: image.width, height: image.height };
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Uint8ClampedArray(width * height * 4);
  const src = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  const dst = new Uint32Array(data.buffer);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / factor) * image.width;
    for (let x = 0; x < width; x++) dst[y * width + x] = src[row + Math.floor(x / factor)]!;
  }
  return { data, width, height };
}

function plot(image: RgbaImage, x: number, y: number, c: Rgb): void {
  const xi = Math.round(x);
  const yi = Math.round(y);
  if (xi < 0 || yi < 0 || xi >= image.width || yi >= image.height) return;
  const o = 4 * (yi * image.width + xi);
  image.data[o] = c[0];
  image.data[o + 1] = c[1];
  image.data[o + 2] = c[2];
  image.data[o + 3] = 255;
}

function disc(image: RgbaImage, cx: number, cy: number, radius: number, c: Rgb): void {
  const r = Math.ceil(radius);
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= radius * radius) plot(image, cx + dx, cy + dy, c);
  }
}

function line(image: RgbaImage, x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
  const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
  for (let i = 0; i <= n; i++) plot(image, x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, c);
}

/**
 * Draws the drag on an image in place: an arrow from each handle to its target, handles red,
 * targets blue. Points are in the coordinates of the original image; `scale` maps them onto an
 * upscaled one (pixel centre (x, y) → ((x + 0.5)·scale − 0.5, …)).
 */
export function drawDrag(image: RgbaImage, handles: readonly Point[], targets: readonly Point[], scale = 1): void {
  const map = (p: Point): Point => ({ x: (p.x + 0.5) * scale - 0.5, y: (p.y + 0.5) * scale - 0.5 });
  const radius = Math.max(1.5, Math.min(image.width, image.height) / 64);
  handles.forEach((h0, i) => {
    const t0 = targets[i];
    if (!t0) return;
    const h = map(h0);
    const t = map(t0);
    const len = Math.hypot(t.x - h.x, t.y - h.y);
    if (len > 2 * radius) {
      const ux = (t.x - h.x) / len;
      const uy = (t.y - h.y) / len;
      // Stop the shaft at the target disc's rim so the arrowhead stays visible.
      const ex = t.x - ux * radius * 1.5;
      const ey = t.y - uy * radius * 1.5;
      line(image, h.x, h.y, ex, ey, ARROW_COLOUR);
      const head = radius * 2.5;
      for (const side of [-1, 1]) {
        line(image, ex, ey, ex - head * (ux * 0.87 - side * uy * 0.5), ey - head * (uy * 0.87 + side * ux * 0.5), ARROW_COLOUR);
      }
    }
    disc(image, t.x, t.y, radius, TARGET_COLOUR);
    disc(image, h.x, h.y, radius, HANDLE_COLOUR);
  });
}
