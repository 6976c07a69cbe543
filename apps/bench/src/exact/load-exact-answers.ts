import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Point } from '@stabledrag/core';
import { readPng, toFloat, type FloatImage } from '../image.js';

/** The renderer's exact answer to one task (tools/dataset/make_exact.py, plus the half-way edit). */
export interface ExactAnswer {
  readonly seed: number;
  /** Renderer parameters of the seed's image (θ = erf(z/√2)) and of its exact edit. */
  readonly theta0: readonly number[];
  readonly theta: readonly number[];
  /** Per pair: where the handle's content is in the exact edit (within 0.25 px of the target). */
  readonly landed: readonly Point[];
  /** The same drag stopped half way: parameters and where the content is then. */
  readonly half: { readonly theta: readonly number[]; readonly landed: readonly Point[] };
  /** The renderer's own images of theta and theta0. */
  readonly rendererEdit: FloatImage;
  readonly rendererOriginal: FloatImage;
}

interface ExactFile {
  readonly seed: number;
  readonly theta0: number[];
  readonly theta: number[];
  readonly pairs: { readonly landed: [number, number] }[];
  readonly half?: { readonly theta: number[]; readonly landed: [number, number][] };
  readonly image: string;
  readonly original: string;
}

const point = (p: readonly [number, number]): Point => ({ x: p[0], y: p[1] });

/**
 * Reads `<tasksDir>/exact/<task>.json` and its two PNGs for every task that has one (written by
 * apps/bench/scripts/make_faces2_tasks.py); an empty map when the folder has none (faces.py sets).
 */
export function loadExactAnswers(tasksDir: string): Map<string, ExactAnswer> {
  const dir = join(tasksDir, 'exact');
  const out = new Map<string, ExactAnswer>();
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const e = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ExactFile;
    if (!e.half) throw new Error(`${join(dir, file)} has no half-way edit; remake the set with apps/bench/scripts/make_faces2_tasks.py`);
    out.set(file.slice(0, -'.json'.length), {
      seed: e.seed,
      theta0: e.theta0,
      theta: e.theta,
      landed: e.pairs.map((p) => point(p.landed)),
      half: { theta: e.half.theta, landed: e.half.landed.map(point) },
      rendererEdit: toFloat(readPng(join(dir, e.image))),
      rendererOriginal: toFloat(readPng(join(dir, e.original))),
    });
  }
  return out;
}
