import { StableDragError } from '@stabledrag/core';
import type { DragBackend, DragLatent } from '@stabledrag/core';
import type { DiffusionHolder } from './diffusion-holder.js';
import type { OrtBuild, OrtUrls } from './ort-loader.js';
import type { ProviderChoice } from './protocol.js';
import { forwardBackward } from './warm-up.js';

/** A loaded model as the worker holds it. */
export interface Loaded<T> {
  readonly model: T;
  readonly provider: OrtBuild;
  readonly threads: number;
  /** Why the wanted provider was not used, when it fell back. */
  readonly note?: string;
}

export function describe(error: unknown): string {
  if (error instanceof StableDragError) return error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * One forward + VJP: WebGPU kernels can fail when they first run rather than when the session is
 * created, and the page should learn that at load, not mid-drag.
 */
async function smokeTest(b: DragBackend, latent: DragLatent): Promise<void> {
  const grad = await forwardBackward(b, latent, false);
  if (!grad.every(Number.isFinite)) throw new Error('the gradient has non-finite values');
}

/** The GAN's smoke test also renders a seed (its render is one cheap call). */
async function ganSmoke(b: DragBackend): Promise<void> {
  const latent = await b.createLatent({ type: 'seed', seed: 0 });
  await smokeTest(b, latent);
  await b.render(latent);
}

/** A diffusion seed costs 15 UNet calls; a zero z_t exercises the same drag graphs. */
async function diffusionSmoke(b: DragBackend): Promise<void> {
  const zero = { optimized: new Float32Array(b.info.optimizedSize), frozen: new Float32Array(0), meta: {} };
  await smokeTest(b, await b.createLatent({ type: 'latent', latent: zero }));
}

/**
 * WASM threads: one core stays with the browser (page, compositor); on a 2-core machine a second
 * WASM thread made steps slower (apps/demo/bench/RESULTS.md). Threads need cross-origin isolation.
 */
function threadCount(wanted: number): number {
  const auto = self.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1)) : 1;
  return wanted > 0 && self.crossOriginIsolated ? wanted : auto;
}

/**
 * Loads a model on WebGPU when asked and available (checked by a smoke test), on WASM otherwise.
 * `open` builds the model on a build of onnxruntime-web; `smoke` checks it runs there.
 */
export async function loadOnBestProvider<T extends { dispose(): Promise<void> }>(
  provider: ProviderChoice,
  wantThreads: number,
  open: (build: OrtBuild, threads: number) => Promise<T>,
  smoke: (model: T) => Promise<void>,
): Promise<Loaded<T>> {
  const threads = threadCount(wantThreads);
  const adapter = provider !== 'wasm' && (await hasWebGpuAdapter());
  let note: string | undefined;
  if (adapter) {
    let m: T | undefined;
    try {
      m = await open('webgpu', threads);
      await smoke(m);
      return { model: m, provider: 'webgpu', threads };
    } catch (error) {
      await m?.dispose().catch(() => undefined);
      note = `WebGPU could not run the model (${describe(error)}); using WASM instead.`;
    }
  } else if (provider === 'webgpu') {
    note = 'This browser has no WebGPU adapter; using WASM instead.';
  }
  const m = await open('wasm', threads);
  return { model: m, provider: 'wasm', threads, ...(note ? { note } : {}) };
}

/** The embedded GAN (loaded on demand: the reference backend needs neither ONNX Runtime nor the autograd). */
export async function loadGan(modelUrl: string, urls: OrtUrls, provider: ProviderChoice, threads: number): Promise<Loaded<DragBackend>> {
  const { loadGanBackendWith } = await import('./gan-loader.js');
  return loadOnBestProvider(provider, threads, (build, n) => loadGanBackendWith({ baseUrl: modelUrl, build, urls, threads: n }), ganSmoke);
}

/** The embedded latent diffusion model, with its LoRA cache. */
export async function loadDiffusion(modelUrl: string, urls: OrtUrls, provider: ProviderChoice, threads: number): Promise<Loaded<DiffusionHolder>> {
  const { DiffusionHolder } = await import('./diffusion-holder.js');
  return loadOnBestProvider(provider, threads, (build, n) => DiffusionHolder.load({ modelUrl, build, urls, threads: n }), (h) => diffusionSmoke(h.backend));
}
