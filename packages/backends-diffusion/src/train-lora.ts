import { AdamW, StableDragError, createNormalRng, createRng } from '@stabledrag/core';
import type { CallOptions, RgbaImage } from '@stabledrag/core';
import { DataType, buildVjp, findProjections, initialLoraWeights, insertLora, mergeLora, pinInputs } from '@stabledrag/onnx-autograd';
import type { LoraAdapter, OnnxModel } from '@stabledrag/onnx-autograd';
import { DdimScheduler } from './ddim-scheduler.js';
import { encodeImageMean } from './encode-image.js';
import type { DiffusionModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSession, OrtSessionOptions, OrtTensor } from './ort-runtime.js';
import { encodePrompt } from './prompt.js';
import { describeUnet } from './unet-io.js';
import type { UnetIo } from './unet-io.js';
import { prepareVaeEncoder } from './vae-io.js';
import { sessionOpener } from './session-opener.js';
import type { ExternalDataOptions } from './session-opener.js';

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
  readonly forward: OnnxModel;
  readonly backward: OnnxModel;
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
    forward: vjp.forward.model,
    backward: vjp.backward.model,
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

/** All of A and B in one array, so one AdamW updates every adapter; `slots` say where each lives. */
interface PackedAdapters {
  readonly params: Float32Array;
  readonly slots: ReadonlyMap<string, { readonly start: number; readonly length: number; readonly dims: readonly number[] }>;
}

function packAdapters(adapters: readonly LoraAdapter[], rand: () => number): PackedAdapters {
  const slots = new Map<string, { start: number; length: number; dims: number[] }>();
  let total = 0;
  const place = (name: string, dims: number[]): void => {
    slots.set(name, { start: total, length: dims[0]! * dims[1]!, dims });
    total += dims[0]! * dims[1]!;
  };
  for (const a of adapters) {
    place(a.down, [a.rank, a.inFeatures]);
    place(a.up, [a.outFeatures, a.rank]);
  }
  const params = new Float32Array(total);
  for (const a of adapters) {
    const init = initialLoraWeights(a, rand);
    params.set(init.down, slots.get(a.down)!.start);
    params.set(init.up, slots.get(a.up)!.start);
  }
  return { params, slots };
}

/** x_t = √ᾱ_t z_0 + √(1−ᾱ_t) ε for each timestep of the batch (DDPM's add_noise). */
function addNoise(z0: Float32Array, noise: Float32Array, ts: readonly number[], alphas: Float64Array): Float32Array {
  const n = z0.length;
  const xt = new Float32Array(ts.length * n);
  ts.forEach((t, b) => {
    const [s, r] = [Math.sqrt(alphas[t]!), Math.sqrt(1 - alphas[t]!)];
    for (let i = 0; i < n; i++) xt[b * n + i] = s * z0[i]! + r * noise[b * n + i]!;
  });
  return xt;
}

/** F.mse_loss(reduction='mean') of ε̂ against ε, and its gradient 2(ε̂ − ε)/N. */
function mseLoss(pred: Float32Array, target: Float32Array): { loss: number; cotangent: Float32Array } {
  let loss = 0;
  const cotangent = new Float32Array(pred.length);
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i]! - target[i]!;
    loss += d * d;
    cotangent[i] = (2 * d) / pred.length;
  }
  return { loss: loss / pred.length, cotangent };
}

interface StepContext {
  readonly runtime: OrtRuntime;
  readonly io: UnetIo;
  readonly graphs: LoraGraphs;
  readonly forward: OrtSession;
  readonly backward: OrtSession;
  readonly sampleShape: readonly number[];
}

/** One forward and backward pass of the adapted UNet: the loss and dL/d(every A and B), packed. */
async function lossAndGradient(c: StepContext, packed: PackedAdapters, xt: Float32Array, ts: readonly number[], noise: Float32Array): Promise<{ loss: number; grad: Float32Array }> {
  const { runtime, io, graphs: g } = c;
  const feeds: Record<string, OrtTensor> = { [io.sample]: new runtime.Tensor('float32', xt, c.sampleShape), [io.timestep]: timestepBatch(runtime, io, ts) };
  for (const [name, o] of packed.slots) feeds[name] = new runtime.Tensor('float32', packed.params.slice(o.start, o.start + o.length), o.dims);
  const out = await c.forward.run(feeds, g.forwardOutputs);
  const { loss, cotangent } = mseLoss(out[io.output]?.data as Float32Array, noise);
  const bfeeds: Record<string, OrtTensor> = {};
  for (const name of g.backwardInputs) {
    const t = name === g.cotangent ? new runtime.Tensor('float32', cotangent, c.sampleShape) : (out[name] ?? feeds[name]);
    if (!t) throw new StableDragError('MODEL_ERROR', `The LoRA backward graph needs "${name}", which the forward did not output.`);
    bfeeds[name] = t;
  }
  const res = await c.backward.run(bfeeds);
  const grad = new Float32Array(packed.params.length);
  for (const [name, o] of packed.slots) grad.set(res[g.gradients[name]!]!.data as Float32Array, o.start);
  return { loss, grad };
}

function checkOptions(rank: number, steps: number, batch: number, io: UnetIo, file: string): void {
  for (const [k, v] of [['rank', rank], ['steps', steps], ['batch', batch]] as const) {
    if (!Number.isInteger(v) || v < (k === 'steps' ? 0 : 1)) throw new StableDragError('INVALID_INPUT', `LoRA ${k} must be a ${k === 'steps' ? 'non-negative' : 'positive'} integer, got ${v}.`);
  }
  if (batch > 1 && io.timestepDims.length === 0) {
    throw new StableDragError('INVALID_INPUT', `${file} takes one scalar timestep, so LoRA can only train with batch 1 (got ${batch}).`);
  }
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
  parts: { readonly runtime: OrtRuntime; readonly files: DiffusionModelFiles; readonly sessionOptions?: OrtSessionOptions; readonly externalData?: ExternalDataOptions },
  image: RgbaImage,
  options: LoraTrainingOptions = {},
): Promise<LoraWeights> {
  const { runtime, files } = parts;
  const { config } = files;
  const [rank, steps, batch, seed] = [options.rank ?? 16, options.steps ?? 80, options.batch ?? 4, options.seed ?? 0];
  const io = describeUnet(files.unet, config.files.unet);
  checkOptions(rank, steps, batch, io, config.files.unet);
  options.signal?.throwIfAborted();
  const opener = sessionOpener(runtime, { graphOptimizationLevel: 'all', ...parts.sessionOptions }, config.name, parts.externalData);
  const sessions: OrtSession[] = [];
  const open = async (model: OnnxModel, what: string): Promise<OrtSession> => {
    const s = await opener.open(model, what);
    sessions.push(s);
    return s;
  };
  try {
    const context = await encodePrompt(runtime, await open(files.textEncoder, 'text encoder'), files.textEncoder, config.files.textEncoder, files.tokens);
    const vae = prepareVaeEncoder(files.vaeEncoder, config.files.vaeEncoder);
    const { z0 } = await encodeImageMean(runtime, await open(vae.model, 'VAE encoder'), vae.io, config, image);
    const side = config.resolution / config.vaeScaleFactor;
    const sampleShape = [batch, config.latentChannels, side, side];
    const graphs = buildLoraGraphs(files.unet, io, rank, context, sampleShape);
    const ctx: StepContext = { runtime, io, graphs, forward: await open(graphs.forward, 'LoRA forward graph'), backward: await open(graphs.backward, 'LoRA backward graph'), sampleShape };
    await opener.close();
    const rand = createRng(seed);
    const normal = createNormalRng(seed + 1);
    const packed = packAdapters(graphs.adapters, rand);
    const adamw = new AdamW(packed.params.length, { lr: options.learningRate ?? 5e-4, weightDecay: options.weightDecay ?? 1e-2 });
    const alphas = DdimScheduler.alphasCumprod(config.scheduler);
    const T = config.scheduler.numTrainTimesteps;
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      options.signal?.throwIfAborted();
      const ts = Array.from({ length: batch }, () => Math.min(T - 1, Math.floor(rand() * T)));
      const noise = Float32Array.from({ length: batch * z0.length }, () => normal());
      const { loss, grad } = await lossAndGradient(ctx, packed, addNoise(z0, noise, ts, alphas), ts, noise);
      adamw.step(packed.params, grad);
      losses.push(loss);
      options.onProgress?.({ stage: 'lora', step: step + 1, total: steps, loss });
    }
    const values: Record<string, Float32Array> = {};
    for (const [name, o] of packed.slots) values[name] = packed.params.slice(o.start, o.start + o.length);
    return { adapters: graphs.adapters, values, losses };
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
    await opener.close();
  }
}

/** The model files with trained adapters folded into the UNet's weights: W' = W + (α/r)·Aᵀ·Bᵀ. */
export function applyLora(files: DiffusionModelFiles, lora: LoraWeights): DiffusionModelFiles {
  return { ...files, unet: mergeLora(files.unet, lora.adapters, lora.values) };
}
