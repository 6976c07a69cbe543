/** Motion-supervision radius r1 in image pixels (DragGAN's default for a 512-pixel image). */
export const DEFAULT_MOTION_RADIUS = 3;
/** η, weight of the mask term (DragGAN's GUI λ_mask = 20, with a mean L1). */
export const DEFAULT_MASK_WEIGHT = 20;
/** τ of Eq. 5 (paper §4: 0.4). */
export const DEFAULT_CONFIDENCE_RATIO = 0.4;
/**
 * A handle at most this far (image pixels) from its target gets no motion loss (branch 'none'):
 * the unit step d_i would overshoot it. DragGAN's code uses 1 px.
 */
export const DEFAULT_MIN_DISTANCE = 1;
