import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mask, Point, RgbaImage } from '@stabledrag/core';
import { fitImage } from '@stabledrag/backends-diffusion';
import { readMaskPng, readPng } from '../image.js';
import type { DiffusionPair } from './score-diffusion-edit.js';

/** A diffusion task at the model's resolution: the image to edit, its drags and the exact answer. */
export interface DiffusionTask {
  readonly id: string;
  readonly name: string;
  /** The image as stored (128 px), what createLatent receives (it fits the image to the model itself). */
  readonly image: RgbaImage;
  /** The same image fitted to the model (fitImage, the backend's own policy): what every metric compares with. */
  readonly source: RgbaImage;
  /** The renderer's exact edit fitted to the model; absent for photographs. */
  readonly exact?: RgbaImage;
  readonly pairs: readonly DiffusionPair[];
  readonly mask?: Mask;
  /** Model px per task px (1 for a 128-px model). */
  readonly scale: number;
}

interface TaskFile {
  readonly resolution: number;
  readonly tasks: readonly {
    readonly id: string;
    readonly name: string;
    readonly image: string;
    readonly exact?: string;
    readonly mask?: string;
    readonly pairs: readonly { readonly handle: [number, number]; readonly target: [number, number]; readonly landed?: [number, number] }[];
  }[];
}

/** Nearest-neighbour mask resize (masks are binary). */
function resizeMask(mask: Mask, size: number): Mask {
  if (mask.width === size && mask.height === size) return mask;
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / size));
      const sy = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / size));
      data[y * size + x] = mask.data[sy * mask.width + sx]!;
    }
  }
  return { data, width: size, height: size };
}

/**
 * Reads `tasks.json` (apps/bench/scripts/make_diffusion_tasks.py's format; photos/photos.json has
 * the same shape without exact answers) and brings everything to a `resolution`-px model: points
 * scale with the image (handles and targets rounded to whole pixels, the trackers' grid; the
 * landing point is a measurement and keeps its fraction). `limit` takes the first n tasks.
 */
export function loadDiffusionTasks(file: string, resolution: number, limit = Infinity): DiffusionTask[] {
  if (!existsSync(file)) throw new Error(`No task file at ${file}: run /usr/bin/python3 apps/bench/scripts/make_diffusion_tasks.py`);
  const meta = JSON.parse(readFileSync(file, 'utf8')) as TaskFile;
  const dir = join(file, '..');
  const scale = resolution / meta.resolution;
  const at = (p: readonly [number, number], round: boolean): Point => ({
    x: round ? Math.round((p[0] + 0.5) * scale - 0.5) : (p[0] + 0.5) * scale - 0.5,
    y: round ? Math.round((p[1] + 0.5) * scale - 0.5) : (p[1] + 0.5) * scale - 0.5,
  });
  return meta.tasks.slice(0, limit).map((t) => {
    const image = readPng(join(dir, t.image));
    return {
      id: t.id,
      name: t.name,
      image,
      source: fitImage(image, resolution).image,
      ...(t.exact ? { exact: fitImage(readPng(join(dir, t.exact)), resolution).image } : {}),
      ...(t.mask ? { mask: resizeMask(readMaskPng(join(dir, t.mask)), resolution) } : {}),
      pairs: t.pairs.map((p) => ({ handle: at(p.handle, true), target: at(p.target, true), ...(p.landed ? { landed: at(p.landed, false) } : {}) })),
      scale,
    };
  });
}
