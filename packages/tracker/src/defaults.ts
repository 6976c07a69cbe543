/** Tracking radius r2 in image pixels (DragGAN's default for a 512-pixel image). */
export const DEFAULT_TRACK_RADIUS = 12;
/** Score-fusion weight λ of StableDrag Eq. 2 (paper §4: 0.3). */
export const DEFAULT_FUSION_LAMBDA = 0.3;
/** Iterations of the iterative filter solver (the paper trains z_i for 1000 iterations). */
export const DEFAULT_ITERATIONS = 1000;
/**
 * Ridge ρ of the filter solve, relative to the mean eigenvalue of AᵀA (trace(AᵀA) / C), so it
 * does not depend on the feature magnitude: ρ = DEFAULT_RIDGE · trace(AᵀA) / C.
 */
export const DEFAULT_RIDGE = 0.1;
/**
 * Width σ of the Gaussian label of Eq. 3, in *feature* pixels (σ_img = DEFAULT_LABEL_SIGMA · scale,
 * at least 1 image pixel). A 1×1 filter on bilinearly read features can only draw peaks as narrow
 * as one feature pixel, so a label much narrower than that cannot be fitted.
 */
export const DEFAULT_LABEL_SIGMA = 0.5;
/**
 * How the filter response of Eq. 2 is bounded so that s_i = max S lies in [0, 1] (Eq. 5 compares
 * it with τ·s_1). Chosen by measurement: see the README's "Confidence" and BENCHMARKS.md.
 */
export const DEFAULT_RESPONSE_NORMALISATION = 'gated' as const;
