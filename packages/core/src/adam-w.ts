import { Adam } from './adam.js';
import type { AdamOptions } from './adam.js';

/** Hyper-parameters of {@link AdamW}; the defaults are PyTorch's (weight decay 1e-2). */
export interface AdamWOptions extends AdamOptions {
  readonly weightDecay?: number;
}

/**
 * AdamW (Loshchilov & Hutter 2019) with the arithmetic of `torch.optim.AdamW`: the weights shrink
 * by lr·λ *before* the Adam update, decoupled from the gradient moments (the decay never enters
 * m or v). DragDiffusion fine-tunes its LoRA with it (lr 5e-4, λ 1e-2).
 */
export class AdamW extends Adam {
  readonly weightDecay: number;
  private readonly size: number;

  constructor(size: number, options: AdamWOptions) {
    super(size, options);
    const wd = options.weightDecay ?? 1e-2;
    if (!(wd >= 0) || !Number.isFinite(wd)) throw new RangeError(`AdamW: weight decay must be a finite number ≥ 0, got ${wd}`);
    this.weightDecay = wd;
    this.size = size;
  }

  override step(params: Float32Array, grad: Float32Array): void {
    if (params.length !== this.size || grad.length !== this.size) {
      throw new RangeError(`AdamW: expected ${this.size} parameters and gradients, got ${params.length} and ${grad.length}`);
    }
    const keep = 1 - this.lr * this.weightDecay;
    for (let i = 0; i < params.length; i++) params[i] = params[i]! * keep;
    super.step(params, grad);
  }
}
