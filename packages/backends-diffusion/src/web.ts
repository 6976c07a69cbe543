import { StableDragError } from '@stabledrag/core';
import { DiffusionBackend } from './diffusion-backend.js';
import { readDiffusionModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';
import type { ExternalDataOptions } from './session-opener.js';
import { applyLora, trainLora } from './train-lora.js';
import type { LoraTrainingOptions, LoraWeights } from './train-lora.js';
import type { RgbaImage } from '@stabledrag/core';

export * from './index.js';

export interface LoadDiffusionBackendWebOptions {
  /** URL of the model folder (served statically), ending in '/'. */
  readonly baseUrl: string | URL;
  /** e.g. ['webgpu', 'wasm'] or ['wasm']. Default ['wasm']. */
  readonly executionProviders?: readonly string[];
  readonly sessionOptions?: OrtSessionOptions;
  /** The onnxruntime-web module to run on. Default: `import('onnxruntime-web')`. */
  readonly runtime?: OrtRuntime;
  /** Injected fetch (tests, service workers). Default globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /** Fine-tune LoRA adapters on this image first, or use adapters trained earlier (as the Node entry). */
  readonly lora?: ({ readonly image: RgbaImage } & LoraTrainingOptions) | { readonly weights: LoraWeights };
  /** Graphs over `threshold` bytes of weights (default just under 2 GiB) are handed over with the `externalData` session option. */
  readonly externalData?: ExternalDataOptions;
}

/** Loads a diffusion model folder over HTTP on onnxruntime-web and builds its drag graphs in the page. */
export async function loadDiffusionBackend(options: LoadDiffusionBackendWebOptions): Promise<DiffusionBackend> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = new URL(String(options.baseUrl), typeof location !== 'undefined' ? location.href : undefined);
  const where = base.href.replace(/\/$/, '');
  let files = await readDiffusionModelFiles(async (path) => {
    const res = await doFetch(new URL(path, base));
    if (!res.ok) throw new StableDragError('MODEL_ERROR', `HTTP ${res.status} for ${new URL(path, base).href}`);
    return new Uint8Array(await res.arrayBuffer());
  }, where, where.slice(where.lastIndexOf('/') + 1));
  const runtime = options.runtime ?? ((await import('onnxruntime-web')) as unknown as OrtRuntime);
  const sessionOptions: OrtSessionOptions = { executionProviders: options.executionProviders ?? ['wasm'], ...options.sessionOptions };
  const external = options.externalData ? { externalData: options.externalData } : {};
  if (options.lora) {
    const weights = 'weights' in options.lora ? options.lora.weights : await trainLora({ runtime, files, sessionOptions, ...external }, options.lora.image, options.lora);
    files = applyLora(files, weights);
  }
  return DiffusionBackend.create({ runtime, files, sessionOptions, ...external });
}
