import type { GanBackend } from '@stabledrag/backends-gan';
import { loadGanBackend } from '@stabledrag/backends-gan/web';
import { importOrt, providersOf } from './ort-loader.js';
import type { OrtBuild, OrtUrls } from './ort-loader.js';

export type { OrtBuild, OrtUrls } from './ort-loader.js';

/** Loads the model folder with `@stabledrag/backends-gan/web` on the onnxruntime-web build chosen for `build`. */
export async function loadGanBackendWith(options: {
  readonly baseUrl: string;
  readonly build: OrtBuild;
  readonly urls: OrtUrls;
  readonly threads: number;
}): Promise<GanBackend> {
  const runtime = await importOrt(options.build, options.urls, options.threads);
  return loadGanBackend({ baseUrl: options.baseUrl, runtime, executionProviders: providersOf(options.build) });
}
