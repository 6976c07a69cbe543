import { erfinv } from './erfinv.js';

/**
 * Largest |θ| turned into z. The exact solve bounds the warp entries to the training range
 * [−1, 1] and often leaves some at the bound, where z = √2·erfinv(θ) is infinite. Clamping to
 * 0.999 (z ≤ 3.29) moves such an entry's control point by at most 0.001 × 7.7 px = 0.008 px.
 */
export const MAX_THETA = 0.999;

/**
 * The z whose renderer parameters are `theta`, for the seed whose z is `z0` and parameters
 * `theta0` = erf(z0/√2): entries the edit left alone keep z0 exactly (no round trip through
 * float32 θ), entries beyond ±MAX_THETA before and after keep z0 too (the renderer differs by
 * < 0.008 px there), the rest are √2·erfinv(θ) with θ clamped to ±MAX_THETA.
 */
export function exactZ(z0: Float32Array, theta0: readonly number[], theta: readonly number[]): Float32Array {
  if (z0.length !== theta0.length || theta.length !== theta0.length) {
    throw new Error(`exactZ: z has ${z0.length} entries, θ0 ${theta0.length}, θ ${theta.length}; the exact answer was made for another model`);
  }
  const clamp = (v: number): number => Math.max(-MAX_THETA, Math.min(MAX_THETA, v));
  return Float32Array.from(z0, (z, i) => {
    const a = theta0[i]!;
    const b = theta[i]!;
    if (Math.abs(b - a) <= 1e-7 || clamp(a) === clamp(b)) return z;
    return Math.SQRT2 * erfinv(clamp(b));
  });
}
