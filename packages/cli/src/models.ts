import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DragBackend, DragLatent } from '@stabledrag/core';
import { GaussianBlobBackend } from '@stabledrag/core/reference';
import { modelError } from './errors.js';
import { MODEL_NAMES } from './task.js';

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
  /** The starting latent of a seed. */
  latentFromSeed(seed: number, truncation?: number): Promise<DragLatent>;
  dispose(): Promise<void>;
}

/** How the CLI turns a --model value into a model; injectable so tests can fake loading. */
export type ModelLoader = (spec: string) => Promise<LoadedModel>;

/** Resolves a --model value against `cwd`: names stay names, anything else becomes an absolute folder. */
export function resolveModelSpec(spec: string | undefined, cwd: string): string {
  if (spec === undefined) return 'default';
  return (MODEL_NAMES as readonly string[]).includes(spec) ? spec : resolve(cwd, spec);
}

function referenceModel(): LoadedModel {
  const backend = new GaussianBlobBackend();
  return {
    backend,
    spec: 'reference',
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
        ? `No model folder at ${dir}. Pass a folder holding model.json and its ONNX files, a name (default, tiny, reference), or leave --model out for the embedded default.`
        : `${named} is not installed at ${dir}.`,
    );
  }
  if (!statSync(dir).isDirectory()) throw modelError(`--model ${dir} is a file; pass the folder that holds model.json.`);
  if (!existsSync(join(dir, 'model.json'))) throw modelError(`${named === dir ? dir : `${named} (${dir})`} has no model.json; a model folder holds model.json and the ONNX files it names.`);
}

/**
 * Loads a model by --model value. The GAN backend (and onnxruntime-node with it) is imported only
 * when a GAN model is asked for, so `--model reference` starts fast and needs no native module.
 * Every failure becomes a model error (exit 3) whose message names the folder.
 */
export async function loadModel(spec: string): Promise<LoadedModel> {
  if (spec === 'reference') return referenceModel();
  const named = spec === 'default' || spec === 'tiny' ? `the ${spec} model` : spec;
  // A user's folder is checked before the GAN backend (and onnxruntime-node) is imported, so a typo fails fast.
  if (spec !== 'default' && spec !== 'tiny') checkModelDir(spec, named);
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
    details: { ...config, ...backend.info, dir },
    latentFromSeed: (seed, truncation) =>
      backend.createLatent({ type: 'seed', seed, ...(truncation !== undefined ? { truncation } : {}) }),
    dispose: () => backend.dispose(),
  };
}
