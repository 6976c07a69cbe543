import { StableDragError, createNormalRng } from '@stabledrag/core';
import type {
  BackendInfo,
  CallOptions,
  DragBackend,
  DragLatent,
  FixedRegion,
  ForwardOptions,
  ForwardPass,
  LatentSource,
  RgbaImage,
} from '@stabledrag/core';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import { buildDragGraphs } from './build-drag-graphs.js';
import type { DragGraphOptions, DragGraphs } from './build-drag-graphs.js';
import { buildMaskedDragGraphs } from './build-masked-drag-graphs.js';
import type { MaskedDragGraphs } from './build-masked-drag-graphs.js';
import { fixedRegionL1 } from './fixed-region-l1.js';
import { latentKeepMask } from './latent-keep-mask.js';
import { DdimScheduler } from './ddim-scheduler.js';
import { assertPlainOnnx, assertSupportedWeights, findBlockOutput } from './find-unet-tensors.js';
import { encodeImageMean } from './encode-image.js';
import { imageKey } from './image-key.js';
import { chwToRgba } from './image-convert.js';
import type { DiffusionModelConfig } from './model-config.js';
import type { DiffusionModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSession, OrtSessionOptions, OrtTensor } from './ort-runtime.js';
import { encodePrompt } from './prompt.js';
import { describeUnet, timestepTensor } from './unet-io.js';
import type { UnetIo } from './unet-io.js';
import { prepareVaeEncoder } from './vae-io.js';
import { buildMutualAttentionGraphs, mutualAttentionLayers } from './mutual-attention.js';
import type { MutualAttentionGraphs } from './mutual-attention.js';
import type { VaeEncoderIo } from './vae-io.js';
import { openSessions, sessionOpener } from './session-opener.js';
import type { ExternalDataOptions, SessionOpener } from './session-opener.js';

/** A long call's progress: `step` of `total` in one stage. */
export interface DiffusionProgress {
  readonly stage: 'encode' | 'invert' | 'sample' | 'denoise' | 'decode';
  readonly step: number;
  readonly total: number;
}

/** {@link CallOptions} plus a progress sink for the calls that run the UNet many times. */
export interface DiffusionCallOptions extends CallOptions {
  readonly onProgress?: (progress: DiffusionProgress) => void;
}

/** Options of {@link DiffusionBackend.render} and {@link DiffusionBackend.denoise}. */
export interface DiffusionRenderOptions extends DiffusionCallOptions {
  /**
   * Denoise with mutual self-attention: the edited z_t's queries attend to the keys and values of
   * the source z_t (`latent.frozen`) in the chosen layers, both branches denoised together
   * (2 UNet calls per step). Default true when the model has such layers.
   */
  readonly mutualSelfAttention?: boolean;
}

/** DragDiffusion's drag settings for this model, for the tracker, the supervisor and Adam. */
export interface DiffusionDragDefaults {
  readonly learningRate: number;
  /** r_m and r_p in feature pixels (DragDiffusion: 1 and 3). */
  readonly featureRadii: { readonly motion: number; readonly tracking: number };
  /** The same radii in image pixels, what `@stabledrag/tracker` and `@stabledrag/motion` take. */
  readonly imageRadii: { readonly motion: number; readonly tracking: number };
}

/** Everything a DiffusionBackend is made from; the `./node` and `./web` entries read the files. */
export interface DiffusionBackendParts {
  readonly runtime: OrtRuntime;
  readonly files: DiffusionModelFiles;
  readonly sessionOptions?: OrtSessionOptions;
  /** Build the mutual self-attention graphs (default true). */
  readonly mutualSelfAttention?: boolean;
  /**
   * Offer DragDiffusion's mask term on the DDIM-stepped latent (`info.fixedRegionTerm`, default
   * true). Its graphs are built on the first masked forward, so the backend keeps a reference to
   * the UNet model until disposed; false frees it and masked drags fall back to the supervisor's
   * feature-space term.
   */
  readonly fixedRegionTerm?: boolean;
  /**
   * Graphs whose weights exceed `threshold` bytes (default just under protobuf's 2 GiB, which SD
   * 1.5's float32 UNet is over) are opened with their weights as ONNX external data.
   */
  readonly externalData?: ExternalDataOptions;
}

interface Sessions {
  /** The UNet; with mutual self-attention, it also returns the swapped layers' K and V. */
  unet: OrtSession;
  /** The UNet taking those layers' K and V as inputs (absent without mutual self-attention). */
  unetEdited?: OrtSession;
  features: OrtSession;
  forward: OrtSession;
  backward: OrtSession;
  /** The masked drag's graphs (features and ε forward, their VJP), opened on first use. */
  maskedForward?: OrtSession;
  maskedBackward?: OrtSession;
  vaeEncoder: OrtSession;
  vaeDecoder: OrtSession;
}

/** What the backend keeps of its graphs once their sessions are open: the tensor names. */
type DragGraphNames = Omit<DragGraphs, 'features' | 'forward' | 'backward'>;
type MaskedGraphNames = Omit<MaskedDragGraphs, 'forward' | 'backward'>;
type MutualAttentionLinks = Omit<MutualAttentionGraphs, 'source' | 'edited'>;

/** The feeds a graph takes, by its input names; names a missing one. */
function pick(available: Record<string, OrtTensor>, names: readonly string[]): Record<string, OrtTensor> {
  const feeds: Record<string, OrtTensor> = {};
  for (const name of names) {
    const t = available[name];
    if (!t) throw new StableDragError('MODEL_ERROR', `The backward graph needs "${name}", which the split forward did not output.`);
    feeds[name] = t;
  }
  return feeds;
}

function floats(t: OrtTensor | undefined, name: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new StableDragError('MODEL_ERROR', `The model did not return a float32 tensor named "${name}".`);
  return t.data;
}

/**
 * A latent diffusion model (Stable Diffusion 1.5 layout) as a DragBackend, as DragDiffusion
 * drags it: the latent is z_t at the editing timestep (DDIM, 50 steps, strength 0.7 → t = 681),
 * the features are a UNet decoder block's output at t with the empty prompt, bilinearly resized
 * to half the image size, and `render` denoises z_t with DDIM and decodes it with the VAE.
 * `frozen` holds the z_t the edit started from (the source branch of mutual self-attention).
 */
export class DiffusionBackend implements DragBackend {
  readonly specificationVersion = 'v1' as const;
  readonly info: BackendInfo;
  readonly config: DiffusionModelConfig;
  readonly scheduler: DdimScheduler;
  /** The timestep of z_t. */
  readonly editTimestep: number;
  readonly dragDefaults: DiffusionDragDefaults;
  private readonly runtime: OrtRuntime;
  private readonly sessions: Sessions;
  private readonly graphs: DragGraphNames;
  private readonly unetIo: UnetIo;
  private readonly vaeIo: VaeEncoderIo;
  private readonly context: OrtTensor;
  private readonly latentDims: readonly [number, number, number, number];
  private readonly masa: MutualAttentionLinks | undefined;
  /** What the masked graphs are built from, until they are; undefined without the term. */
  private maskedSource: { unet: OnnxModel; options: DragGraphOptions } | undefined;
  private masked: Promise<MaskedGraphNames> | undefined;
  /** ẑ⁰_{t−1} of the last source z_t (`latent.frozen`), so each drag steps its source once. */
  private sourceStep: { source: Float32Array; zPrev: Float32Array } | undefined;
  private readonly sessionOptions: OrtSessionOptions;
  private readonly externalData: ExternalDataOptions | undefined;
  /** The batches that opened sessions: dispose() retries freeing their temporary files. */
  private readonly openers: SessionOpener[];
  /** z_t of recently inverted images by content, so a second drag of the same image skips inversion. */
  private readonly inversions = new Map<string, DragLatent>();
  private static readonly INVERSION_CACHE_SIZE = 4;
  private disposed = false;

  private constructor(
    parts: DiffusionBackendParts,
    sessions: Sessions,
    graphs: DragGraphNames,
    io: { unet: UnetIo; vae: VaeEncoderIo; context: OrtTensor; masa?: MutualAttentionLinks; masked?: { unet: OnnxModel; options: DragGraphOptions }; sessionOptions: OrtSessionOptions; opener: SessionOpener },
  ) {
    this.masa = io.masa;
    this.maskedSource = io.masked;
    this.sessionOptions = io.sessionOptions;
    this.externalData = parts.externalData;
    this.openers = [io.opener];
    const { config } = parts.files;
    this.config = config;
    this.runtime = parts.runtime;
    this.sessions = sessions;
    this.graphs = graphs;
    this.unetIo = io.unet;
    this.vaeIo = io.vae;
    this.context = io.context;
    this.scheduler = new DdimScheduler(config.inferenceSteps, config.scheduler);
    this.editTimestep = this.scheduler.editTimestep(config.inversionStrength);
    const side = config.resolution / config.vaeScaleFactor;
    this.latentDims = [1, config.latentChannels, side, side];
    const [C, H, W] = graphs.featureShape;
    const scale = config.resolution / W;
    this.info = {
      name: config.name,
      kind: 'diffusion',
      imageWidth: config.resolution,
      imageHeight: config.resolution,
      featureChannels: C,
      featureHeight: H,
      featureWidth: W,
      featureScale: scale,
      optimizedSize: config.latentChannels * side * side,
      defaultLearningRate: config.dragLearningRate,
      ...(io.masked
        ? { fixedRegionTerm: { kind: 'native' as const, defaultWeight: config.maskLambda, description: 'DragDiffusion: λ·Σ|ẑ_{t−1} − ẑ⁰_{t−1}|·(1 − M) on the DDIM-stepped latent' } }
        : {}),
    };
    this.dragDefaults = {
      learningRate: config.dragLearningRate,
      featureRadii: { ...config.radii },
      imageRadii: { motion: config.radii.motion * scale, tracking: config.radii.tracking * scale },
    };
  }

  /** Checks the graphs, encodes the empty prompt, builds the drag graphs and opens the sessions. */
  static async create(parts: DiffusionBackendParts): Promise<DiffusionBackend> {
    const { runtime, files } = parts;
    const { config } = files;
    const f = config.files;
    for (const [model, file] of [[files.unet, f.unet], [files.vaeEncoder, f.vaeEncoder], [files.vaeDecoder, f.vaeDecoder], [files.textEncoder, f.textEncoder]] as const) {
      assertPlainOnnx(model, file);
      assertSupportedWeights(model, file);
    }
    const opts: OrtSessionOptions = { graphOptimizationLevel: 'all', ...parts.sessionOptions };
    const opener = sessionOpener(runtime, opts, config.name, parts.externalData);
    try {
      const text = await opener.open(files.textEncoder, 'text encoder');
      const prompt = await encodePrompt(runtime, text, files.textEncoder, f.textEncoder, files.tokens).finally(() => text.release());
      const unetIo = describeUnet(files.unet, f.unet);
      const side = config.resolution / config.vaeScaleFactor;
      const graphOptions: DragGraphOptions = {
        io: unetIo,
        featureTensor: config.featureTensor ?? findBlockOutput(files.unet, config.featureBlock, f.unet),
        sampleShape: [1, config.latentChannels, side, side],
        timestep: new DdimScheduler(config.inferenceSteps, config.scheduler).editTimestep(config.inversionStrength),
        context: prompt.data,
        contextShape: prompt.dims,
        featureSize: config.resolution / config.featureDownscale,
        file: f.unet,
      };
      const { features, forward, backward, ...graphs } = buildDragGraphs(files.unet, graphOptions);
      const vae = prepareVaeEncoder(files.vaeEncoder, f.vaeEncoder);
      const shapes = { [unetIo.sample]: [1, config.latentChannels, side, side], [unetIo.timestep]: unetIo.timestepDims, [unetIo.context]: prompt.dims };
      const layers = parts.mutualSelfAttention === false ? [] : mutualAttentionLayers(files.unet, config, f.unet);
      const { source, edited, ...masa } = layers.length > 0 ? buildMutualAttentionGraphs(files.unet, layers, shapes, config.mutualSelfAttention.startStep) : { source: files.unet, edited: undefined };
      // One graph at a time, each serialised just before its session is created: a UNet's bytes
      // exist once at a time, not once per graph.
      const sessions: Sessions = await openSessions(opener, [
        ['unet', source, 'UNet'],
        ...(edited ? [['unetEdited', edited, 'UNet with mutual self-attention'] as const] : []),
        ['features', features, 'feature graph'],
        ['forward', forward, 'split forward graph'],
        ['backward', backward, 'backward graph'],
        ['vaeEncoder', vae.model, 'VAE encoder'],
        ['vaeDecoder', files.vaeDecoder, 'VAE decoder'],
      ]);
      const context = new runtime.Tensor('float32', prompt.data, prompt.dims);
      const masked = parts.fixedRegionTerm === false ? {} : { masked: { unet: files.unet, options: graphOptions } };
      return new DiffusionBackend(parts, sessions, graphs, { unet: unetIo, vae: vae.io, context, sessionOptions: opts, opener, ...('links' in masa ? { masa } : {}), ...masked });
    } finally {
      await opener.close();
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new StableDragError('DISPOSED', `DiffusionBackend "${this.config.name}" was disposed; load the model again.`);
  }

  private latentTensor(z: Float32Array): OrtTensor {
    return new this.runtime.Tensor('float32', z, this.latentDims);
  }

  /** ε̂(z, t) of the full UNet with the prompt embedding. */
  async predictNoise(z: Float32Array, t: number): Promise<Float32Array> {
    const out = this.unetIo.output;
    return floats((await this.runUnet(this.sessions.unet, z, t, [out]))[out], out);
  }

  private async runUnet(session: OrtSession, z: Float32Array, t: number, fetches: readonly string[], extra: Record<string, OrtTensor> = {}): Promise<Record<string, OrtTensor>> {
    this.assertLive();
    const io = this.unetIo;
    return session.run({ [io.sample]: this.latentTensor(z), [io.timestep]: timestepTensor(this.runtime, io, t), [io.context]: this.context, ...extra }, fetches);
  }

  /**
   * One denoising step of both branches with mutual self-attention: the source branch runs the
   * UNet and hands its keys and values to the edited branch's UNet.
   */
  private async mutualStep(src: Float32Array, edit: Float32Array, t: number, masa: MutualAttentionLinks, edited: OrtSession): Promise<[Float32Array, Float32Array]> {
    const out = this.unetIo.output;
    const s = await this.runUnet(this.sessions.unet, src, t, [out, ...masa.links.flatMap((l) => [l.sourceKey, l.sourceValue])]);
    const kv: Record<string, OrtTensor> = {};
    for (const l of masa.links) {
      kv[l.editedKey] = s[l.sourceKey]!;
      kv[l.editedValue] = s[l.sourceValue]!;
    }
    const e = await this.runUnet(edited, edit, t, [out], kv);
    return [this.scheduler.step(floats(s[out], out), t, src).latent, this.scheduler.step(floats(e[out], out), t, edit).latent];
  }

  /** Runs DDIM steps over `timesteps`, inverting (ascending t) or denoising (descending t). */
  private async walk(z: Float32Array, timesteps: readonly number[], direction: 'invert' | 'denoise', stage: DiffusionProgress['stage'], options?: DiffusionCallOptions): Promise<Float32Array> {
    let x = z;
    for (let i = 0; i < timesteps.length; i++) {
      options?.signal?.throwIfAborted();
      const t = timesteps[i]!;
      const eps = await this.predictNoise(x, t);
      x = direction === 'invert' ? this.scheduler.inverseStep(eps, t, x).latent : this.scheduler.step(eps, t, x).latent;
      options?.onProgress?.({ stage, step: i + 1, total: timesteps.length });
    }
    return x;
  }

  /** z_0 of an image: the VAE posterior mean times the scaling factor (the image is fitted first). */
  async encodeImage(image: RgbaImage, options?: DiffusionCallOptions): Promise<{ z0: Float32Array; notices: readonly string[] }> {
    this.assertLive();
    options?.signal?.throwIfAborted();
    const encoded = await encodeImageMean(this.runtime, this.sessions.vaeEncoder, this.vaeIo, this.config, image);
    options?.onProgress?.({ stage: 'encode', step: 1, total: 1 });
    return encoded;
  }

  private makeLatent(zt: Float32Array, meta: Record<string, unknown>): DragLatent {
    const { config } = this;
    return {
      optimized: new Float32Array(zt),
      frozen: new Float32Array(zt),
      meta: { ...meta, model: config.name, timestep: this.editTimestep, inferenceSteps: config.inferenceSteps, inversionStrength: config.inversionStrength },
    };
  }

  /**
   * - `image`: fit to the model size, encode (mean × scaling factor), DDIM-invert 35 steps to t.
   * - `seed`: z_T ~ N(0, I) from the seed, DDIM-denoised to t: the z_t of a sampled trajectory.
   *   DragDiffusion only edits real images; inverting the sampled image would land near the
   *   same z_t at 85 UNet calls instead of 15, and `render` would not reproduce the sample exactly.
   * - `latent`: a saved latent of this model at this timestep.
   */
  async createLatent(source: LatentSource, options?: DiffusionCallOptions): Promise<DragLatent> {
    this.assertLive();
    options?.signal?.throwIfAborted();
    const { scheduler, config } = this;
    if (source.type === 'latent') return this.resumeLatent(source.latent);
    if (source.type === 'image') {
      const key = imageKey(source.image);
      const cached = this.inversions.get(key);
      if (cached) return this.resumeLatent(cached);
      const { z0, notices } = await this.encodeImage(source.image, options);
      const zt = await this.walk(z0, scheduler.inversionTimesteps(config.inversionStrength), 'invert', 'invert', options);
      const latent = this.makeLatent(zt, { source: 'image', ...(notices.length ? { notices: [...notices] } : {}) });
      this.inversions.set(key, latent);
      if (this.inversions.size > DiffusionBackend.INVERSION_CACHE_SIZE) this.inversions.delete(this.inversions.keys().next().value!);
      return this.resumeLatent(latent);
    }
    if (!Number.isInteger(source.seed) || source.seed < 0) throw new StableDragError('INVALID_INPUT', `A seed must be a non-negative integer, got ${source.seed}.`);
    const normal = createNormalRng(source.seed);
    const zT = Float32Array.from({ length: this.info.optimizedSize }, () => normal());
    const skipped = scheduler.timesteps.slice(0, config.inferenceSteps - scheduler.inversionSteps(config.inversionStrength));
    const zt = await this.walk(zT, skipped, 'denoise', 'sample', options);
    return this.makeLatent(zt, { source: 'seed', seed: source.seed });
  }

  private resumeLatent(latent: DragLatent): DragLatent {
    const n = this.info.optimizedSize;
    if (latent.optimized.length !== n || (latent.frozen.length !== 0 && latent.frozen.length !== n)) {
      throw new StableDragError('INVALID_INPUT', `This latent holds ${latent.optimized.length} + ${latent.frozen.length} floats; model "${this.config.name}" takes z_t of ${this.latentDims.slice(1).join('×')} = ${n} (and as many for the source z_t). Was it saved from another model?`);
    }
    const t = latent.meta.timestep;
    if (t !== undefined && t !== this.editTimestep) {
      throw new StableDragError('INVALID_INPUT', `This latent is z_t at t = ${String(t)}, but the backend edits at t = ${this.editTimestep} (inference steps and inversion strength must match those it was saved with).`);
    }
    return {
      optimized: new Float32Array(latent.optimized),
      frozen: latent.frozen.length ? new Float32Array(latent.frozen) : new Float32Array(latent.optimized),
      meta: { ...(JSON.parse(JSON.stringify(latent.meta)) as Record<string, unknown>), model: this.config.name, timestep: this.editTimestep },
    };
  }

  private checkLatent(latent: DragLatent): void {
    if (latent.optimized.length !== this.info.optimizedSize) {
      throw new StableDragError('INVALID_INPUT', `The latent holds ${latent.optimized.length} floats; model "${this.config.name}" takes z_t of ${this.info.optimizedSize}. Make it with createLatent().`);
    }
  }

  async forward(latent: DragLatent, options: ForwardOptions = {}): Promise<ForwardPass> {
    this.assertLive();
    options.signal?.throwIfAborted();
    this.checkLatent(latent);
    if (options.fixedRegion && this.info.fixedRegionTerm) return this.maskedForward(latent, options.fixedRegion, options);
    const g = this.graphs;
    const sampleName = this.unetIo.sample;
    const sample = this.latentTensor(new Float32Array(latent.optimized));
    const withVjp = options.withVjp ?? true;
    const out = withVjp
      ? await this.sessions.forward.run({ [sampleName]: sample }, g.forwardOutputs)
      : await this.sessions.features.run({ [sampleName]: sample }, [g.featureOutput]);
    const info = this.info;
    const features = {
      data: floats(out[g.featureOutput], g.featureOutput),
      channels: info.featureChannels,
      height: info.featureHeight,
      width: info.featureWidth,
      scale: info.featureScale,
    };
    let saved: Record<string, OrtTensor> | undefined = withVjp ? { ...out, [sampleName]: sample } : undefined;
    return {
      features,
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
        for (const name of g.backwardInputs) {
          if (name === g.cotangent) {
            feeds[name] = new this.runtime.Tensor('float32', new Float32Array(cotangent), [1, info.featureChannels, info.featureHeight, info.featureWidth]);
          } else {
            const t = saved[name];
            if (!t) throw new StableDragError('MODEL_ERROR', `The backward graph needs "${name}", which the split forward did not output.`);
            feeds[name] = t;
          }
        }
        const res = await this.sessions.backward.run(feeds, [g.gradient]);
        return new Float32Array(floats(res[g.gradient], g.gradient));
      },
      release: () => {
        saved = undefined;
      },
    };
  }

  /** Builds and opens the masked drag's graphs once, on the first masked forward. */
  private maskedGraphs(): Promise<MaskedGraphNames> {
    const src = this.maskedSource;
    if (!src) throw new StableDragError('INVALID_INPUT', `DiffusionBackend "${this.config.name}" was created with fixedRegionTerm: false.`);
    this.masked ??= (async () => {
      const { forward, backward, ...names } = buildMaskedDragGraphs(src.unet, src.options);
      const opener = sessionOpener(this.runtime, this.sessionOptions, this.config.name, this.externalData);
      this.openers.push(opener);
      const opened = await openSessions(opener, [
        ['maskedForward', forward, 'masked forward graph'],
        ['maskedBackward', backward, 'masked backward graph'],
      ]).finally(() => opener.close());
      // Disposed while building: dispose() could not see these sessions, so free them here.
      if (this.disposed) await Promise.all([opened.maskedForward.release(), opened.maskedBackward.release()]);
      else Object.assign(this.sessions, opened);
      return names;
    })();
    // A failed build may be retried (after a fix of its cause), so do not cache the rejection.
    this.masked.catch(() => {
      this.masked = undefined;
    });
    return this.masked;
  }

  /** ẑ⁰_{t−1}: the DDIM step of the source z_t with ε from the masked graph itself, cached per source. */
  private async sourceStepOf(source: Float32Array, m: MaskedGraphNames): Promise<Float32Array> {
    const cached = this.sourceStep;
    if (cached && cached.source.length === source.length && cached.source.every((v, i) => v === source[i])) return cached.zPrev;
    // The same graph as the optimised branch: at step 1 (z = source) ẑ − ẑ⁰ is then exactly 0, as
    // in DragDiffusion, where both come from one UNet; a second graph would leave float noise.
    const out = await this.sessions.maskedForward!.run({ [this.unetIo.sample]: this.latentTensor(new Float32Array(source)) }, [m.noiseOutput]);
    const zPrev = this.scheduler.step(floats(out[m.noiseOutput], m.noiseOutput), this.editTimestep, source).latent;
    this.sourceStep = { source: new Float32Array(source), zPrev };
    return zPrev;
  }

  /**
   * A forward with DragDiffusion's mask term (see `info.fixedRegionTerm`): the graph returns the
   * features and ε̂(z_t); ẑ_{t−1} = a·z_t + b·ε̂ is compared with the source's ẑ⁰_{t−1}, and
   * `vjp(c)` feeds c and b·g to the backward and adds a·g, g = dterm/dẑ_{t−1}.
   */
  private async maskedForward(latent: DragLatent, region: FixedRegion, options: ForwardOptions): Promise<ForwardPass> {
    const info = this.info;
    const { mask, weight } = region;
    if (!mask || mask.width !== info.imageWidth || mask.height !== info.imageHeight) {
      throw new StableDragError('INVALID_INPUT', `fixedRegion.mask must be ${info.imageWidth}×${info.imageHeight} (the image size), got ${mask?.width}×${mask?.height}.`);
    }
    if (!(weight >= 0) || !Number.isFinite(weight)) throw new StableDragError('INVALID_INPUT', `fixedRegion.weight must be a non-negative number, got ${weight}.`);
    if (latent.frozen.length !== latent.optimized.length) {
      throw new StableDragError('INVALID_INPUT', 'A masked drag compares with the source z_t, latent.frozen, which this latent lacks; make it with createLatent().');
    }
    const m = await this.maskedGraphs();
    this.assertLive();
    options.signal?.throwIfAborted();
    const zPrev0 = await this.sourceStepOf(latent.frozen, m);
    const sampleName = this.unetIo.sample;
    const z = new Float32Array(latent.optimized);
    const sample = this.latentTensor(z);
    const out = await this.sessions.maskedForward!.run({ [sampleName]: sample }, m.forwardOutputs);
    const eps = floats(out[m.noiseOutput], m.noiseOutput);
    const t = this.editTimestep;
    const zPrev = this.scheduler.step(eps, t, z).latent;
    const [, , h, w] = this.latentDims;
    const dzPrev = new Float32Array(z.length);
    const fixedRegionLoss = fixedRegionL1(zPrev, zPrev0, latentKeepMask(mask, h, w), weight, dzPrev);
    const { a, b } = this.scheduler.stepCoefficients(t);
    const features = { data: floats(out[m.featureOutput], m.featureOutput), channels: info.featureChannels, height: info.featureHeight, width: info.featureWidth, scale: info.featureScale };
    const withVjp = options.withVjp ?? true;
    let saved: Record<string, OrtTensor> | undefined = withVjp ? { ...out, [sampleName]: sample } : undefined;
    return {
      features,
      fixedRegionLoss,
      vjp: async (cotangent: Float32Array, callOptions?: CallOptions) => {
        this.assertLive();
        callOptions?.signal?.throwIfAborted();
        if (!saved) throw new StableDragError('INVALID_INPUT', withVjp ? 'vjp() called after release(); run forward() again.' : 'This pass was made with withVjp: false; run forward() with withVjp: true.');
        if (cotangent.length !== features.data.length) throw new StableDragError('INVALID_INPUT', `The cotangent has ${cotangent.length} floats; the features have ${features.data.length}.`);
        const feeds: Record<string, OrtTensor> = {
          ...saved,
          [m.featureCotangent]: new this.runtime.Tensor('float32', new Float32Array(cotangent), [1, info.featureChannels, info.featureHeight, info.featureWidth]),
          [m.noiseCotangent]: this.latentTensor(dzPrev.map((g) => b * g)),
        };
        const res = await this.sessions.maskedBackward!.run(pick(feeds, m.backwardInputs), [m.gradient]);
        const grad = new Float32Array(floats(res[m.gradient], m.gradient));
        for (let i = 0; i < grad.length; i++) grad[i]! += a * dzPrev[i]!;
        return grad;
      },
      release: () => {
        saved = undefined;
      },
    };
  }

  /**
   * z_0 of a latent: DDIM from t down to the end of the table (35 UNet calls for DragDiffusion),
   * with mutual self-attention against `latent.frozen` when the model has it (70 calls).
   */
  async denoise(latent: DragLatent, options?: DiffusionRenderOptions): Promise<Float32Array> {
    this.assertLive();
    this.checkLatent(latent);
    const timesteps = this.scheduler.denoiseTimesteps(this.config.inversionStrength);
    const { masa } = this;
    const edited = this.sessions.unetEdited;
    const mutual = masa && edited && options?.mutualSelfAttention !== false && latent.frozen.length === latent.optimized.length;
    if (!mutual) return this.walk(new Float32Array(latent.optimized), timesteps, 'denoise', 'denoise', options);
    let src: Float32Array = new Float32Array(latent.frozen);
    let edit: Float32Array = new Float32Array(latent.optimized);
    for (let i = 0; i < timesteps.length; i++) {
      options?.signal?.throwIfAborted();
      const t = timesteps[i]!;
      if (i >= masa.startStep) {
        [src, edit] = await this.mutualStep(src, edit, t, masa, edited);
      } else {
        src = this.scheduler.step(await this.predictNoise(src, t), t, src).latent;
        edit = this.scheduler.step(await this.predictNoise(edit, t), t, edit).latent;
      }
      options?.onProgress?.({ stage: 'denoise', step: i + 1, total: timesteps.length });
    }
    return edit;
  }

  /** The image of z_0: VAE decode of z_0 / scaling factor, from [−1, 1] to RGBA8. */
  async decode(z0: Float32Array, options?: DiffusionCallOptions): Promise<RgbaImage> {
    this.assertLive();
    options?.signal?.throwIfAborted();
    const { resolution, scalingFactor } = this.config;
    const z = this.latentTensor(Float32Array.from(z0, (v) => v / scalingFactor));
    const out = await this.sessions.vaeDecoder.run({ [this.sessions.vaeDecoder.inputNames[0] ?? 'latent_sample']: z });
    const name = this.sessions.vaeDecoder.outputNames[0] ?? 'sample';
    const image = chwToRgba(floats(out[name], name), resolution, resolution);
    options?.onProgress?.({ stage: 'decode', step: 1, total: 1 });
    return image;
  }

  async render(latent: DragLatent, options?: DiffusionRenderOptions): Promise<RgbaImage> {
    return this.decode(await this.denoise(latent, options), options);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.inversions.clear();
    this.maskedSource = undefined;
    this.sourceStep = undefined;
    await Promise.all(Object.values(this.sessions).map((s) => s.release()));
    await Promise.all(this.openers.map((o) => o.close()));
  }
}
