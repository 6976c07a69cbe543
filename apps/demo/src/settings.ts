/** The drag methods the demo offers. */
export type MethodName = 'stabledrag' | 'draggan';

/** Everything the person can set for a drag. Radii are image pixels. */
export interface DragSettings {
  readonly method: MethodName;
  readonly maxSteps: number;
  readonly learningRate: number;
  /** Motion-supervision radius r1. */
  readonly r1: number;
  /** Tracking radius r2. */
  readonly r2: number;
  /** Weight of the fixed-region term (DragGAN's lambda_mask, 20 in its GUIs). */
  readonly maskWeight: number;
  /** StableDrag's score-fusion λ (Eq. 2; paper: 0.3). */
  readonly lambda: number;
  /** StableDrag's confidence threshold rate τ (Eq. 5; paper: 0.4). */
  readonly tau: number;
}

/**
 * Defaults for an image of `resolution` pixels, from DragGAN's r1 = 3, r2 = 12 at 512 scaled by
 * h/512 (prior-art.md), with floors (r1 ≥ 2, r2 ≥ 6) so a 64- or 128-pixel image still gets a usable window (as the CLI).
 */
export function defaultSettings(resolution: number, learningRate: number): DragSettings {
  const s = resolution / 512;
  return {
    method: 'stabledrag',
    maxSteps: 200,
    learningRate,
    r1: Math.max(2, Math.round(3 * s)),
    r2: Math.max(6, Math.round(12 * s)),
    maskWeight: 20,
    lambda: 0.3,
    tau: 0.4,
  };
}

/** Checks settings read from a form or a file; returns a message per bad field. */
export function validateSettings(s: DragSettings): string[] {
  const errors: string[] = [];
  if (s.method !== 'stabledrag' && s.method !== 'draggan') errors.push(`Unknown method '${String(s.method)}'.`);
  if (!Number.isInteger(s.maxSteps) || s.maxSteps < 1 || s.maxSteps > 5000) errors.push('Steps must be a whole number from 1 to 5000.');
  if (!(s.learningRate > 0) || !Number.isFinite(s.learningRate)) errors.push('Learning rate must be a positive number.');
  if (!Number.isInteger(s.r1) || s.r1 < 1 || s.r1 > 64) errors.push('r1 must be a whole number of pixels from 1 to 64.');
  if (!Number.isInteger(s.r2) || s.r2 < 1 || s.r2 > 64) errors.push('r2 must be a whole number of pixels from 1 to 64.');
  if (!(s.maskWeight >= 0) || !Number.isFinite(s.maskWeight)) errors.push('The mask weight must be 0 or more.');
  if (!(s.lambda >= 0 && s.lambda <= 1)) errors.push('λ must lie in [0, 1].');
  if (!(s.tau >= 0 && s.tau <= 1)) errors.push('τ must lie in [0, 1].');
  return errors;
}
