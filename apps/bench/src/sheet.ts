import type { Point, RgbaImage } from '@stabledrag/core';

/** Nearest-neighbour upscale by an integer factor. */
export function upscale(image: RgbaImage, factor: number): RgbaImage {
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = 4 * (Math.floor(y / factor) * image.width + Math.floor(x / factor));
      const d = 4 * (y * width + x);
      for (let c = 0; c < 4; c++) data[d + c] = image.data[s + c]!;
    }
  }
  return { data, width, height };
}

/** Tiles images (all the same size) into rows of `columns`, with a 2-px grey gutter. */
export function contactSheet(tiles: readonly RgbaImage[], columns: number): RgbaImage {
  const tw = tiles[0]!.width;
  const th = tiles[0]!.height;
  const gap = 2;
  const rows = Math.ceil(tiles.length / columns);
  const width = columns * (tw + gap) - gap;
  const height = rows * (th + gap) - gap;
  const data = new Uint8ClampedArray(width * height * 4).fill(128);
  tiles.forEach((t, i) => {
    const ox = (i % columns) * (tw + gap);
    const oy = Math.floor(i / columns) * (th + gap);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const s = 4 * (y * tw + x);
        const d = 4 * ((oy + y) * width + ox + x);
        for (let c = 0; c < 4; c++) data[d + c] = t.data[s + c]!;
      }
    }
  });
  return { data, width, height };
}

/** Draws handles (red), targets (blue) and found points (green) on an upscaled image, in place. */
export function markPoints(image: RgbaImage, scale: number, sets: readonly { points: readonly Point[]; colour: readonly [number, number, number] }[]): void {
  for (const { points, colour } of sets) {
    for (const p of points) {
      const cx = (p.x + 0.5) * scale - 0.5;
      const cy = (p.y + 0.5) * scale - 0.5;
      const r = Math.max(1.5, scale * 0.9);
      for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++) {
        for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) {
          if (dx * dx + dy * dy > r * r) continue;
          const x = Math.round(cx + dx);
          const y = Math.round(cy + dy);
          if (x < 0 || y < 0 || x >= image.width || y >= image.height) continue;
          const o = 4 * (y * image.width + x);
          image.data[o] = colour[0];
          image.data[o + 1] = colour[1];
          image.data[o + 2] = colour[2];
          image.data[o + 3] = 255;
        }
      }
    }
  }
}
