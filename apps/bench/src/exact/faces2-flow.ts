import type { FloatImage } from '../image.js';
import { sampleChannel } from '../image.js';

/**
 * The faces2 renderer's displacement field (tools/dataset/faces2.py): image(x) = scene(x + D(x)),
 * D a cubic B-spline over a GRID × GRID lattice of control offsets spanning [−1, 1]², each
 * θ · WARP_AMP in image coordinates. θ's last 2·GRID² entries are the offsets, x then y, row-major
 * (row = y index). An exact edit changes only these, so it is the original's scene moved: this
 * module moves any image of the seed (the model's own) the same way.
 */
export const GRID = 6;
export const WARP_AMP = 0.12;
const H_KNOT = 2 / (GRID - 1);

/** Uniform cubic B-spline kernel (support |t| < 2, sums to 1 over integer shifts). */
function bspline3(t: number): number {
  const a = Math.abs(t);
  if (a < 1) return 2 / 3 - a * a + (a * a * a) / 2;
  if (a < 2) return ((2 - a) * (2 - a) * (2 - a)) / 6;
  return 0;
}

function basis(u: number, out: Float64Array): void {
  for (let k = 0; k < GRID; k++) out[k] = bspline3((u - (-1 + k * H_KNOT)) / H_KNOT);
}

const BX = new Float64Array(GRID);
const BY = new Float64Array(GRID);

/** D(x, y) of θ at image coordinates (x, y) ∈ [−1, 1]², in image coordinates. */
export function displacement(theta: readonly number[], x: number, y: number): [number, number] {
  const n = GRID * GRID;
  const wx = theta.length - 2 * n;
  if (wx < 0) throw new Error(`displacement: θ has ${theta.length} entries, fewer than the ${2 * n} of the faces2 warp`);
  // scratch rows shared by every call: this runs ~10⁶ times per image in moveByFlow
  const bx = BX;
  const by = BY;
  basis(x, bx);
  basis(y, by);
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < GRID; i++) {
    if (by[i] === 0) continue;
    for (let j = 0; j < GRID; j++) {
      const w = by[i]! * bx[j]!;
      dx += w * theta[wx + i * GRID + j]!;
      dy += w * theta[wx + n + i * GRID + j]!;
    }
  }
  return [dx * WARP_AMP, dy * WARP_AMP];
}

/**
 * The point x showing scene point s in the image of θ: x + D(x) = s, by fixed-point iteration (a
 * contraction while |∂D/∂x| < 1, as tools/dataset/exact_edit.py solves it).
 */
export function pointShowing(theta: readonly number[], sx: number, sy: number, iterations = 60): [number, number] {
  let x = sx;
  let y = sy;
  for (let k = 0; k < iterations; k++) {
    const [dx, dy] = displacement(theta, x, y);
    const nx = sx - dx;
    const ny = sy - dy;
    const step = Math.abs(nx - x) + Math.abs(ny - y);
    x = nx;
    y = ny;
    if (step < 1e-9) break;
  }
  return [x, y];
}

const toCoord = (p: number, res: number): number => ((p + 0.5) * 2) / res - 1;
const toPx = (c: number, res: number): number => ((c + 1) * res) / 2 - 0.5;

/** Where the content at pixel p of the image of θ0 is in the image of θ1 (pixels). */
export function movedPoint(theta0: readonly number[], theta1: readonly number[], p: { x: number; y: number }, res: number): { x: number; y: number } {
  const cx = toCoord(p.x, res);
  const cy = toCoord(p.y, res);
  const [dx, dy] = displacement(theta0, cx, cy);
  const [x, y] = pointShowing(theta1, cx + dx, cy + dy);
  return { x: toPx(x, res), y: toPx(y, res) };
}

/**
 * `image` (an image of θ0) moved as the renderer moves its scene from θ0 to θ1: each pixel of the
 * result shows the scene point it shows in the image of θ1, read from `image` where that point is
 * (bilinear, edge-clamped).
 */
export function moveByFlow(image: FloatImage, theta0: readonly number[], theta1: readonly number[]): FloatImage {
  const { width: W, height: H } = image;
  const data = new Float32Array(image.data.length);
  const plane = W * H;
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const cx = toCoord(px, W);
      const cy = toCoord(py, H);
      const [dx, dy] = displacement(theta1, cx, cy);
      const [x, y] = pointShowing(theta0, cx + dx, cy + dy, 30);
      const sx = toPx(x, W);
      const sy = toPx(y, H);
      for (let c = 0; c < 3; c++) data[c * plane + py * W + px] = sampleChannel(image, c, sx, sy);
    }
  }
  return { data, width: W, height: H };
}
