import { StableDragError, createNormalRng, createRng } from '@stabledrag/core';
import type {
  BackendInfo,
  CallOptions,
  DragBackend,
  DragLatent,
  ForwardOptions,
  ForwardPass,
  LatentSource,
  RgbaImage,
} from '@stabledrag/core';
import type { GradientGraphs } from './gradient-graphs.js';
import { chwToRgba } from './image-convert.js';
import type { ModelConfig } from './model-config.js';
import type { OrtRuntime, OrtSession, OrtSessionOptions, OrtTensor } from './ort-runtime.js';
import { projectImage, rgbaToChw } from './project-image.js';
import type { ImageVjp, ProjectImageOptions, ProjectionResult } from './project-image.js';

/** Everything a GanBackend is made from; the `./node` and `./web` entries assemble it. */
export interface GanBackendParts {
  readonly runtime: OrtRuntime;
  readonly config: ModelConfig;
  readonly mappingModel: Uint8Array;
  /** The synthesis network with the feature tensor exposed as an output. */
  readonly synthesisModel: Uint8Array;
  readonly gradients: GradientGraphs;
  /** w_avg, w_dim floats. */
  readonly wAvg: Float32Array;
  readonly sessionOptions?: OrtSessionOptions;
  /** Leading W+ rows the drag optimises; default `config.optimizeWs`. */
  readonly optimizeWs?: number;
  /** Builds the image VJP graphs on demand (projection of photographs); absent = unsupported. */
  readonly imageGradients?: () => Promise<GradientGraphs>;
}

interface Sessions {
  mapping: OrtSession;
  synthesis: OrtSession;
  forward: OrtSession;
  /** The split forward without the image (see GradientGraphs.featureForward). */
  featureForward: OrtSession | undefined;
  backward: OrtSession;
}

function floats(t: OrtTensor | undefined, name: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) {
    throw new StableDragError('MODEL_ERROR', `The model did not return a float32 tensor named "${name}".`);
  }
  return t.data;
}

/**
 * A StyleGAN2-style generator as a DragBackend. The latent is W+: the first `optimizeWs` rows are
 * optimised (DragGAN optimises 6), the rest stay at w0. Features are the model's feature tensor
 * (a synthesis block's output); the VJP runs a backward graph built by @stabledrag/onnx-autograd
 * from the same ONNX file, fed with the residuals the split forward saved.
 */
export class GanBackend implements DragBackend {
  readonly specificationVersion = 'v1' as const;
  readonly info: BackendInfo;
  readonly config: ModelConfig;
  readonly optimizeWs: number;
  private readonly runtime: OrtRuntime;
  private readonly sessions: Sessions;
  private readonly gradients: GradientGraphs;
  private readonly wAvg: Float32Array;
  private readonly imageGradients: (() => Promise<GradientGraphs>) | undefined;
  private imageVjp: Promise<{ forward: OrtSession; backward: OrtSession; graphs: GradientGraphs }> | undefined;
  private readonly sessionOptions: OrtSessionOptions;
  private disposed = false;

  private constructor(parts: GanBackendParts, sessions: Sessions, featureShape: readonly number[]) {
    const { config } = parts;
    this.config = config;
    this.runtime = parts.runtime;
    this.sessions = sessions;
    this.gradients = parts.gradients;
    this.wAvg = parts.wAvg;
    this.optimizeWs = parts.optimizeWs ?? config.optimizeWs;
    this.imageGradients = parts.imageGradients;
    this.sessionOptions = { graphOptimizationLevel: 'all', ...parts.sessionOptions };
    const [, C = 0, H = 0, W = 0] = featureShape;
    this.info = {
      name: config.name,
      kind: 'gan',
      imageWidth: config.resolution,
      imageHeight: config.resolution,
      featureChannels: C,
      featureHeight: H,
      featureWidth: W,
      featureScale: config.resolution / H,
      optimizedSize: this.optimizeWs * config.wDim,
      defaultLearningRate: config.dragLearningRate,
      ...(config.dragStopDistance !== undefined ? { defaultStopDistance: config.dragStopDistance } : {}),
    };
  }

  /** Creates the ONNX sessions and probes the feature shape. */
  static async create(parts: GanBackendParts): Promise<GanBackend> {
    const { runtime, config } = parts;
    const k = parts.optimizeWs ?? config.optimizeWs;
    if (!Number.isInteger(k) || k < 1 || k > config.numWs) {
      throw new StableDragError('INVALID_INPUT', `optimizeWs must be an integer in [1, ${config.numWs}], got ${k}.`);
    }
    if (parts.wAvg.length !== config.wDim) {
      throw new StableDragError('MODEL_ERROR', `${config.files.wAvg} holds ${parts.wAvg.length} floats, expected w_dim = ${config.wDim}.`);
    }
    const opts: OrtSessionOptions = { graphOptimizationLevel: 'all', ...parts.sessionOptions };
    const create = async (bytes: Uint8Array, what: string): Promise<OrtSession> => {
      try {
        return await runtime.InferenceSession.create(bytes, opts);
      } catch (error) {
        throw new StableDragError('MODEL_ERROR', `ONNX Runtime could not load the ${what} of model "${config.name}": ${(error as Error).message}`, { cause: error });
      }
    };
    const sessions: Sessions = {
      mapping: await create(parts.mappingModel, 'mapping network'),
      synthesis: await create(parts.synthesisModel, 'synthesis network'),
      forward: await create(parts.gradients.forward, 'split forward graph'),
      featureForward: parts.gradients.featureForward ? await create(parts.gradients.featureForward.graph, 'split forward graph without the image') : undefined,
      backward: await create(parts.gradients.backward, 'backward graph'),
    };
    for (const name of [config.tensors.features, config.tensors.image]) {
      if (!sessions.synthesis.outputNames.includes(name)) {
        throw new StableDragError(
          'MODEL_ERROR',
          `model.json names the tensor "${name}" but the synthesis network has no such output (outputs: ${sessions.synthesis.outputNames.join(', ')}).`,
        );
      }
    }
    const probe = new runtime.Tensor('float32', new Float32Array(config.numWs * config.wDim), [1, config.numWs, config.wDim]);
    const out = await sessions.synthesis.run({ [config.tensors.ws]: probe }, [config.tensors.features]);
    const featureShape = out[config.tensors.features]?.dims ?? [];
    if (featureShape.length !== 4) {
      throw new StableDragError('MODEL_ERROR', `The feature tensor "${config.tensors.features}" must be [1, C, H, W]; it is [${featureShape.join(', ')}].`);
    }
    return new GanBackend(parts, sessions, featureShape);
  }

  private assertLive(): void {
    if (this.disposed) throw new StableDragError('DISPOSED', `GanBackend "${this.config.name}" was disposed; load the model again.`);
  }

  /** The z of a seed, drawn as model.json's `z_distribution` says. */
  seedToZ(seed: number): Float32Array {
    if (!Number.isInteger(seed) || seed < 0) throw new StableDragError('INVALID_INPUT', `A seed must be a non-negative integer, got ${seed}.`);
    const { zDim, zDistribution } = this.config;
    if (zDistribution === 'uniform') {
      const u = createRng(seed);
      return Float32Array.from({ length: zDim }, () => 2 * u() - 1);
    }
    const n = createNormalRng(seed);
    return Float32Array.from({ length: zDim }, () => n());
  }

  /** z → w through the mapping network, then truncation towards w_avg: w = w_avg + ψ(w − w_avg). */
  async mapZ(z: Float32Array, truncation = this.config.truncation): Promise<Float32Array> {
    this.assertLive();
    const { config, runtime } = this;
    if (!(truncation >= 0 && truncation <= 1)) throw new StableDragError('INVALID_INPUT', `Truncation ψ must be in [0, 1], got ${truncation}.`);
    const out = await this.sessions.mapping.run({ [config.tensors.z]: new runtime.Tensor('float32', z, [1, config.zDim]) });
    const w = floats(out[config.tensors.w] ?? Object.values(out)[0], config.tensors.w);
    return Float32Array.from(w, (x, i) => this.wAvg[i]! + truncation * (x - this.wAvg[i]!));
  }

  /** `{ type: 'image' }` projects the image to W+ (see {@link projectImage}); `options` may carry its settings. */
  async createLatent(source: LatentSource, options?: CallOptions & ProjectImageOptions): Promise<DragLatent> {
    this.assertLive();
    options?.signal?.throwIfAborted();
    const { numWs, wDim } = this.config;
    const k = this.optimizeWs;
    if (source.type === 'image') {
      const r = await this.projectImage(source.image, options);
      const meta = { projected: { loss: r.loss, psnr: r.psnr, bestStep: r.bestStep, steps: r.steps }, model: this.config.name, optimizeWs: k };
      return { optimized: r.ws.slice(0, k * wDim), frozen: r.ws.slice(k * wDim), meta };
    }
    if (source.type === 'latent') {
      const { latent } = source;
      const total = latent.optimized.length + latent.frozen.length;
      if (total !== numWs * wDim) {
        throw new StableDragError('INVALID_INPUT', `This latent holds ${total} floats; model "${this.config.name}" takes W+ of ${numWs}×${wDim} = ${numWs * wDim}. Was it saved from another model?`);
      }
      const ws = new Float32Array(total);
      ws.set(latent.optimized, 0);
      ws.set(latent.frozen, latent.optimized.length);
      return { optimized: ws.slice(0, k * wDim), frozen: ws.slice(k * wDim), meta: { ...latent.meta, model: this.config.name, optimizeWs: k } };
    }
    const truncation = source.truncation ?? this.config.truncation;
    const w = await this.mapZ(this.seedToZ(source.seed), truncation);
    const ws = new Float32Array(numWs * wDim);
    for (let r = 0; r < numWs; r++) ws.set(w, r * wDim);
    return { optimized: ws.slice(0, k * wDim), frozen: ws.slice(k * wDim), meta: { seed: source.seed, truncation, model: this.config.name, optimizeWs: k } };
  }

  /**
   * GAN inversion in the manner of StyleGAN2's projector: Adam on all W+ rows from w_avg, no noise
   * to fit, minimising a multi-scale pixel MSE (project-image.ts says why not LPIPS). The image
   * must be resolution × resolution. Runs the synthesis forward and the image backward once per
   * step; reports progress and stops on `signal`.
   */
  async projectImage(image: RgbaImage, options: ProjectImageOptions = {}): Promise<ProjectionResult> {
    this.assertLive();
    options.signal?.throwIfAborted();
    const { resolution: R, numWs, wDim, tensors, imageRange } = this.config;
    if (image.width !== R || image.height !== R || image.data.length !== 4 * R * R) {
      throw new StableDragError('INVALID_INPUT', `The image is ${image.width}×${image.height}; model "${this.config.name}" projects ${R}×${R} images: resize or crop it first.`);
    }
    if (!this.imageGradients) {
      throw new StableDragError('UNSUPPORTED', 'This GanBackend was made without image gradients, so it cannot project images; load it with loadGanBackend() from @stabledrag/backends-gan/node.');
    }
    const make = this.imageGradients;
    this.imageVjp ??= make().then(async (graphs) => ({
      graphs,
      forward: await this.runtime.InferenceSession.create(graphs.forward, this.sessionOptions),
      backward: await this.runtime.InferenceSession.create(graphs.backward, this.sessionOptions),
    }));
    const s = await this.imageVjp;
    const vjp: ImageVjp = {
      run: async (ws) => {
        const wsT = new this.runtime.Tensor('float32', ws, [1, numWs, wDim]);
        const out = await s.forward.run({ [tensors.ws]: wsT }, s.graphs.forwardOutputs);
        const saved: Record<string, OrtTensor> = { ...out, [tensors.ws]: wsT };
        return {
          image: floats(out[tensors.image], tensors.image),
          grad: async (cotangent) => {
            const feeds: Record<string, OrtTensor> = {};
            for (const name of s.graphs.backwardInputs) {
              feeds[name] = name === s.graphs.cotangent ? new this.runtime.Tensor('float32', cotangent, [1, 3, R, R]) : saved[name]!;
            }
            const res = await s.backward.run(feeds, [s.graphs.gradient]);
            return floats(res[s.graphs.gradient], s.graphs.gradient);
          },
        };
      },
    };
    const init = new Float32Array(numWs * wDim);
    for (let r = 0; r < numWs; r++) init.set(this.wAvg, r * wDim);
    const target = rgbaToChw(image, imageRange);
    return projectImage(vjp, target, init, await this.wSpread(), { channels: 3, size: R, range: imageRange }, options);
  }

  /** RMS over coordinates of the standard deviation of w = mapping(z), from 64 seeds: the learning-rate unit of a projection. */
  private async wSpread(): Promise<number> {
    const { wDim } = this.config;
    const sum = new Float64Array(wDim);
    const sq = new Float64Array(wDim);
    const n = 64;
    for (let seed = 0; seed < n; seed++) {
      const w = await this.mapZ(this.seedToZ(seed), 1);
      for (let j = 0; j < wDim; j++) {
        sum[j]! += w[j]!;
        sq[j]! += w[j]! * w[j]!;
      }
    }
    let v = 0;
    for (let j = 0; j < wDim; j++) v += Math.max(0, sq[j]! / n - (sum[j]! / n) ** 2);
    return Math.sqrt(v / wDim);
  }

  private wsTensor(latent: DragLatent): OrtTensor {
    const { numWs, wDim } = this.config;
    if (latent.optimized.length !== this.info.optimizedSize || latent.optimized.length + latent.frozen.length !== numWs * wDim) {
      throw new StableDragError('INVALID_INPUT', `The latent does not fit model "${this.config.name}" (${this.optimizeWs} optimised rows of ${numWs}×${wDim}); make it with createLatent().`);
    }
    const ws = new Float32Array(numWs * wDim);
    ws.set(latent.optimized, 0);
    ws.set(latent.frozen, latent.optimized.length);
    return new this.runtime.Tensor('float32', ws, [1, numWs, wDim]);
  }

  async forward(latent: DragLatent, options: ForwardOptions = {}): Promise<ForwardPass> {
    this.assertLive();
    options.signal?.throwIfAborted();
    const { tensors, resolution, imageRange } = this.config;
    const wsT = this.wsTensor(latent);
    const withVjp = options.withVjp ?? true;
    const lean = withVjp && !options.withImage ? this.gradients.featureForward : undefined;
    const session = lean ? this.sessions.featureForward! : withVjp ? this.sessions.forward : this.sessions.synthesis;
    const fetches = lean ? lean.outputs : withVjp ? this.gradients.forwardOutputs : [tensors.features, ...(options.withImage ? [tensors.image] : [])];
    const out = await session.run({ [tensors.ws]: wsT }, fetches);
    const info = this.info;
    const features = {
      data: floats(out[tensors.features], tensors.features),
      channels: info.featureChannels,
      height: info.featureHeight,
      width: info.featureWidth,
      scale: info.featureScale,
    };
    const imageT = out[tensors.image];
    const image = options.withImage && imageT ? chwToRgba(floats(imageT, tensors.image), resolution, resolution, imageRange) : undefined;
    let saved: Record<string, OrtTensor> | undefined = withVjp ? { ...out, [tensors.ws]: wsT } : undefined;
    const k = this.info.optimizedSize;
    return {
      features,
      ...(image ? { image } : {}),
      vjp: async (cotangent: Float32Array, callOptions?: CallOptions) => {
        this.assertLive();
        callOptions?.signal?.throwIfAborted();
        if (!saved) {
          throw new StableDragError('INVALID_INPUT', withVjp ? 'vjp() called after release(); run forward() again.' : 'This pass was made with withVjp: false; run forward() with withVjp: true.');
        }
        if (cotangent.length !== features.data.length) {
          throw new StableDragError('INVALID_INPUT', `The cotangent has ${cotangent.length} floats; the features have ${features.data.length}.`);
        }
        const feeds: Record<string, OrtTensor> = {};
        for (const name of this.gradients.backwardInputs) {
          if (name === this.gradients.cotangent) {
            feeds[name] = new this.runtime.Tensor('float32', new Float32Array(cotangent), [1, info.featureChannels, info.featureHeight, info.featureWidth]);
          } else {
            const t = saved[name];
            if (!t) throw new StableDragError('MODEL_ERROR', `The backward graph needs "${name}", which the split forward did not output.`);
            feeds[name] = t;
          }
        }
        const res = await this.sessions.backward.run(feeds, [this.gradients.gradient]);
        const g = floats(res[this.gradients.gradient], this.gradients.gradient);
        return g.slice(0, k);
      },
      release: () => {
        saved = undefined;
      },
    };
  }

  async render(latent: DragLatent, options?: CallOptions): Promise<RgbaImage> {
    this.assertLive();
    options?.signal?.throwIfAborted();
    const { tensors, resolution, imageRange } = this.config;
    const out = await this.sessions.synthesis.run({ [tensors.ws]: this.wsTensor(latent) }, [tensors.image]);
    return chwToRgba(floats(out[tensors.image], tensors.image), resolution, resolution, imageRange);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const image = this.imageVjp ? await this.imageVjp.catch(() => undefined) : undefined;
    await Promise.all([...Object.values(this.sessions).filter((s): s is OrtSession => s !== undefined), ...(image ? [image.forward, image.backward] : [])].map((s) => s.release()));
  }
}
