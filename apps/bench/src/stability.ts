import { createRng, type DragPair, type Point } from '@stabledrag/core';
import type { FloatImage } from './image.js';
import type { BenchTask } from './tasks.js';

/** Pixels within this distance of a pair's handle→target segment belong to the edit region. */
export const EDIT_REGION_RADIUS = 16;
/**
 * An edit is "destroyed" when 1 − MAE outside the edit region falls below this. Healthy drags of
 * the default model, DragGAN and StableDrag alike, measured 0.90–0.96 there; the runaway drags of
 * issue #12 (flat colour blocks) measured 0.52–0.77.
 */
export const DESTROYED_FIDELITY = 0.85;

/** Distance of p to the segment a–b, pixels. */
export function segmentDistance(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2)) : 0;
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** 1 − MAE over the pixels farther than {@link EDIT_REGION_RADIUS} from every pair's segment (RGB in [0, 1]). */
export function outsideFidelity(original: FloatImage, edited: FloatImage, pairs: readonly DragPair[]): number {
  const { width, height } = original;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = { x, y };
      if (pairs.some((q) => segmentDistance(p, q.handle, q.target) < EDIT_REGION_RADIUS)) continue;
      const k = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) sum += Math.abs(original.data[k + c]! - edited.data[k + c]!);
      n += 3;
    }
  }
  return n > 0 ? 1 - sum / n : Number.NaN;
}

/**
 * Long drags (20–60 px) derived from the task set: each task's first pair keeps its handle and
 * direction and gets a seeded length, shortened so the target stays `margin` px inside the image;
 * pairs that cannot reach 20 px that way are dropped. No mask: a long drag moves a whole part.
 */
export function longDragTasks(tasks: readonly BenchTask[], size: number, seed = 2024, margin = 6): BenchTask[] {
  const rng = createRng(seed);
  const out: BenchTask[] = [];
  for (const t of tasks) {
    const want = 20 + 40 * rng();
    const { handle, target } = t.pairs[0]!;
    const len = Math.hypot(target.x - handle.x, target.y - handle.y);
    if (len === 0) continue;
    const ux = (target.x - handle.x) / len;
    const uy = (target.y - handle.y) / len;
    const room = Math.min(
      ux > 0 ? (size - 1 - margin - handle.x) / ux : ux < 0 ? (margin - handle.x) / ux : Infinity,
      uy > 0 ? (size - 1 - margin - handle.y) / uy : uy < 0 ? (margin - handle.y) / uy : Infinity,
    );
    const L = Math.min(want, room);
    if (L < 20) continue;
    const newTarget = { x: Math.round(handle.x + L * ux), y: Math.round(handle.y + L * uy) };
    out.push({ id: `long-${t.id}`, name: `long ${t.name}`, seed: t.seed, ...(t.truncation !== undefined ? { truncation: t.truncation } : {}), pairs: [{ handle, target: newTarget }], part: t.part });
  }
  return out;
}
