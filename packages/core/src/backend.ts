import type { FeatureMap, Mask, RgbaImage } from './types.js';

/**
 * The latent a drag optimises, split into the part Adam updates and the part that stays fixed.
 *
 * - GAN: `optimized` holds the first k rows of W+ (k·w_dim floats), `frozen` the remaining rows.
 * - Diffusion: `optimized` holds z_t at the inversion timestep; `frozen` may be empty, with the
 *   timestep, prompt embedding and the like kept in `meta`.
 *
 * A latent is plain data: it can be copied with {@link cloneLatent}, saved to JSON and handed back
 * to {@link DragBackend.createLatent} as `{ type: 'latent' }` to resume an edit.
 */
export interface DragLatent {
  /** Floats the drag loop updates with Adam. Backends must not keep references to this array. */
  readonly optimized: Float32Array;
  /** Floats that are part of the latent but stay fixed during the drag. */
  readonly frozen: Float32Array;
  /** Backend-specific JSON-safe facts needed to rebuild the latent (seed, timestep, row counts). */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** Where a drag starts from. */
export type LatentSource =
  /** Sample the generator: `truncation` is ψ (1 = no truncation). */
  | { readonly type: 'seed'; readonly seed: number; readonly truncation?: number }
  /** Resume from a latent saved earlier (for example by `stabledrag drag --save-session`). */
  | { readonly type: 'latent'; readonly latent: DragLatent }
  /** Invert a real image. Backends that cannot invert throw an error saying so. */
  | { readonly type: 'image'; readonly image: RgbaImage };

/** Static facts about a backend, fixed for its lifetime. */
export interface BackendInfo {
  /** Human-readable name, e.g. the model folder's `name`. */
  readonly name: string;
  /** Which family the backend belongs to; tells UIs which defaults (lr, radii) to offer. */
  readonly kind: 'gan' | 'diffusion' | 'reference';
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** Shape of every {@link FeatureMap} that {@link DragBackend.forward} returns. */
  readonly featureChannels: number;
  readonly featureHeight: number;
  readonly featureWidth: number;
  /** Image pixels per feature pixel (see {@link FeatureMap.scale}). */
  readonly featureScale: number;
  /** Length of {@link DragLatent.optimized}, the size of every gradient {@link ForwardPass.vjp} returns. */
  readonly optimizedSize: number;
  /** Suggested Adam learning rate (paper: 0.001 for GANs, 0.01 for diffusion). */
  readonly defaultLearningRate: number;
  /**
   * Stop distance, image pixels, measured to suit this model (a handle this close to its target
   * is done). Absent: DragGAN's rule, {@link defaultStopDistance} of the image height. Optional,
   * so backends written before it still satisfy 'v1'.
   */
  readonly defaultStopDistance?: number;
  /**
   * Present when the backend computes its own fixed-region (mask) term, honouring
   * {@link ForwardOptions.fixedRegion}. Absent (GANs, the reference backend): the drag keeps the
   * region fixed in feature space, DragGAN's η·|F − F0|·(1 − M) in the motion supervisor.
   * Optional, so backends written before it still satisfy 'v1'.
   */
  readonly fixedRegionTerm?: FixedRegionTermInfo;
}

/**
 * A fixed-region term the backend evaluates itself, because the quantity it constrains is not
 * the features: DragDiffusion penalises the change of the DDIM-stepped latent,
 * λ·Σ|ẑ_{t−1} − sg(ẑ⁰_{t−1})|·(1 − M), which needs the UNet's noise prediction ε.
 */
export interface FixedRegionTermInfo {
  /** `'native'`: the backend computes the term and its gradient inside forward/vjp. */
  readonly kind: 'native';
  /** λ the model suggests (DragDiffusion: 0.1, model.json `defaults.maskLambda`). */
  readonly defaultWeight: number;
  /** One line naming the term, for logs and UIs. */
  readonly description: string;
}

/** The region a drag must keep, handed to a backend with a native fixed-region term. */
export interface FixedRegion {
  /** Editable-region mask at image size (1 = may change); the term acts where it is 0. */
  readonly mask: Mask;
  /** λ, the term's weight (≥ 0). */
  readonly weight: number;
}

/** Options shared by every backend call that may take long. */
export interface CallOptions {
  /** Aborting rejects the call with the signal's reason as soon as the backend can stop. */
  readonly signal?: AbortSignal;
}

/** Options of {@link DragBackend.forward}. */
export interface ForwardOptions extends CallOptions {
  /**
   * Keep what the backward pass needs so that {@link ForwardPass.vjp} does not rerun the
   * forward ("split mode"). When false, `vjp` may still work by recomputing, or may throw.
   * Default true.
   */
  readonly withVjp?: boolean;
  /** Also produce the image of this latent if it comes (almost) free with the features. */
  readonly withImage?: boolean;
  /**
   * Add the backend's fixed-region term (only for backends declaring
   * {@link BackendInfo.fixedRegionTerm}; others must ignore it): the pass then reports
   * {@link ForwardPass.fixedRegionLoss}, and its `vjp(c)` returns the gradient of
   * ⟨F, c⟩ + fixedRegionLoss instead of ⟨F, c⟩ alone. The term's reference (ẑ⁰ for diffusion)
   * comes from the latent's `frozen` part and is held constant (a stop-gradient).
   */
  readonly fixedRegion?: FixedRegion;
}

/** The result of one forward pass: features, and the way back to the latent. */
export interface ForwardPass {
  /** The drag features F of the latent, at native resolution. */
  readonly features: FeatureMap;
  /**
   * The image, when `withImage` was asked and the backend makes it in the same pass (a GAN's
   * synthesis network does; a diffusion backend needs a full denoise and leaves this undefined).
   */
  readonly image?: RgbaImage;
  /**
   * The value of the fixed-region term, set exactly when {@link ForwardOptions.fixedRegion} was
   * given to a backend declaring {@link BackendInfo.fixedRegionTerm}. Its gradient is included in
   * every `vjp` of this pass (with a zero cotangent `vjp` returns the term's gradient alone).
   */
  readonly fixedRegionLoss?: number;
  /**
   * Vector-Jacobian product: given dL/dF (same length as `features.data`) returns dL/d(optimized)
   * (length {@link BackendInfo.optimizedSize}); plus the gradient of `fixedRegionLoss` when the
   * pass has one. May be called once or more; must not mutate the cotangent.
   */
  vjp(cotangent: Float32Array, options?: CallOptions): Promise<Float32Array>;
  /** Frees what the pass kept for its backward. Calling `vjp` afterwards throws. Idempotent. */
  release(): void;
}

/**
 * A generator that a drag can edit. Specification version 'v1'.
 *
 * The contract fits GANs (latent = W+ rows, features = a synthesis block's output) and diffusion
 * models (latent = z_t at an inversion timestep, features = a UNet decoder block, `render`
 * denoises the optimised latent). Every backend must pass `@stabledrag/core/conformance`.
 */
export interface DragBackend {
  /** Lets consumers reject backends written against another version of this contract. */
  readonly specificationVersion: 'v1';
  readonly info: BackendInfo;
  /** Makes the starting latent. Deterministic: the same source gives the same latent. */
  createLatent(source: LatentSource, options?: CallOptions): Promise<DragLatent>;
  /** Runs the generator up to the feature tensor; deterministic for a given latent. */
  forward(latent: DragLatent, options?: ForwardOptions): Promise<ForwardPass>;
  /** The final image of a latent (GAN: synthesis output; diffusion: denoise to x_0 and decode). */
  render(latent: DragLatent, options?: CallOptions): Promise<RgbaImage>;
  /** Frees sessions and buffers. Any later call rejects with an error saying the backend is disposed. Idempotent. */
  dispose(): Promise<void>;
}

/** A deep copy of a latent, so the drag never touches the caller's arrays. */
export function cloneLatent(latent: DragLatent): DragLatent {
  return {
    optimized: new Float32Array(latent.optimized),
    frozen: new Float32Array(latent.frozen),
    meta: JSON.parse(JSON.stringify(latent.meta)) as Record<string, unknown>,
  };
}
