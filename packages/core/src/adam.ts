/** Hyper-parameters of {@link Adam}; the defaults are PyTorch's. */
export interface AdamOptions {
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

/**
 * Adam on a Float32Array, updated in place, with the arithmetic of `torch.optim.Adam`
 * (no weight decay, no amsgrad): the bias corrections divide the step size and sqrt(v), and eps
 * is added after the square root. Moments are kept in float64 so long drags do not drift.
 */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(size: number, options: AdamOptions) {
    if (!(options.lr > 0) || !Number.isFinite(options.lr)) {
      throw new RangeError(`Adam: learning rate must be a positive finite number, got ${options.lr}`);
    }
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Number of steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One update of `params` (in place) with gradient `grad`. */
  step(params: Float32Array, grad: Float32Array): void {
    const n = this.m.length;
    if (params.length !== n || grad.length !== n) {
      throw new RangeError(`Adam: expected ${n} parameters and gradients, got ${params.length} and ${grad.length}`);
    }
    this.t += 1;
    const { beta1, beta2, eps, m, v } = this;
    const bc1 = 1 - beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    const stepSize = this.lr / bc1;
    for (let i = 0; i < n; i++) {
      const g = grad[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = params[i]! - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
  }
}
