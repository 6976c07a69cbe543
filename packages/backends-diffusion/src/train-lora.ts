import { AdamW, StableDragError, createNormalRng, createRng } from '@stabledrag/core';
import type { CallOptions, RgbaImage } from '@stabledrag/core';
import { DataType, buildVjp, findProjections, initialLoraWeights, insertLora, mergeLora, pinInputs, serializeModel } from '@stabledrag/onnx-autograd';
import type { LoraAdapter, OnnxModel } from '@stabledrag/onnx-autograd';
import { DdimScheduler } from './ddim-scheduler.js';
import { encodeImageMean } from './encode-image.js';
import type { DiffusionModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSession, OrtSessionOptions, OrtTensor } from './ort-runtime.js';
import { encodePrompt } from './prompt.js';
import { describeUnet } from './unet-io.js';
import type { UnetIo } from './unet-io.js';
import { prepareVaeEncoder } from './vae-io.js';

/** DragDiffusion's LoRA settings unless overridden. */
export interface LoraTrainingOptions extends CallOptions {
  /** Rank of every adapter (DragDiffusion: 16). */
  readonly rank?: number;
  /** Optimiser steps (DragDiffusion: 80). */
  readonly steps?: number;
  /** AdamW learning rate (DragDiffusion: 5e-4) and weight decay (1e-2). */
  readonly learningRate?: number;
  readonly weightDecay?: number;
  /** Noised copies of the image per step (DragDiffusion: 4). The export's timestep must be 1-D for > 1. */
  readonly batch?: number;
  /** Seeds the adapters' initial A, the timesteps and the noise. Default 0. */
  readonly seed?: number;
  readonly onProgress?: (progress: { readonly stage: 'lora'; readonly step: number; readonly total: number; readonly loss: number }) => void;
}

/** Trained adapters, to merge into the UNet with {@link applyLora}. */
export interface LoraWeights {
  readonly adapters: readonly LoraAdapter[];
  /** A (`down`) and B (`up`) of every adapter by input name. */
  readonly values: Readonly<Record<string, Float32Array>>;
  /** The training loss (noise-prediction MSE) of every step. */
  readonly losses: readonly number[];
}

/** The UNet with adapters on every attention projection and the split VJP of ε̂ to A and B. */
interface LoraGraphs {
  readonly adapters: LoraAdapter[];
  readonly forward: Uint8Array;
  readonly backward: Uint8Array;
  readonly forwardOutputs: readonly string[];
  readonly backwardInputs: readonly string[];
  readonly cotangent: string;
  readonly gradients: Readonly<Record<string, string>>;
}

function buildLoraGraphs(unet: OnnxModel, io: UnetIo, rank: number, context: { data: Float32Array; dims: number[] }, sampleShape: number[]): LoraGraphs {
  const batch = sampleShape[0]!;
  const { model, adapters } = insertLora(unet, findProjections(unet), { rank });
  // The empty prompt's embedding is the same for every noised copy: pin it so the cross-attention
  // inputs fold (only their LoRA branches stay live).
  const ctx = new Float32Array(batch * context.data.length);
  for (let b = 0; b < batch; b++) ctx.set(context.data, b * context.data.length);
  const pinned = pinInputs(model, { [io.context]: { dtype: DataType.FLOAT, dims: [batch, ...context.dims.slice(1)], data: ctx } }, {
    [io.sample]: sampleShape,
    [io.timestep]: io.timestepDims.length === 0 ? [] : [batch],
  });
  const wrt = adapters.flatMap((a) => [a.down, a.up]);
  const vjp = buildVjp(pinned, {
    wrt,
    of: [io.output],
    mode: 'split',
    inputShapes: { [io.sample]: sampleShape, [io.timestep]: io.timestepDims.length === 0 ? [] : [batch] },
  });
  const cotangent = vjp.backward.cotangents[io.output];
  if (!cotangent) throw new StableDragError('MODEL_ERROR', 'The LoRA backward graph lacks the cotangent of the UNet output.');
  return {
    adapters,
    forward: serializeModel(vjp.forward.model),
    backward: serializeModel(vjp.backward.model),
    forwardOutputs: vjp.forward.outputs,
    backwardInputs: vjp.backward.inputs,
    cotangent,
    gradients: vjp.backward.gradients,
  };
}

function timestepBatch(runtime: OrtRuntime, io: UnetIo, ts: readonly number[]): OrtTensor {
  const dims = io.timestepDims.length === 0 ? [] : [ts.length];
  if (io.timestepType === DataType.INT64) return new runtime.Tensor('int64', BigInt64Array.from(ts.map(BigInt)), dims);
  if (io.timestepType === DataType.INT32) return new runtime.Tensor('int32', Int32Array.from(ts), dims);
  return new runtime.Tensor('float32', Float32Array.from(ts), dims);
}

/**
 * Fine-tunes LoRA adapters (to_q, to_k, to_v, to_out.0 of every attention) on one image, as
 * DragDiffusion does before a drag: at each step `batch` copies of z_0 are noised to uniformly
 * random training timesteps, x_t = √ᾱ_t z_0 + √(1−ᾱ_t) ε, and AdamW lowers the mean squared error
 * of the UNet's ε̂ (gradients from the split VJP of the adapted UNet). Deterministic for a seed.
 * z_0 is the VAE *mean* (DragDiffusion samples the posterior here; the mean keeps runs
 * reproducible and is what the drag itself uses).
 */
export async function trainLora(
  parts: { readonly runtime: OrtRuntime; readonly files: DiffusionModelFiles; readonly sessionOptions?: OrtSessionOptions },
  image: RgbaImage,
  options: LoraTrainingOptions = {},
): Promise<LoraWeights> {
  const { runtime, files } = parts;
  const { config } = files;
  const rank = options.rank ?? 16;
  const steps = options.steps ?? 80;
  const batch = options.batch ?? 4;
  const seed = options.seed ?? 0;
  for (const [k, v] of [['rank', rank], ['steps', steps], ['batch', batch]] as const) {
    if (!Number.isInteger(v) || v < (k === 'steps' ? 0 : 1)) throw new StableDragError('INVALID_INPUT', `LoRA ${k} must be a ${k === 'steps' ? 'non-negative' : 'positive'} integer, got ${v}.`);
  }
  const io = describeUnet(files.unet, config.files.unet);
  if (batch > 1 && io.timestepDims.length === 0) {
    throw new StableDragError('INVALID_INPUT', `${config.files.unet} takes one scalar timestep, so LoRA can only train with batch 1 (got ${batch}).`);
  }
  options.signal?.throwIfAborted();
  const opts: OrtSessionOptions = { graphOptimizationLevel: 'all', ...parts.sessionOptions };
  const sessions: OrtSession[] = [];
  const open = async (bytes: Uint8Array): Promise<OrtSession> => {
    const s = await runtime.InferenceSession.create(bytes, opts);
    sessions.push(s);
    return s;
  };
  try {
    const context = await encodePrompt(runtime, await open(serializeModel(files.textEncoder)), files.textEncoder, config.files.textEncoder, files.tokens);
    const vae = prepareVaeEncoder(files.vaeEncoder, config.files.vaeEncoder);
    const { z0 } = await encodeImageMean(runtime, await open(serializeModel(vae.model)), vae.io, config, image);
    const side = config.resolution / config.vaeScaleFactor;
    const sampleShape = [batch, config.latentChannels, side, side];
    const g = buildLoraGraphs(files.unet, io, rank, context, sampleShape);
    const [fwd, bwd] = [await open(g.forward), await open(g.backward)];

    const rand = createRng(seed);
    const normal = createNormalRng(seed + 1);
    // All of A and B in one array, so one AdamW updates every adapter.
    const offsets = new Map<string, { start: number; length: number; dims: number[] }>();
    const inits = g.adapters.map((a) => initialLoraWeights(a, rand));
    let total = 0;
    g.adapters.forEach((a) => {
      offsets.set(a.down, { start: total, length: a.rank * a.inFeatures, dims: [a.rank, a.inFeatures] });
      total += a.rank * a.inFeatures;
      offsets.set(a.up, { start: total, length: a.outFeatures * a.rank, dims: [a.outFeatures, a.rank] });
      total += a.outFeatures * a.rank;
    });
    const params = new Float32Array(total);
    g.adapters.forEach((a, i) => {
      params.set(inits[i]!.down, offsets.get(a.down)!.start);
      params.set(inits[i]!.up, offsets.get(a.up)!.start);
    });
    const adamw = new AdamW(total, { lr: options.learningRate ?? 5e-4, weightDecay: options.weightDecay ?? 1e-2 });
    const alphas = DdimScheduler.alphasCumprod(config.scheduler);
    const T = config.scheduler.numTrainTimesteps;
    const n = z0.length;
    const losses: number[] = [];
    const grad = new Float32Array(total);
    for (let step = 0; step < steps; step++) {
      options.signal?.throwIfAborted();
      const ts = Array.from({ length: batch }, () => Math.min(T - 1, Math.floor(rand() * T)));
      const noise = Float32Array.from({ length: batch * n }, () => normal());
      const xt = new Float32Array(batch * n);
      ts.forEach((t, b) => {
        const [s, r] = [Math.sqrt(alphas[t]!), Math.sqrt(1 - alphas[t]!)];
        for (let i = 0; i < n; i++) xt[b * n + i] = s * z0[i]! + r * noise[b * n + i]!;
      });
      const feeds: Record<string, OrtTensor> = { [io.sample]: new runtime.Tensor('float32', xt, sampleShape), [io.timestep]: timestepBatch(runtime, io, ts) };
      for (const [name, o] of offsets) feeds[name] = new runtime.Tensor('float32', params.slice(o.start, o.start + o.length), o.dims);
      const out = await fwd.run(feeds, g.forwardOutputs);
      const eps = out[io.output]?.data as Float32Array;
      // F.mse_loss(reduction='mean') and its gradient 2(ε̂ − ε)/N.
      let loss = 0;
      const cot = new Float32Array(eps.length);
      for (let i = 0; i < eps.length; i++) {
        const d = eps[i]! - noise[i]!;
        loss += d * d;
        cot[i] = (2 * d) / eps.length;
      }
      losses.push(loss / eps.length);
      const bfeeds: Record<string, OrtTensor> = {};
      for (const name of g.backwardInputs) {
        const t = name === g.cotangent ? new runtime.Tensor('float32', cot, sampleShape) : (out[name] ?? feeds[name]);
        if (!t) throw new StableDragError('MODEL_ERROR', `The LoRA backward graph needs "${name}", which the forward did not output.`);
        bfeeds[name] = t;
      }
      const res = await bwd.run(bfeeds);
      for (const [name, o] of offsets) grad.set(res[g.gradients[name]!]!.data as Float32Array, o.start);
      adamw.step(params, grad);
      options.onProgress?.({ stage: 'lora', step: step + 1, total: steps, loss: losses[step]! });
    }
    const values: Record<string, Float32Array> = {};
    for (const [name, o] of offsets) values[name] = params.slice(o.start, o.start + o.length);
    return { adapters: g.adapters, values, losses };
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

/** The model files with trained adapters folded into the UNet's weights: W' = W + (α/r)·Aᵀ·Bᵀ. */
export function applyLora(files: DiffusionModelFiles, lora: LoraWeights): DiffusionModelFiles {
  return { ...files, unet: mergeLora(files.unet, lora.adapters, lora.values) };
}
