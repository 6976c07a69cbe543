import type { MotionSupervisor, PointTracker } from '@stabledrag/core';
import { StableDragError } from '@stabledrag/core';
import { ConfidentSupervision, DEFAULT_CONFIDENCE_RATIO, DEFAULT_MASK_WEIGHT as MOTION_MASK_WEIGHT, MotionSupervision } from '@stabledrag/motion';
import { DEFAULT_FUSION_LAMBDA, DiscriminativeTracker, NearestNeighbourTracker, type ResponseNormalisation } from '@stabledrag/tracker';

export type MethodName = 'stabledrag' | 'draggan';
export const METHOD_NAMES: readonly MethodName[] = ['stabledrag', 'draggan'];

/**
 * A --method value as a method, or undefined. "dragdiffusion" is draggan's name on a diffusion
 * model: DragDiffusion is DragGAN's tracking and motion supervision on UNet features, so the
 * same tracker and supervisor run.
 */
export function parseMethodName(text: string): MethodName | undefined {
  if (text === 'dragdiffusion') return 'draggan';
  return (METHOD_NAMES as readonly string[]).includes(text) ? (text as MethodName) : undefined;
}

export interface MethodSettings {
  /** Motion-supervision radius r1, image pixels. */
  readonly r1: number;
  /** Tracking radius r2, image pixels (integer). */
  readonly r2: number;
  /** Score-fusion weight λ of Eq. 2 (StableDrag tracker only). Default 0.3. */
  readonly lambda?: number;
  /** Confidence threshold rate τ of Eq. 5 (confident supervision only). Default 0.4. */
  readonly tau?: number;
  /** Weight of the fixed-region mask term (DragGAN's lambda_mask). Default 20. */
  readonly maskWeight?: number;
  /** StableDrag ablation: false → DragGAN's nearest-neighbour tracker. Default true. */
  readonly discriminative?: boolean;
  /** StableDrag ablation: false → plain motion supervision (Eq. 1) at every step. Default true. */
  readonly confident?: boolean;
  /** How the discriminative tracker bounds its filter response (default 'gated'; 'none' = unbounded). */
  readonly normalisation?: ResponseNormalisation;
}

export interface DragMethod {
  readonly name: MethodName;
  /** What actually runs, e.g. "stabledrag (nearest-neighbour tracking, confident supervision)". */
  readonly label: string;
  readonly tracker: PointTracker;
  readonly supervisor: MotionSupervisor;
}

/** λ of Eq. 2 (paper: 0.3). */
export const DEFAULT_LAMBDA: number = DEFAULT_FUSION_LAMBDA;
/** τ of Eq. 5 (paper: 0.4). */
export const DEFAULT_TAU: number = DEFAULT_CONFIDENCE_RATIO;
/** η of the mask term (DragGAN's GUIs: lambda_mask = 20). */
export const DEFAULT_MASK_WEIGHT: number = MOTION_MASK_WEIGHT;

/**
 * The drag methods of the paper's Table 2, as tracker + supervisor pairs:
 *
 * | method | tracker | supervision |
 * |---|---|---|
 * | draggan | nearest neighbour (DragGAN) | motion supervision, Eq. 1 |
 * | stabledrag | discriminative, fused score (Eq. 2–3) | confident switch (Eq. 5) |
 * | stabledrag, discriminative off | nearest neighbour | confident switch (Eq. 5) |
 * | stabledrag, confident off | discriminative (Eq. 2–3) | motion supervision, Eq. 1 |
 *
 * With the nearest-neighbour tracker the confidence of Eq. 5 is its own score (Eq. 2 with λ = 1).
 */
export function createMethod(name: MethodName, settings: MethodSettings): DragMethod {
  if (!METHOD_NAMES.includes(name)) {
    throw new StableDragError('INVALID_INPUT', `Unknown method "${String(name)}"; use one of ${METHOD_NAMES.join(', ')}.`);
  }
  const stable = name === 'stabledrag';
  const discriminative = stable && settings.discriminative !== false;
  const confident = stable && settings.confident !== false;
  const lambda = settings.lambda ?? DEFAULT_LAMBDA;
  const tau = settings.tau ?? DEFAULT_TAU;
  const maskWeight = settings.maskWeight ?? DEFAULT_MASK_WEIGHT;
  const tracker: PointTracker = discriminative
    ? new DiscriminativeTracker({ radius: settings.r2, lambda, ...(settings.normalisation ? { normalisation: settings.normalisation } : {}) })
    : new NearestNeighbourTracker({ radius: settings.r2 });
  const supervisor: MotionSupervisor = confident
    ? new ConfidentSupervision({ radius: settings.r1, tau, maskWeight })
    : new MotionSupervision({ radius: settings.r1, maskWeight });
  const label = stable
    ? `stabledrag (${discriminative ? 'discriminative' : 'nearest-neighbour'} tracking, ${confident ? 'confident' : 'plain motion'} supervision)`
    : 'draggan (nearest-neighbour tracking, motion supervision)';
  return { name, label, tracker, supervisor };
}

/**
 * Default radii: DragGAN's r1 = 3 and r2 = 12 at 512 px, scaled by resolution/512 and rounded,
 * but never below r1 = 2 and r2 = 6 image pixels, so small images (64–128 px) still get a motion
 * patch wider than a feature pixel and a search window that can follow a step.
 */
export function defaultRadii(resolution: number): { r1: number; r2: number } {
  const s = resolution / 512;
  return { r1: Math.max(2, Math.round(3 * s)), r2: Math.max(6, Math.round(12 * s)) };
}
