import { StableDragError } from '@stabledrag/core';
import { GanBackend } from './gan-backend.js';
import { buildGradientGraphs, buildImageGradientGraphs } from './build-gradient-graphs.js';
import { readModelFiles } from './model-files.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';

export * from './index.js';

export interface LoadGanBackendWebOptions {
  /** URL of the model folder (served statically), ending in '/'. */
  readonly baseUrl: string | URL;
  /** e.g. ['webgpu', 'wasm'] or ['wasm']. Default ['wasm']. */
  readonly executionProviders?: readonly string[];
  readonly optimizeWs?: number;
  readonly sessionOptions?: OrtSessionOptions;
  /**
   * The onnxruntime-web module to run on. Default: `import('onnxruntime-web')` (WebGPU and WASM,
   * loaded lazily). For CPU-only pages, `import * as ort from 'onnxruntime-web/wasm'` is a smaller
   * build that is faster on WASM; pass it here.
   */
  readonly runtime?: OrtRuntime;
  /** Injected fetch (tests, service workers). Default globalThis.fetch. */
  readonly fetch?: typeof fetch;
}

/** Loads a model folder over HTTP on onnxruntime-web and builds its backward graph in the page. */
export async function loadGanBackend(options: LoadGanBackendWebOptions): Promise<GanBackend> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = new URL(String(options.baseUrl), typeof location !== 'undefined' ? location.href : undefined);
  const read = async (name: string): Promise<Uint8Array> => {
    const res = await doFetch(new URL(name, base));
    if (!res.ok) throw new StableDragError('MODEL_ERROR', `HTTP ${res.status} for ${new URL(name, base).href}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const files = await readModelFiles(read, base.href.replace(/\/$/, ''));
  const prepared = buildGradientGraphs(files.synthesis, files.config);
  const runtime = options.runtime ?? ((await import('onnxruntime-web')) as unknown as OrtRuntime);
  return GanBackend.create({
    runtime,
    config: files.config,
    mappingModel: files.mapping,
    synthesisModel: prepared.synthesis,
    gradients: prepared.gradients,
    wAvg: files.wAvg,
    // fetched again (usually from the HTTP cache) only when an image is first projected
    imageGradients: async () => buildImageGradientGraphs(await read(files.config.files.synthesis), files.config),
    sessionOptions: { executionProviders: options.executionProviders ?? ['wasm'], ...options.sessionOptions },
    ...(options.optimizeWs !== undefined ? { optimizeWs: options.optimizeWs } : {}),
  });
}
