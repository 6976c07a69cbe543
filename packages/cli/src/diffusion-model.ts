import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DragLatent, RgbaImage } from '@stabledrag/core';
import type { LoraWeights } from '@stabledrag/backends-diffusion';
import { parseDiffusionDefaults, readModelJson } from './diffusion-defaults.js';
import type { DiffusionDefaults } from './diffusion-defaults.js';
import { modelError } from './errors.js';
import type { LoadedModel, ModelLoadOptions } from './models.js';
import type { StageProgress } from './stage-progress.js';

/** Model names that load a diffusion folder: the embedded model and the layout test model. */
export const DIFFUSION_MODEL_NAMES = ['diffusion', 'diffusion-tiny'] as const;

/** True for a folder in the diffusion layout: model.json says so, or a Stable Diffusion model_index.json is there. */
export async function isDiffusionFolder(dir: string): Promise<boolean> {
  const json = await readModelJson(dir);
  if (json !== null && typeof json === 'object' && (json as Record<string, unknown>).format === 'stabledrag-diffusion') return true;
  return existsSync(join(dir, 'model_index.json'));
}

/** What the CLI knows of a diffusion model beyond its BackendInfo. */
export interface DiffusionFacts {
  readonly defaults: DiffusionDefaults;
  /** Radii in image pixels from the backend's dragDefaults (DragDiffusion: r_m 1, r_p 3 feature px). */
  readonly radii: { readonly r1: number; readonly r2: number };
  readonly inferenceSteps: number;
  readonly inversionStrength: number;
  /** The timestep of z_t. */
  readonly editTimestep: number;
  /** LoRA steps this backend was tuned with (0: none) and its adapters, for --save-session. */
  readonly loraSteps: number;
  readonly lora?: LoraWeights;
}

/** Calls `work`, turning an abort into a rethrow and anything else into a model error naming the model. */
async function asModelError<T>(named: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (signal?.aborted) throw error;
    throw modelError(`Cannot load ${named}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

const stageOptions = (progress: StageProgress | undefined, signal: AbortSignal | undefined) => ({
  ...(signal ? { signal } : {}),
  onProgress: (p: { stage: string; step: number; total: number }) => {
    const stage = p.stage === 'invert' ? 'invert' : p.stage === 'encode' ? 'encode' : p.stage === 'decode' ? 'decode' : 'denoise';
    progress?.update(stage, p.step, p.total);
  },
});

/**
 * Loads a diffusion folder. With `options.photo` and LoRA steps > 0 (default: model.json's
 * `defaults.lora.steps`), LoRA adapters are first trained on the photo, as DragDiffusion does
 * before every drag; with `options.loraWeights` (a resumed session) they are applied as saved.
 */
export async function loadDiffusionModel(spec: string, dir: string, named: string, options: ModelLoadOptions = {}): Promise<LoadedModel> {
  const { signal, progress } = options;
  let diffusion: typeof import('@stabledrag/backends-diffusion/node');
  let ort: typeof import('onnxruntime-node');
  try {
    [diffusion, ort] = await Promise.all([import('@stabledrag/backends-diffusion/node'), import('onnxruntime-node')]);
  } catch (error) {
    throw modelError(`Cannot load the diffusion backend (@stabledrag/backends-diffusion with onnxruntime-node): ${(error as Error).message}`, error);
  }
  const runtime = ort as unknown as Parameters<typeof diffusion.trainLora>[0]['runtime'];
  // Graphs over protobuf's 2 GiB (SD 1.5's float32 UNet) go through temporary files whose pages the sessions share.
  const externalData = { weights: diffusion.tempFileWeights() };
  const defaults = parseDiffusionDefaults(await readModelJson(dir));
  progress?.begin('load');
  let files = await asModelError(named, signal, () => diffusion.readDiffusionModelDir(dir));
  progress?.end();
  const loraSteps = options.loraWeights ? options.loraSteps ?? defaults.lora.steps : options.photo ? options.loraSteps ?? defaults.lora.steps : 0;
  let lora: LoraWeights | undefined = options.loraWeights;
  if (!lora && loraSteps > 0 && options.photo) {
    const image = await options.photo(files.config.resolution);
    const { steps: _steps, ...training } = defaults.lora;
    progress?.begin('lora');
    lora = await asModelError(named, signal, () =>
      diffusion.trainLora({ runtime, files, externalData }, image, {
        ...training,
        steps: loraSteps,
        ...(signal ? { signal } : {}),
        onProgress: (p) => progress?.update('lora', p.step, p.total, `loss ${p.loss.toFixed(4)}`),
      }),
    );
    progress?.end();
  }
  if (lora) files = diffusion.applyLora(files, lora);
  // The backend reads the strength from the config it is built from; LoRA training does not use it.
  if (options.inversionStrength !== undefined) files = { ...files, config: { ...files.config, inversionStrength: options.inversionStrength } };
  progress?.begin('load');
  const backend = await asModelError(named, signal, () => diffusion.DiffusionBackend.create({ runtime, files, externalData }));
  progress?.end();
  const { config } = backend;
  const radii = backend.dragDefaults.imageRadii;
  const facts: DiffusionFacts = {
    defaults,
    radii: { r1: radii.motion, r2: Math.max(1, Math.round(radii.tracking)) },
    inferenceSteps: config.inferenceSteps,
    inversionStrength: config.inversionStrength,
    editTimestep: backend.editTimestep,
    loraSteps: lora ? loraSteps : 0,
    ...(lora ? { lora } : {}),
  };
  const info = backend.info;
  return {
    backend,
    spec,
    dir,
    kind: 'diffusion',
    diffusion: facts,
    details: {
      name: config.name,
      kind: 'diffusion',
      ...(config.description ? { description: config.description } : {}),
      dir,
      resolution: config.resolution,
      latent: [config.latentChannels, config.resolution / config.vaeScaleFactor, config.resolution / config.vaeScaleFactor],
      vaeScaleFactor: config.vaeScaleFactor,
      vaeScalingFactor: config.scalingFactor,
      featureBlock: config.featureBlock,
      ...(config.featureTensor ? { featureTensor: config.featureTensor } : {}),
      featureResizedTo: [info.featureHeight, info.featureWidth],
      selfAttentionLayers: config.selfAttention.length > 0 ? config.selfAttention.map((l) => l.module ?? l.key) : 'found by module names',
      mutualSelfAttention: config.mutualSelfAttention,
      inferenceSteps: config.inferenceSteps,
      inversionStrength: config.inversionStrength,
      editTimestep: backend.editTimestep,
      dragLearningRate: config.dragLearningRate,
      featureRadii: backend.dragDefaults.featureRadii,
      dragSteps: { dragdiffusion: defaults.dragSteps, stabledrag: defaults.stabledragDragSteps },
      lora: defaults.lora,
      ...(config.license ? { license: config.license } : {}),
    },
    latentFromSeed: (seed) => backend.createLatent({ type: 'seed', seed }),
    latentFromImage: (image: RgbaImage, o) => {
      o.progress?.begin('encode');
      return backend.createLatent({ type: 'image', image }, stageOptions(o.progress, o.signal));
    },
    renderLatent: (latent: DragLatent, o) => {
      o.progress?.begin('denoise');
      return backend.render(latent, stageOptions(o.progress, o.signal));
    },
    dispose: () => backend.dispose(),
  };
}
