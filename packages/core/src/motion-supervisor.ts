import type { FeatureMap, Mask, Point } from './types.js';

/**
 * Which loss drove a handle at a step: 'motion' = DragGAN's L1 (Eq. 1), 'template' = StableDrag's
 * template supervision L2 (Eq. 4), 'none' = the handle is closer to its target than one step.
 */
export type SupervisionBranch = 'motion' | 'template' | 'none';

export interface SupervisionInput {
  /** Current features F. */
  readonly features: FeatureMap;
  /** Current (tracked) handle points p_i, image pixels. */
  readonly handles: readonly Point[];
  readonly targets: readonly Point[];
  /** Tracking confidences s_i of this step, same order as `handles`. */
  readonly confidences: readonly number[];
  /** 1 for the first optimisation step. */
  readonly step: number;
}

export interface SupervisionResult {
  readonly loss: number;
  /** dLoss/dF, same layout and length as `features.data`. */
  readonly grad: Float32Array;
  /** One entry per handle. */
  readonly branches: readonly SupervisionBranch[];
}

/** Turns the current features and points into a loss and its gradient w.r.t. the features. */
export interface MotionSupervisor {
  readonly name: string;
  /** Step 0: keep F0 (templates, mask term) and the initial handles p_i⁰. */
  init(features0: FeatureMap, handles0: readonly Point[], mask?: Mask): void;
  compute(input: SupervisionInput): SupervisionResult;
}
