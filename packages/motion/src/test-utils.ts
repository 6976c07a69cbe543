/** Test helpers (not exported from the package). */
import { createRng, type FeatureMap } from '@stabledrag/core';

/** mulberry32, the seeded uniform generator of @stabledrag/core. */
export const mulberry32: (seed: number) => () => number = createRng;

export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function randomMap(rand: () => number, channels: number, height: number, width: number, scale: number): FeatureMap {
  const data = new Float32Array(channels * height * width);
  for (let i = 0; i < data.length; i++) data[i] = gaussian(rand);
  return { data, channels, height, width, scale };
}

/**
 * One-sided finite differences of `f` at `map` for the entries `indices` (forward and backward),
 * each divided by the actual float32 step (F[j] ± eps rounds). For piecewise-linear losses both
 * equal the derivative exactly unless a kink lies within eps; then they differ, and the
 * analytic gradient must equal one of them.
 */
export function finiteDifferences(
  map: FeatureMap,
  indices: readonly number[],
  f: (m: FeatureMap) => number,
  eps = 1e-4,
): { forward: Float64Array; backward: Float64Array } {
  const forward = new Float64Array(indices.length);
  const backward = new Float64Array(indices.length);
  const data = map.data.slice();
  const probe: FeatureMap = { ...map, data };
  const f0 = f(probe);
  indices.forEach((j, n) => {
    const x = map.data[j]!;
    data[j] = x + eps;
    forward[n] = (f(probe) - f0) / (data[j]! - x);
    data[j] = x - eps;
    backward[n] = (f0 - f(probe)) / (x - data[j]!);
    data[j] = x;
  });
  return { forward, backward };
}

/** The indices where `grad` is nonzero plus `extra` random others. */
export function probeIndices(grad: Float32Array, extra: number, rand: () => number): number[] {
  const out: number[] = [];
  grad.forEach((g, i) => {
    if (g !== 0) out.push(i);
  });
  for (let k = 0; k < extra; k++) out.push(Math.floor(rand() * grad.length));
  return out;
}
