import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { StableDragError } from '@stabledrag/core';
import type { RgbaImage } from '@stabledrag/core';
import { DiffusionBackend } from './diffusion-backend.js';
import { readDiffusionModelFiles } from './model-files.js';
import { readWholeFile } from './read-whole-file.js';
import type { DiffusionModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';
import type { ExternalDataOptions } from './session-opener.js';
import { tempFileWeights } from './temp-file-weights.js';
import { applyLora, trainLora } from './train-lora.js';
import type { LoraTrainingOptions, LoraWeights } from './train-lora.js';

export * from './index.js';
export { decodeImage } from './decode-image.js';
export { sharingWeights, tempFileWeights } from './temp-file-weights.js';
export type { TempFileWeightsOptions } from './temp-file-weights.js';

/** The random-weight model in SD 1.5's layout, shipped for tests. */
export const layoutModelDir: string = fileURLToPath(new URL('../models/sd15-layout-tiny/', import.meta.url));

/**
 * The embedded model the CLI drags photographs with when no --model is given. Trained separately
 * and not shipped in the npm package (too large), so the folder may be absent: callers check it.
 */
export const embeddedModelDir: string = fileURLToPath(new URL('../models/sd-embedded/', import.meta.url));

export interface LoadDiffusionBackendOptions {
  /** A Stable Diffusion ONNX folder (model_index.json, unet/, vae_encoder/, vae_decoder/, text_encoder/, scheduler/). */
  readonly modelDir: string;
  readonly sessionOptions?: OrtSessionOptions;
  /**
   * Fine-tune LoRA adapters on this image first (DragDiffusion's default before a drag) and drag
   * the adapted UNet; or pass adapters trained earlier (`weights`).
   */
  readonly lora?: ({ readonly image: RgbaImage } & LoraTrainingOptions) | { readonly weights: LoraWeights };
  /** Graphs over `threshold` bytes of weights (default just under 2 GiB) go through temporary files (`tempFileWeights`). */
  readonly externalData?: ExternalDataOptions;
}

/** Reads and checks a diffusion model folder from disk. */
export async function readDiffusionModelDir(modelDir: string): Promise<DiffusionModelFiles> {
  const dir = resolve(modelDir);
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new StableDragError('INVALID_INPUT', `No model folder at ${dir}: pass a Stable Diffusion ONNX folder (model_index.json, unet/, vae_encoder/, vae_decoder/, text_encoder/, scheduler/).`);
  return readDiffusionModelFiles((path) => readWholeFile(join(dir, path)), dir, basename(dir));
}

/** Loads a diffusion model folder on onnxruntime-node (LoRA-tuned if asked) and builds its drag graphs. */
export async function loadDiffusionBackend(options: LoadDiffusionBackendOptions): Promise<DiffusionBackend> {
  const runtime = ort as unknown as OrtRuntime;
  let files = await readDiffusionModelDir(options.modelDir);
  const session = { externalData: { weights: tempFileWeights(), ...options.externalData }, ...(options.sessionOptions ? { sessionOptions: options.sessionOptions } : {}) };
  if (options.lora) {
    const weights = 'weights' in options.lora ? options.lora.weights : await trainLora({ runtime, files, ...session }, options.lora.image, options.lora);
    files = applyLora(files, weights);
  }
  return DiffusionBackend.create({ runtime, files, ...session });
}
