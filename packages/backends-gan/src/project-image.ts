import { StableDragError } from '@stabledrag/core';
import type { RgbaImage } from '@stabledrag/core';

/** Options of {@link GanBackend.projectImage} (also accepted by `createLatent({ type: 'image' })`). */
export interface ProjectImageOptions {
  /** Adam steps. Default 200. */
  readonly steps?: number;
  /**
   * Peak Adam learning rate in units of the per-coordinate spread of w (StyleGAN2's projector uses
   * 0.1 on FFHQ, whose w coordinates spread about 1). Default 0.1.
   */
  readonly learningRate?: number;
  /** Called after every step. */
  readonly onProgress?: (progress: ProjectionProgress) => void;
  readonly signal?: AbortSignal;
}

export interface ProjectionProgress {
  readonly step: number;
  readonly steps: number;
  /** Multi-scale mean squared error (image range of model.json). */
  readonly loss: number;
  /** PSNR of the full-resolution image in dB (peak = the image range). */
  readonly psnr: number;
}

export interface ProjectionResult {
  /** All W+ rows, flattened [num_ws × w_dim]: those of the step with the lowest loss. */
  readonly ws: Float32Array;
  readonly loss: number;
  readonly psnr: number;
  /** The step (1-based) whose W+ is returned, and the steps run. */
  readonly bestStep: number;
  readonly steps: number;
}

/** One forward (image) and one backward (dL/dimage → dL/dws) of the synthesis network. */
export interface ImageVjp {
  run(ws: Float32Array): Promise<{ image: Float32Array; grad: (cotangent: Float32Array) => Promise<Float32Array> }>;
}

/** RGBA8 → CHW floats in the model's image range (inverse of chwToRgba without clamping). */
export function rgbaToChw(image: RgbaImage, range: readonly [number, number]): Float32Array {
  const { width: W, height: H, data } = image;
  const [lo, hi] = range;
  const out = new Float32Array(3 * H * W);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) out[c * H * W + p] = lo + ((hi - lo) * data[4 * p + c]!) / 255;
  return out;
}

/**
 * Loss and gradient of the multi-scale pixel MSE: Σ_s mean((P_s a − P_s b)²) over s = 1, ½, ¼, ⅛
 * (P_s = average pooling by 2^k, stopping below 8 px). Coarse scales weigh the image's layout as
 * much as its detail, which keeps the early steps from chasing texture. Returns the loss, the
 * full-resolution MSE and dL/da.
 */
export function multiScaleMse(a: Float32Array, b: Float32Array, channels: number, size: number): { loss: number; mse: number; grad: Float32Array } {
  const grad = new Float32Array(a.length);
  let loss = 0;
  let mse = 0;
  for (let f = 1; size / f >= 8 && f <= 8; f *= 2) {
    const s = size / f;
    const n = channels * s * s;
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          let d = 0;
          for (let dy = 0; dy < f; dy++) {
            for (let dx = 0; dx < f; dx++) {
              const i = c * size * size + (y * f + dy) * size + x * f + dx;
              d += a[i]! - b[i]!;
            }
          }
          d /= f * f;
          loss += (d * d) / n;
          // d(d²/n)/da_i = 2d/n · 1/f² for each of the f² pixels pooled into d
          const g = (2 * d) / n / (f * f);
          for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) grad[c * size * size + (y * f + dy) * size + x * f + dx]! += g;
        }
      }
    }
    if (f === 1) mse = loss;
  }
  return { loss, mse, grad };
}

/** StyleGAN2 projector's schedule: linear warm-up over the first 5 %, cosine ramp-down over the last 25 %. */
export function projectionLr(t: number, peak: number): number {
  const down = Math.min(1, (1 - t) / 0.25);
  return peak * (0.5 - 0.5 * Math.cos(down * Math.PI)) * Math.min(1, t / 0.05);
}

/**
 * Projects an image into W+ (all rows optimised, no per-pixel noise to fit): Adam from w_avg on
 * the multi-scale pixel MSE, as StyleGAN2's projector does but without its LPIPS term, which needs
 * downloaded VGG16 weights. Returns the best step's W+.
 */
export async function projectImage(
  vjp: ImageVjp,
  target: Float32Array,
  init: Float32Array,
  wSpread: number,
  dims: { channels: number; size: number; range: readonly [number, number] },
  options: ProjectImageOptions = {},
): Promise<ProjectionResult> {
  const steps = options.steps ?? 200;
  if (!Number.isInteger(steps) || steps < 1) throw new StableDragError('INVALID_INPUT', `Projection steps must be a positive integer, got ${steps}.`);
  const peak = (options.learningRate ?? 0.1) * wSpread;
  if (!(peak > 0)) throw new StableDragError('INVALID_INPUT', `The projection learning rate must be positive, got ${options.learningRate}.`);
  const ws = Float32Array.from(init);
  const m = new Float64Array(ws.length);
  const v = new Float64Array(ws.length);
  const peakToPeak = (dims.range[1] - dims.range[0]) ** 2;
  let best: ProjectionResult | undefined;
  for (let step = 0; step < steps; step++) {
    options.signal?.throwIfAborted();
    const pass = await vjp.run(ws);
    const { loss, mse, grad } = multiScaleMse(pass.image, target, dims.channels, dims.size);
    const psnr = 10 * Math.log10(peakToPeak / Math.max(mse, 1e-20));
    if (!best || loss < best.loss) best = { ws: Float32Array.from(ws), loss, psnr, bestStep: step + 1, steps };
    options.onProgress?.({ step: step + 1, steps, loss, psnr });
    if (step === steps - 1) break;
    const g = await pass.grad(grad);
    // Adam (PyTorch's arithmetic) with the scheduled learning rate
    const t = step + 1;
    const lr = projectionLr(step / steps, peak);
    const bc1 = 1 - 0.9 ** t;
    const bc2 = Math.sqrt(1 - 0.999 ** t);
    for (let i = 0; i < ws.length; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!;
      ws[i] = ws[i]! - ((lr / bc1) * m[i]!) / (Math.sqrt(v[i]!) / bc2 + 1e-8);
    }
  }
  return best!;
}
