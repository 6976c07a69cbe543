import type {
  BackendInfo,
  CallOptions,
  DragBackend,
  DragLatent,
  ForwardOptions,
  ForwardPass,
  LatentSource,
} from './backend.js';
import { StableDragError } from './errors.js';
import { createNormalRng, createRng } from './prng.js';
import type { FeatureMap, RgbaImage } from './types.js';

export interface GaussianBlobBackendOptions {
  /** Image side in pixels. Default 64. */
  readonly size?: number;
  /** Image pixels per feature pixel. Default 2. */
  readonly featureScale?: number;
  /** Feature channels. Default 8. */
  readonly channels?: number;
  /** Blobs the drag can move (their centres are the optimised latent). Default 2. */
  readonly movable?: number;
  /** Fixed look-alike blobs: each copies the appearance of a movable one. Default 2. */
  readonly distractors?: number;
  /** Blob radius σ in image pixels. Default 4. */
  readonly sigma?: number;
  /** Seeds the blob appearances (not the positions, which come from the latent source). Default 1. */
  readonly appearanceSeed?: number;
}

/**
 * The reference DragBackend: a differentiable renderer of coloured Gaussian blobs in pure
 * TypeScript. The optimised latent holds the (x, y) centres of the movable blobs in image pixels;
 * the frozen latent holds the centres of distractor blobs that look exactly like movable ones,
 * so a tracker can be fooled. Features: F_c(X) = Σ_j e_{k(j),c} · exp(−‖X − μ_j‖² / 2σ²), sampled
 * at feature-pixel centres; its VJP is closed-form. Used for tests, the conformance suite's
 * self-check and README's first run before an ONNX model is around.
 */
export class GaussianBlobBackend implements DragBackend {
  readonly specificationVersion = 'v1' as const;
  readonly info: BackendInfo;
  private readonly sigma: number;
  private readonly movable: number;
  private readonly distractors: number;
  /** Appearance (feature embedding) of each movable blob: movable × C. */
  private readonly embeddings: Float32Array;
  /** RGB colour of each movable blob in [0, 1]: movable × 3. */
  private readonly colours: Float32Array;
  private disposed = false;

  constructor(options: GaussianBlobBackendOptions = {}) {
    const size = options.size ?? 64;
    const scale = options.featureScale ?? 2;
    const channels = options.channels ?? 8;
    this.movable = options.movable ?? 2;
    this.distractors = options.distractors ?? 2;
    this.sigma = options.sigma ?? 4;
    if (size % scale !== 0) throw new StableDragError('INVALID_INPUT', `size ${size} must be a multiple of featureScale ${scale}.`);
    if (this.movable < 1) throw new StableDragError('INVALID_INPUT', 'GaussianBlobBackend needs at least one movable blob.');
    this.info = {
      name: 'gaussian-blobs',
      kind: 'reference',
      imageWidth: size,
      imageHeight: size,
      featureChannels: channels,
      featureHeight: size / scale,
      featureWidth: size / scale,
      featureScale: scale,
      optimizedSize: this.movable * 2,
      defaultLearningRate: 0.5,
    };
    const normal = createNormalRng(options.appearanceSeed ?? 1);
    this.embeddings = Float32Array.from({ length: this.movable * channels }, () => normal());
    const uniform = createRng((options.appearanceSeed ?? 1) + 7);
    this.colours = Float32Array.from({ length: this.movable * 3 }, () => 0.15 + 0.8 * uniform());
  }

  private assertLive(): void {
    if (this.disposed) throw new StableDragError('DISPOSED', 'This GaussianBlobBackend was disposed; create a new one.');
  }

  async createLatent(source: LatentSource, options?: CallOptions): Promise<DragLatent> {
    this.assertLive();
    options?.signal?.throwIfAborted();
    if (source.type === 'latent') {
      const { latent } = source;
      if (latent.optimized.length !== this.info.optimizedSize || latent.frozen.length !== this.distractors * 2) {
        throw new StableDragError(
          'INVALID_INPUT',
          `This latent holds ${latent.optimized.length}+${latent.frozen.length} floats; a ${this.movable}-blob, ${this.distractors}-distractor backend needs ${this.info.optimizedSize}+${this.distractors * 2}.`,
        );
      }
      return { optimized: new Float32Array(latent.optimized), frozen: new Float32Array(latent.frozen), meta: { ...latent.meta } };
    }
    if (source.type === 'image') {
      throw new StableDragError('UNSUPPORTED', 'GaussianBlobBackend cannot invert images; start from a seed or a latent.');
    }
    const rng = createRng(source.seed);
    const size = this.info.imageWidth;
    const margin = 2.5 * this.sigma;
    const place = (): number => margin + rng() * (size - 2 * margin);
    const optimized = Float32Array.from({ length: this.movable * 2 }, place);
    const frozen = Float32Array.from({ length: this.distractors * 2 }, place);
    return { optimized, frozen, meta: { seed: source.seed } };
  }

  /** Centres and appearance index of every blob: movable first, then distractors. */
  private blobs(latent: DragLatent): { x: number; y: number; kind: number }[] {
    const out: { x: number; y: number; kind: number }[] = [];
    for (let j = 0; j < this.movable; j++) out.push({ x: latent.optimized[2 * j]!, y: latent.optimized[2 * j + 1]!, kind: j });
    for (let j = 0; j < this.distractors; j++) {
      out.push({ x: latent.frozen[2 * j]!, y: latent.frozen[2 * j + 1]!, kind: j % this.movable });
    }
    return out;
  }

  async forward(latent: DragLatent, options: ForwardOptions = {}): Promise<ForwardPass> {
    this.assertLive();
    options.signal?.throwIfAborted();
    const { featureChannels: C, featureHeight: H, featureWidth: W, featureScale: s } = this.info;
    const blobs = this.blobs(latent);
    const inv2s2 = 1 / (2 * this.sigma * this.sigma);
    const data = new Float32Array(C * H * W);
    for (const b of blobs) {
      for (let v = 0; v < H; v++) {
        const Y = (v + 0.5) * s - 0.5;
        for (let u = 0; u < W; u++) {
          const X = (u + 0.5) * s - 0.5;
          const g = Math.exp(-((X - b.x) ** 2 + (Y - b.y) ** 2) * inv2s2);
          for (let c = 0; c < C; c++) data[c * H * W + v * W + u] = data[c * H * W + v * W + u]! + this.embeddings[b.kind * C + c]! * g;
        }
      }
    }
    const features: FeatureMap = { data, channels: C, height: H, width: W, scale: s };
    const image = options.withImage ? this.renderSync(latent) : undefined;
    let released = false;
    const centres = blobs.slice(0, this.movable);
    const pass: ForwardPass = {
      features,
      ...(image ? { image } : {}),
      vjp: async (cotangent: Float32Array, callOptions?: CallOptions) => {
        if (released) throw new StableDragError('INVALID_INPUT', 'vjp() called after release(); run forward() again.');
        callOptions?.signal?.throwIfAborted();
        if (cotangent.length !== data.length) {
          throw new StableDragError('INVALID_INPUT', `The cotangent has ${cotangent.length} floats; the features have ${data.length}.`);
        }
        // dF/dμ = e_k · g · (X − μ)/σ², summed against the cotangent over channels and pixels.
        const grad = new Float32Array(this.info.optimizedSize);
        centres.forEach((b, j) => {
          let gx = 0;
          let gy = 0;
          for (let v = 0; v < H; v++) {
            const Y = (v + 0.5) * s - 0.5;
            for (let u = 0; u < W; u++) {
              const X = (u + 0.5) * s - 0.5;
              const g = Math.exp(-((X - b.x) ** 2 + (Y - b.y) ** 2) * inv2s2);
              let dot = 0;
              for (let c = 0; c < C; c++) dot += cotangent[c * H * W + v * W + u]! * this.embeddings[b.kind * C + c]!;
              const k = dot * g * 2 * inv2s2;
              gx += k * (X - b.x);
              gy += k * (Y - b.y);
            }
          }
          grad[2 * j] = gx;
          grad[2 * j + 1] = gy;
        });
        return grad;
      },
      release: () => {
        released = true;
      },
    };
    return pass;
  }

  private renderSync(latent: DragLatent): RgbaImage {
    const size = this.info.imageWidth;
    const inv2s2 = 1 / (2 * this.sigma * this.sigma);
    const rgb = new Float32Array(size * size * 3).fill(0.1);
    for (const b of this.blobs(latent)) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const g = Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) * inv2s2);
          for (let c = 0; c < 3; c++) rgb[(y * size + x) * 3 + c] = rgb[(y * size + x) * 3 + c]! + this.colours[b.kind * 3 + c]! * g;
        }
      }
    }
    const data = new Uint8ClampedArray(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      for (let c = 0; c < 3; c++) data[i * 4 + c] = Math.round(rgb[i * 3 + c]! * 255);
      data[i * 4 + 3] = 255;
    }
    return { data, width: size, height: size };
  }

  async render(latent: DragLatent, options?: CallOptions): Promise<RgbaImage> {
    this.assertLive();
    options?.signal?.throwIfAborted();
    return this.renderSync(latent);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
