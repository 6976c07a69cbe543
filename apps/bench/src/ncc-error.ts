import type { Point } from '@stabledrag/core';
import { warp, type FloatImage } from './image.js';
import { locatePatch } from './metrics/ncc.js';

export interface ErrorStats {
  readonly family: string;
  readonly description: string;
  /** Cases measured. */
  readonly n: number;
  readonly mean: number;
  readonly p95: number;
  readonly max: number;
  /** Share of cases off by more than 2 px (a gross mismatch). */
  readonly gross: number;
}

/** Error statistics of one family of known-answer cases. */
export function stats(family: string, description: string, errors: number[]): ErrorStats {
  const sorted = [...errors].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    family,
    description,
    n,
    mean: n ? sorted.reduce((a, b) => a + b, 0) / n : Number.NaN,
    p95: n ? sorted[Math.min(n - 1, Math.floor(0.95 * n))]! : Number.NaN,
    max: n ? sorted[n - 1]! : Number.NaN,
    gross: n ? sorted.filter((e) => e > 2).length / n : Number.NaN,
  };
}

const INTEGER: readonly (readonly [number, number])[] = [[3, 0], [0, -5], [8, 6], [-12, 4], [16, -16], [0, 24], [-32, 0]];
const SUBPIXEL: readonly (readonly [number, number])[] = [[0.5, 0], [0, 0.5], [1.25, -0.75], [2.5, 3.5], [-4.3, 1.7], [7.6, -5.2]];
/** Local moves: length (px) and direction (radians, image axes). */
const LOCAL: readonly (readonly [number, number])[] = [[4, 0], [8, Math.PI / 2], [12, (5 * Math.PI) / 4], [16, Math.PI / 3]];
const LOCAL_SIGMA = 12;

/**
 * The error of the Mean Distance measure itself, on the benchmark's own images with a known
 * answer: (1) whole-image shifts by whole pixels, (2) by fractions of a pixel (bilinear resampling),
 * (3) local moves — a Gaussian displacement field of σ = 12 px centred on the moved content, which
 * squeezes the content ahead of it as a drag does. Each case runs the exact search the benchmark
 * runs (the search box spans handle and true position, plus the margin).
 */
export function measureNccError(samples: readonly { image: FloatImage; handles: readonly Point[] }[]): ErrorStats[] {
  const fam = { integer: [] as number[], subpixel: [] as number[], local: [] as number[] };
  const inside = (img: FloatImage, p: Point): boolean => p.x >= 8 && p.y >= 8 && p.x <= img.width - 9 && p.y <= img.height - 9;
  for (const { image, handles } of samples) {
    for (const shifts of [INTEGER, SUBPIXEL] as const) {
      for (const [dx, dy] of shifts) {
        const moved = handles.filter((h) => inside(image, { x: h.x + dx, y: h.y + dy }));
        if (moved.length === 0) continue;
        const edited = warp(image, () => [dx, dy]);
        for (const h of moved) {
          const truth = { x: h.x + dx, y: h.y + dy };
          const r = locatePatch(image, edited, h, truth);
          (shifts === INTEGER ? fam.integer : fam.subpixel).push(Math.hypot(r.point.x - truth.x, r.point.y - truth.y));
        }
      }
    }
    for (const h of handles) {
      for (const [len, angle] of LOCAL) {
        const truth = { x: h.x + len * Math.cos(angle), y: h.y + len * Math.sin(angle) };
        if (!inside(image, truth)) continue;
        // Backward warp: out(p) = in(p − s·g(p)), g centred on the destination so out(truth) = in(h).
        const s = [truth.x - h.x, truth.y - h.y] as const;
        const edited = warp(image, (x, y) => {
          const g = Math.exp(-((x - truth.x) ** 2 + (y - truth.y) ** 2) / (2 * LOCAL_SIGMA * LOCAL_SIGMA));
          return [s[0] * g, s[1] * g];
        });
        const r = locatePatch(image, edited, h, truth);
        fam.local.push(Math.hypot(r.point.x - truth.x, r.point.y - truth.y));
      }
    }
  }
  return [
    stats('integer shift', `whole image moved by ${INTEGER.map((s) => `(${s.join(', ')})`).join(', ')} px`, fam.integer),
    stats('sub-pixel shift', `whole image moved by ${SUBPIXEL.map((s) => `(${s.join(', ')})`).join(', ')} px, bilinear`, fam.subpixel),
    stats('local move', `Gaussian displacement field (σ = ${LOCAL_SIGMA} px) moving the handle's content by ${LOCAL.map((l) => l[0]).join(', ')} px`, fam.local),
  ];
}
