import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { StableDragError } from '@stabledrag/core';
import { DiffusionBackend } from './diffusion-backend.js';
import { readDiffusionModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';

export * from './index.js';
export { decodeImage } from './decode-image.js';

/** The random-weight model in SD 1.5's layout, shipped for tests. */
export const layoutModelDir: string = fileURLToPath(new URL('../models/sd15-layout-tiny/', import.meta.url));

export interface LoadDiffusionBackendOptions {
  /** A Stable Diffusion ONNX folder (model_index.json, unet/, vae_encoder/, vae_decoder/, text_encoder/, scheduler/). */
  readonly modelDir: string;
  readonly sessionOptions?: OrtSessionOptions;
}

/** Loads a diffusion model folder on onnxruntime-node and builds its drag graphs. */
export async function loadDiffusionBackend(options: LoadDiffusionBackendOptions): Promise<DiffusionBackend> {
  const dir = resolve(options.modelDir);
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new StableDragError('INVALID_INPUT', `No model folder at ${dir}: pass a Stable Diffusion ONNX folder (model_index.json, unet/, vae_encoder/, vae_decoder/, text_encoder/, scheduler/).`);
  const files = await readDiffusionModelFiles(async (path) => new Uint8Array(await readFile(join(dir, path))), dir, basename(dir));
  return DiffusionBackend.create({
    runtime: ort as unknown as OrtRuntime,
    files,
    ...(options.sessionOptions ? { sessionOptions: options.sessionOptions } : {}),
  });
}
