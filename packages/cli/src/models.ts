import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DragBackend, DragLatent, RgbaImage } from '@stabledrag/core';
import type { LoraWeights } from '@stabledrag/backends-diffusion';
import { GaussianBlobBackend } from '@stabledrag/core/reference';
import { DIFFUSION_MODEL_NAMES, isDiffusionFolder, loadDiffusionModel } from './diffusion-model.js';
import type { DiffusionFacts } from './diffusion-model.js';
import { modelError } from './errors.js';
import type { StageProgress } from './stage-progress.js';
import { MODEL_NAMES } from './task.js';

/** Where a long model call reports and what stops it. */
export interface StageOptions {
  readonly progress?: StageProgress;
  readonly signal?: AbortSignal;
}

/** A backend ready to drag, plus what `info` and the session file need to know about it. */
export interface LoadedModel {
  readonly backend: DragBackend;
  /** The --model value as resolved: a name ("default", "tiny", "reference") or an absolute folder. */
  readonly spec: string;
  /** Folder the model was read from (absent for the reference backend). */
  readonly dir?: string;
  /** Facts for `stabledrag info`, JSON-safe. */
  readonly details: Readonly<Record<string, unknown>>;
  /** ψ used when --truncation is not given (reported, and saved in sessions). */
  readonly defaultTruncation?: number;
  /** 'gan', 'diffusion' or 'reference'; absent means a GAN-like backend (fakes in tests). */
  readonly kind?: 'gan' | 'diffusion' | 'reference';
  /** Set for diffusion models: defaults and the LoRA the backend was tuned with. */
  readonly diffusion?: DiffusionFacts;
  /** The starting latent of a seed. */
  latentFromSeed(seed: number, truncation?: number): Promise<DragLatent>;
  /** The starting latent of a photo already fitted to the model size (GAN: projection; diffusion: encode + inversion). */
  latentFromImage?(image: RgbaImage, options: StageOptions): Promise<DragLatent>;
  /** `backend.render` with progress and abort (diffusion: denoise + decode). */
  renderLatent?(latent: DragLatent, options: StageOptions): Promise<RgbaImage>;
  dispose(): Promise<void>;
}

/** What loading may need besides the model: the photo for LoRA, saved adapters, progress. */
export interface ModelLoadOptions extends StageOptions {
  /** The --image photo fitted to a model side (diffusion LoRA trains on it). */
  readonly photo?: (size: number) => Promise<RgbaImage>;
  /** LoRA steps (diffusion; 0 = none; default model.json's defaults.lora.steps when a photo is given). */
  readonly loraSteps?: number;
  /** Diffusion: the inversion strength instead of model.json's (it sets the edited timestep). */
  readonly inversionStrength?: number;
  /** Adapters saved in a session, applied instead of training. */
  readonly loraWeights?: LoraWeights;
}

/** How the CLI turns a --model value into a model; injectable so tests can fake loading. */
export type ModelLoader = (spec: string, options?: ModelLoadOptions) => Promise<LoadedModel>;

/** Resolves a --model value against `cwd`: names stay names, anything else becomes an absolute folder. */
export function resolveModelSpec(spec: string | undefined, cwd: string): string {
  if (spec === undefined) return 'default';
  return isModelName(spec) ? spec : resolve(cwd, spec);
}

/** True for a model name (default, tiny, reference, diffusion, diffusion-tiny) rather than a folder. */
export function isModelName(spec: string): boolean {
  return (MODEL_NAMES as readonly string[]).includes(spec);
}

function referenceModel(): LoadedModel {
  const backend = new GaussianBlobBackend();
  return {
    backend,
    spec: 'reference',
    kind: 'reference',
    details: {
      ...backend.info,
      description: 'Pure-TypeScript reference backend: coloured Gaussian blobs whose centres are the latent (for tests and first runs).',
    },
    latentFromSeed: (seed) => backend.createLatent({ type: 'seed', seed }),
    dispose: () => backend.dispose(),
  };
}

function checkModelDir(dir: string, named: string): void {
  if (!existsSync(dir)) {
    throw modelError(
      named === dir
        ? `No model folder at ${dir}. Pass a folder holding model.json and its ONNX files, a name (${MODEL_NAMES.join(', ')}), or leave --model out for the embedded default.`
        : `${named} is not installed at ${dir}.`,
    );
  }
  if (!statSync(dir).isDirectory()) throw modelError(`--model ${dir} is a file; pass the folder that holds model.json.`);
  if (!existsSync(join(dir, 'model.json')) && !existsSync(join(dir, 'model_index.json'))) throw modelError(`${named === dir ? dir : `${named} (${dir})`} has no model.json; a model folder holds model.json and the ONNX files it names (or, for diffusion, Stable Diffusion's model_index.json and its folders).`);
}

/**
 * Loads a model by --model value. The GAN backend (and onnxruntime-node with it) is imported only
 * when a GAN model is asked for, so `--model reference` starts fast and needs no native module.
 * Every failure becomes a model error (exit 3) whose message names the folder.
 */
export async function loadModel(spec: string, options: ModelLoadOptions = {}): Promise<LoadedModel> {
  if (spec === 'reference') return referenceModel();
  if ((DIFFUSION_MODEL_NAMES as readonly string[]).includes(spec)) return loadNamedDiffusionModel(spec, options);
  if (spec !== 'default' && spec !== 'tiny') {
    checkModelDir(spec, spec);
    if (await isDiffusionFolder(spec)) return loadDiffusionModel(spec, spec, spec, options);
  }
  return loadGanModel(spec);
}

async function loadNamedDiffusionModel(spec: string, options: ModelLoadOptions): Promise<LoadedModel> {
  let node: typeof import('@stabledrag/backends-diffusion/node');
  try {
    node = await import('@stabledrag/backends-diffusion/node');
  } catch (error) {
    throw modelError(`Cannot load the diffusion backend (@stabledrag/backends-diffusion with onnxruntime-node): ${(error as Error).message}`, error);
  }
  const dir = spec === 'diffusion' ? node.embeddedModelDir : node.layoutModelDir;
  if (spec === 'diffusion' && !existsSync(dir)) {
    throw modelError(
      `The embedded diffusion model is not installed at ${dir}; pass --model <folder> with a Stable Diffusion ONNX folder, or --model diffusion-tiny to try the (random-weight) test model.`,
    );
  }
  checkModelDir(dir, `the ${spec} model`);
  return loadDiffusionModel(spec, dir, `the ${spec} model`, options);
}

/** A StyleGAN2-style folder (or the default and tiny names) on the GAN backend. */
async function loadGanModel(spec: string): Promise<LoadedModel> {
  const named = spec === 'default' || spec === 'tiny' ? `the ${spec} model` : spec;
  let gan: typeof import('@stabledrag/backends-gan/node');
  try {
    gan = await import('@stabledrag/backends-gan/node');
  } catch (error) {
    throw modelError(`Cannot load the GAN backend (@stabledrag/backends-gan with onnxruntime-node): ${(error as Error).message}`, error);
  }
  const dir = spec === 'default' ? gan.defaultModelDir : spec === 'tiny' ? gan.tinyModelDir : spec;
  checkModelDir(dir, named);
  let backend: Awaited<ReturnType<typeof gan.loadGanBackend>>;
  try {
    backend = await gan.loadGanBackend({ modelDir: dir });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw modelError(`Cannot load ${named}: ${message}`, error);
  }
  const { config } = backend;
  return {
    backend,
    spec,
    dir,
    defaultTruncation: config.truncation,
    kind: 'gan',
    details: { ...config, ...backend.info, dir },
    latentFromSeed: (seed, truncation) =>
      backend.createLatent({ type: 'seed', seed, ...(truncation !== undefined ? { truncation } : {}) }),
    latentFromImage: (image, o) => {
      o.progress?.begin('project');
      return backend.createLatent(
        { type: 'image', image },
        {
          ...(o.signal ? { signal: o.signal } : {}),
          onProgress: (p) => o.progress?.update('project', p.step, p.steps, `PSNR ${p.psnr.toFixed(1)} dB`),
        },
      );
    },
    dispose: () => backend.dispose(),
  };
}
