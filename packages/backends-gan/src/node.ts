import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { StableDragError } from '@stabledrag/core';
import { GanBackend } from './gan-backend.js';
import { buildGradientGraphs, buildImageGradientGraphs } from './build-gradient-graphs.js';
import { readModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';

export * from './index.js';

/** The embedded default model folder, shipped inside this package. */
export const defaultModelDir: string = fileURLToPath(new URL('../models/default/', import.meta.url));
/** The tiny random-weights model of the same architecture, for fast tests. */
export const tinyModelDir: string = fileURLToPath(new URL('../models/tiny/', import.meta.url));

export interface LoadGanBackendOptions {
  /** A folder with model.json and the ONNX files it names. Default: the embedded default model. */
  readonly modelDir?: string;
  /** Use this synthesis file of the folder instead of model.json's (e.g. a fused-modconv export). */
  readonly synthesisFile?: string;
  /** Leading W+ rows to optimise; default model.json's `optimize_ws`. */
  readonly optimizeWs?: number;
  readonly sessionOptions?: OrtSessionOptions;
}

/** Loads a model folder on onnxruntime-node and builds its backward graph. */
export async function loadGanBackend(options: LoadGanBackendOptions = {}): Promise<GanBackend> {
  const dir = resolve(options.modelDir ?? defaultModelDir);
  if (!existsSync(join(dir, 'model.json'))) {
    throw new StableDragError('INVALID_INPUT', `No model folder at ${dir}: model.json is missing. Pass a folder that holds model.json and its ONNX files, or leave --model out for the embedded default.`);
  }
  const files = await readModelFiles(async (name) => new Uint8Array(await readFile(join(dir, name))), dir);
  const synthesis = options.synthesisFile ? new Uint8Array(await readFile(join(dir, options.synthesisFile))) : files.synthesis;
  const prepared = buildGradientGraphs(synthesis, files.config);
  return GanBackend.create({
    runtime: ort as unknown as OrtRuntime,
    config: files.config,
    mappingModel: files.mapping,
    synthesisModel: prepared.synthesis,
    gradients: prepared.gradients,
    wAvg: files.wAvg,
    // read the file again when a projection first needs it, rather than keep its bytes alive
    imageGradients: async () => buildImageGradientGraphs(new Uint8Array(await readFile(join(dir, options.synthesisFile ?? files.config.files.synthesis))), files.config),
    ...(options.optimizeWs !== undefined ? { optimizeWs: options.optimizeWs } : {}),
    ...(options.sessionOptions ? { sessionOptions: options.sessionOptions } : {}),
  });
}
