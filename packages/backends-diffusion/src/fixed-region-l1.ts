/**
 * DragDiffusion's mask term on the DDIM-stepped latent (drag_utils: `lam * ((x_prev_updated −
 * x_prev_0) * (1 − interp_mask)).abs().sum()`): λ·Σ_{c,p} keep_p·|ẑ_{c,p} − ẑ⁰_{c,p}|, a *sum*
 * over the latent's channels and pixels (DragGAN's feature-space term is a mean). `keep` is one
 * float per pixel (see latentKeepMask), broadcast over channels. Writes dLoss/dẑ =
 * λ·keep·sign(ẑ − ẑ⁰) into `grad` (sign(0) = 0, as PyTorch's abs backward) and returns the loss,
 * summed in float64.
 */
export function fixedRegionL1(zHat: Float32Array, zHat0: Float32Array, keep: Float32Array, weight: number, grad: Float32Array): number {
  const n = zHat.length;
  const pixels = keep.length;
  if (zHat0.length !== n || grad.length !== n || pixels === 0 || n % pixels !== 0) {
    throw new Error(`fixedRegionL1: ẑ has ${n} floats, ẑ⁰ ${zHat0.length}, grad ${grad.length}, keep ${pixels} pixels.`);
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const k = keep[i % pixels]!;
    const d = zHat[i]! - zHat0[i]!;
    loss += k * Math.abs(d);
    grad[i] = d > 0 ? weight * k : d < 0 ? -weight * k : 0;
  }
  return weight * loss;
}
