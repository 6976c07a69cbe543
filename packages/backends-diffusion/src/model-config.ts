import { StableDragError } from '@stabledrag/core';
import { SD15_DDIM } from './ddim-scheduler.js';
import type { DdimConfig } from './ddim-scheduler.js';

/**
 * What a diffusion model folder needs to be dragged: the standard Stable Diffusion 1.5 ONNX layout
 * (`model_index.json`, `scheduler/scheduler_config.json`, `unet/`, `vae_encoder/`, `vae_decoder/`,
 * `text_encoder/`) plus an optional project `model.json` that names the drag tensors. Without
 * model.json the tensors are found by diffusers' module names (see `find-unet-tensors.ts`).
 */
export interface DiffusionModelConfig {
  readonly name: string;
  readonly description?: string;
  /** Image side in pixels (square images; SD 1.5: 512). */
  readonly resolution: number;
  /** Image pixels per latent pixel (SD: 8). */
  readonly vaeScaleFactor: number;
  readonly latentChannels: number;
  /** z_0 = VAE mean × this (SD 1.5: 0.18215). */
  readonly scalingFactor: number;
  readonly scheduler: DdimConfig;
  /** DDIM steps of the whole trajectory (DragDiffusion: 50). */
  readonly inferenceSteps: number;
  /** Fraction of the trajectory inverted (DragDiffusion: 0.7 → drag at t = 681). */
  readonly inversionStrength: number;
  readonly files: {
    readonly unet: string;
    readonly vaeEncoder: string;
    readonly vaeDecoder: string;
    readonly textEncoder: string;
  };
  /** The drag feature tensor of the UNet; undefined → the output of `featureBlock`. */
  readonly featureTensor?: string;
  /** The UNet module whose output is the drag feature (DragDiffusion: `up_blocks.2`). */
  readonly featureBlock: string;
  /** Feature maps are resized to resolution / this (DragDiffusion: 2, half the image size). */
  readonly featureDownscale: number;
  /** Self-attention K and V tensors in execution order; empty → found by module names. */
  readonly selfAttention: readonly { readonly key: string; readonly value: string; readonly module?: string }[];
  /**
   * Mutual self-attention (MasaCtrl) during the final denoise: indices into `selfAttention` whose
   * K/V come from the source branch, from this denoising step on. Empty → the layers of
   * `up_blocks.2` and later (DragDiffusion: layer 10 of SD's 16).
   */
  readonly mutualSelfAttention: { readonly layers: readonly number[]; readonly startStep: number };
  /** Adam learning rate on z_t (DragDiffusion: 0.01). */
  readonly dragLearningRate: number;
  /** Motion supervision and tracking radii at feature resolution (DragDiffusion: 1 and 3). */
  readonly radii: { readonly motion: number; readonly tracking: number };
  /** λ of the mask term on the DDIM-stepped latent (DragDiffusion: 0.1; model.json `defaults.maskLambda`). */
  readonly maskLambda: number;
  readonly license?: string;
}

type Json = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new StableDragError('MODEL_ERROR', `${where}: ${message}`);
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function pick<T>(sources: readonly Json[], keys: readonly string[], test: (v: unknown) => v is T): T | undefined {
  for (const s of sources) for (const k of keys) if (test(s[k])) return s[k];
  return undefined;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

/** The DDIM settings of `scheduler_config.json`; DragDiffusion replaces SD's PNDM with DDIM of the same betas. */
export function parseSchedulerConfig(raw: unknown, where = 'scheduler/scheduler_config.json'): DdimConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(where, 'is not a JSON object');
  const o = raw as Json;
  const schedule = pick([o], ['beta_schedule'], isStr) ?? SD15_DDIM.betaSchedule;
  if (schedule !== 'scaled_linear' && schedule !== 'linear') fail(where, `beta_schedule "${schedule}" is not supported (use scaled_linear or linear)`);
  if (o.trained_betas !== undefined && o.trained_betas !== null) fail(where, 'trained_betas are not supported; give beta_start, beta_end and beta_schedule');
  const pred = pick([o], ['prediction_type'], isStr) ?? 'epsilon';
  if (pred !== 'epsilon') fail(where, `prediction_type "${pred}" is not supported: DragDiffusion's DDIM needs an ε-prediction model (SD 1.5)`);
  return {
    numTrainTimesteps: pick([o], ['num_train_timesteps'], isNum) ?? SD15_DDIM.numTrainTimesteps,
    betaStart: pick([o], ['beta_start'], isNum) ?? SD15_DDIM.betaStart,
    betaEnd: pick([o], ['beta_end'], isNum) ?? SD15_DDIM.betaEnd,
    betaSchedule: schedule,
    stepsOffset: pick([o], ['steps_offset'], isNum) ?? SD15_DDIM.stepsOffset,
    setAlphaToOne: pick([o], ['set_alpha_to_one'], isBool) ?? SD15_DDIM.setAlphaToOne,
  };
}

function parseAttention(raw: unknown, where: string): { key: string; value: string; module?: string }[] {
  if (raw === undefined) return [];
  const o = obj(raw);
  const keys = Array.isArray(raw) ? undefined : o.keys;
  const values = Array.isArray(raw) ? undefined : o.values;
  if (Array.isArray(keys) && Array.isArray(values)) {
    if (keys.length !== values.length || ![...keys, ...values].every(isStr)) fail(where, '"self_attention" needs "keys" and "values" lists of tensor names of equal length');
    return keys.map((k, i) => ({ key: k as string, value: values[i] as string }));
  }
  const list = Array.isArray(raw) ? raw : Array.isArray(o.layers) ? o.layers : undefined;
  if (!list) fail(where, '"self_attention" must be a list of { "key", "value" } tensor names or { "keys": [...], "values": [...] }');
  return list.map((l, i) => {
    const e = obj(l);
    const key = pick([e], ['key', 'k'], isStr);
    const value = pick([e], ['value', 'v'], isStr);
    if (!key || !value) fail(where, `self_attention[${i}] needs "key" and "value" tensor names`);
    const module = pick([e], ['module', 'layer'], isStr);
    return { key, value, ...(module ? { module } : {}) };
  });
}

export interface DiffusionConfigSources {
  /** Parsed model_index.json. */
  readonly modelIndex: unknown;
  /** Parsed scheduler/scheduler_config.json. */
  readonly scheduler: unknown;
  /** Parsed model.json, when the folder has one. */
  readonly modelJson?: unknown;
  /** Parsed unet/config.json or vae config, when present (sample_size, scaling_factor). */
  readonly unetConfig?: unknown;
  readonly vaeConfig?: unknown;
  /** Name to show when model.json gives none (the folder's name). */
  readonly fallbackName: string;
}

/**
 * Reads a model folder's JSON files into a {@link DiffusionModelConfig}. model.json keys may be
 * snake_case or camelCase; every field has DragDiffusion's default. `where` names the folder.
 */
export function parseDiffusionConfig(src: DiffusionConfigSources, where: string): DiffusionModelConfig {
  const index = obj(src.modelIndex);
  if (src.modelIndex === null || typeof src.modelIndex !== 'object' || Array.isArray(src.modelIndex)) fail(`${where}/model_index.json`, 'is not a JSON object');
  const m = obj(src.modelJson);
  const mj = `${where}/model.json`;
  if (src.modelJson !== undefined && (src.modelJson === null || typeof src.modelJson !== 'object' || Array.isArray(src.modelJson))) fail(mj, 'is not a JSON object');
  const files = obj(m.files);
  // The project's export (tools/diffusion) writes `features`, `latent` and `defaults`; hand-written
  // files may use `feature` and `drag`.
  const feature = { ...obj(m.features), ...obj(m.feature) };
  const tensors = obj(m.tensors);
  const drag = { ...obj(m.defaults), ...obj(m.drag) };
  const latent = obj(m.latent);
  const unetCfg = obj(src.unetConfig);
  const vaeCfg = obj(src.vaeConfig);
  const sampleSize = pick([unetCfg], ['sample_size'], isNum);
  // diffusers: 2^(levels − 1) of the VAE's block_out_channels (8 for SD 1.5).
  const vaeLevels = Array.isArray(vaeCfg.block_out_channels) ? vaeCfg.block_out_channels.length : undefined;
  const vaeScale = pick([m], ['vae_scale_factor', 'vaeScaleFactor'], isNum) ?? (vaeLevels ? 2 ** (vaeLevels - 1) : 8);
  const resolution = pick([m], ['resolution'], isNum) ?? (sampleSize !== undefined ? sampleSize * vaeScale : 512);
  const resizeTo = pick([feature], ['resizeTo', 'resize_to'], isNum);
  const msa = obj(m.mutualSelfAttention ?? m.mutual_self_attention);
  const msaLayers = Array.isArray(msa.layers) && msa.layers.every((x) => Number.isInteger(x) && (x as number) >= 0) ? (msa.layers as number[]) : [];
  const config: DiffusionModelConfig = {
    name: pick([m, index], ['name', '_name_or_path'], isStr) ?? src.fallbackName,
    ...(isStr(m.description) ? { description: m.description } : {}),
    resolution,
    vaeScaleFactor: vaeScale,
    latentChannels: pick([latent, m, unetCfg], ['channels', 'latent_channels', 'latentChannels', 'in_channels'], isNum) ?? 4,
    scalingFactor: pick([m, vaeCfg], ['scaling_factor', 'scalingFactor', 'vaeScalingFactor', 'vae_scaling_factor'], isNum) ?? 0.18215,
    scheduler: parseSchedulerConfig(src.scheduler, `${where}/scheduler/scheduler_config.json`),
    inferenceSteps: pick([m, drag], ['inference_steps', 'inferenceSteps', 'n_inference_step'], isNum) ?? 50,
    inversionStrength: pick([m, drag], ['inversion_strength', 'inversionStrength'], isNum) ?? 0.7,
    files: {
      unet: pick([files], ['unet'], isStr) ?? 'unet/model.onnx',
      vaeEncoder: pick([files], ['vae_encoder', 'vaeEncoder'], isStr) ?? 'vae_encoder/model.onnx',
      vaeDecoder: pick([files], ['vae_decoder', 'vaeDecoder'], isStr) ?? 'vae_decoder/model.onnx',
      textEncoder: pick([files], ['text_encoder', 'textEncoder'], isStr) ?? 'text_encoder/model.onnx',
    },
    ...(() => {
      const t = pick([feature], ['name', 'tensor'], isStr) ?? pick([tensors, m], ['features', 'feature_tensor', 'featureTensor'], isStr);
      return t ? { featureTensor: t } : {};
    })(),
    featureBlock: pick([feature, m], ['block', 'feature_block', 'featureBlock'], isStr) ?? 'up_blocks.2',
    featureDownscale: pick([feature, m], ['downscale', 'feature_downscale', 'featureDownscale'], isNum) ?? (resizeTo ? resolution / resizeTo : 2),
    selfAttention: parseAttention(m.self_attention ?? m.selfAttention ?? tensors.self_attention, mj),
    mutualSelfAttention: { layers: msaLayers, startStep: pick([msa], ['startStep', 'start_step'], isNum) ?? 0 },
    dragLearningRate: pick([m, drag], ['drag_learning_rate', 'dragLearningRate', 'latentLr', 'learning_rate', 'lr'], isNum) ?? 0.01,
    radii: {
      motion: pick([m, drag], ['r_m', 'rM', 'motion_radius', 'motionRadius'], isNum) ?? 1,
      tracking: pick([m, drag], ['r_p', 'rP', 'tracking_radius', 'trackingRadius'], isNum) ?? 3,
    },
    maskLambda: pick([m, drag], ['maskLambda', 'mask_lambda', 'lam'], isNum) ?? 0.1,
    ...(isStr(m.license) ? { license: m.license } : {}),
  };
  const ints: [string, number][] = [['resolution', config.resolution], ['vae_scale_factor', vaeScale], ['latent_channels', config.latentChannels], ['inference_steps', config.inferenceSteps]];
  for (const [k, v] of ints) if (!Number.isInteger(v) || v <= 0) fail(mj, `"${k}" must be a positive integer, got ${v}`);
  if (config.resolution % vaeScale !== 0) fail(mj, `"resolution" ${config.resolution} must be a multiple of the VAE scale factor ${vaeScale}`);
  if (!(config.inversionStrength > 0 && config.inversionStrength <= 1)) fail(mj, `"inversion_strength" must be in (0, 1], got ${config.inversionStrength}`);
  if (!(config.scalingFactor > 0)) fail(mj, `"scaling_factor" must be positive, got ${config.scalingFactor}`);
  if (!(config.maskLambda >= 0)) fail(mj, `"maskLambda" must be a non-negative number, got ${config.maskLambda}`);
  if (!(config.dragLearningRate > 0)) fail(mj, `"drag_learning_rate" must be positive, got ${config.dragLearningRate}`);
  if (!(config.featureDownscale > 0) || config.resolution % config.featureDownscale !== 0) fail(mj, `"feature_downscale" must divide the resolution, got ${config.featureDownscale}`);
  const badLayer = config.mutualSelfAttention.layers.find((i) => i >= config.selfAttention.length && config.selfAttention.length > 0);
  if (badLayer !== undefined) fail(mj, `mutualSelfAttention layer ${badLayer} is past the ${config.selfAttention.length} selfAttention entries`);
  return config;
}
