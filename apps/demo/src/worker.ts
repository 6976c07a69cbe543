import { DragSession, StableDragError } from '@stabledrag/core';
import type { DragBackend, DragLatent } from '@stabledrag/core';
import { GaussianBlobBackend } from '@stabledrag/core/reference';
import type { OrtUrls } from './gan-loader.js';
import { createDemoMethod } from './methods.js';
import type { ProviderChoice, WorkerRequest, WorkerResponse } from './protocol.js';
import { forwardBackward, WARM_UP_PASSES } from './warm-up.js';

/**
 * The drag runs here, off the main thread: this worker owns the backend (ONNX sessions or the
 * blob renderer) and streams each step's points and image back to the page.
 */

interface WorkerScope {
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let backend: DragBackend | null = null;
let abort: AbortController | null = null;
let queue: Promise<void> = Promise.resolve();
/** Requests received and not finished yet; the warm-up only runs while this is 0. */
let pending = 0;

/**
 * The idle warm-up (warm-up.ts): without it the first ~20 steps of the first drag run 2-4x slower
 * than the rest. One pass at a time, and none while a request waits.
 */
let warm: { latent: DragLatent; runs: number; ms: number; scheduled: boolean } | null = null;

function scheduleWarmUp(): void {
  if (!warm || warm.scheduled || warm.runs >= WARM_UP_PASSES || pending > 0) return;
  const w = warm;
  w.scheduled = true;
  queue = queue
    .then(async () => {
      w.scheduled = false;
      if (warm !== w || !backend || pending > 0) return;
      const t0 = performance.now();
      await forwardBackward(backend, w.latent, true);
      const ms = performance.now() - t0;
      w.runs++;
      w.ms += ms;
      post({ type: 'warm-up', runs: w.runs, of: WARM_UP_PASSES, ms: w.ms, lastMs: ms });
      await yieldToEventLoop();
      scheduleWarmUp();
    })
    // A failing warm-up is not reported: the first drag runs the same passes and reports the error.
    .catch(() => {
      if (warm === w) warm = null;
    });
}

const yieldChannel = new MessageChannel();
/**
 * Lets the worker's event loop run (a macrotask), so a Stop message is seen between steps even
 * when every backend call resolves as a microtask (the blob backend, synchronous WASM runs).
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    yieldChannel.port1.onmessage = () => resolve();
    yieldChannel.port2.postMessage(null);
  });
}

function post(message: WorkerResponse, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function describe(error: unknown): string {
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
 * One forward + VJP + render on a seed: WebGPU kernels can fail when they first run rather than
 * when the session is created, and the page should learn that at load, not mid-drag.
 */
async function smokeTest(b: DragBackend): Promise<void> {
  const latent = await b.createLatent({ type: 'seed', seed: 0 });
  const grad = await forwardBackward(b, latent, false);
  if (!grad.every(Number.isFinite)) throw new Error('the gradient has non-finite values');
  await b.render(latent);
}

async function loadGan(
  modelUrl: string,
  urls: OrtUrls,
  provider: ProviderChoice,
  wantThreads: number,
): Promise<{ backend: DragBackend; provider: string; note?: string; threads: number }> {
  // One core stays with the browser (page, compositor): on a 2-core machine a second WASM thread
  // made steps slower (apps/demo/bench/RESULTS.md). Threads need cross-origin isolation.
  const auto = self.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1)) : 1;
  const threads = wantThreads > 0 && self.crossOriginIsolated ? wantThreads : auto;
  // Loaded on demand: the reference backend needs neither ONNX Runtime nor the autograd.
  const { loadGanBackendWith } = await import('./gan-loader.js');
  const adapter = provider !== 'wasm' && (await hasWebGpuAdapter());
  let note: string | undefined;
  if (adapter) {
    let b: DragBackend | undefined;
    try {
      b = await loadGanBackendWith({ baseUrl: modelUrl, build: 'webgpu', urls, threads });
      await smokeTest(b);
      return { backend: b, provider: 'webgpu', threads };
    } catch (error) {
      await b?.dispose().catch(() => undefined);
      note = `WebGPU could not run the model (${describe(error)}); using WASM instead.`;
    }
  } else if (provider === 'webgpu') {
    note = 'This browser has no WebGPU adapter; using WASM instead.';
  }
  const b = await loadGanBackendWith({ baseUrl: modelUrl, build: 'wasm', urls, threads });
  return { backend: b, provider: 'wasm', threads, ...(note ? { note } : {}) };
}

async function handle(req: WorkerRequest): Promise<void> {
  switch (req.type) {
    case 'load': {
      const t0 = performance.now();
      try {
        warm = null;
        await backend?.dispose();
        backend = null;
        if (req.backend === 'blobs') {
          backend = new GaussianBlobBackend();
          post({ type: 'loaded', info: backend.info, provider: 'js', loadMs: performance.now() - t0, threads: 1 });
        } else {
          const loaded = await loadGan(req.modelUrl, req.ortWasmUrls, req.provider, req.threads);
          backend = loaded.backend;
          warm = { latent: await backend.createLatent({ type: 'seed', seed: 0 }), runs: 0, ms: 0, scheduled: false };
          post({
            type: 'loaded', info: backend.info, provider: loaded.provider, loadMs: performance.now() - t0, threads: loaded.threads,
            ...(loaded.note ? { note: loaded.note } : {}),
          });
        }
      } catch (error) {
        post({ type: 'error', stage: 'load', message: describe(error) });
      }
      return;
    }
    case 'sample': {
      try {
        if (!backend) throw new Error('No model is loaded.');
        const latent = await backend.createLatent({ type: 'seed', seed: req.seed });
        const image = await backend.render(latent);
        post({ type: 'sampled', seed: req.seed, latent, image }, [image.data.buffer]);
      } catch (error) {
        post({ type: 'error', stage: 'sample', message: describe(error) });
      }
      return;
    }
    case 'render': {
      try {
        if (!backend) throw new Error('No model is loaded.');
        const latent = await backend.createLatent({ type: 'latent', latent: req.latent });
        const image = await backend.render(latent);
        post({ type: 'rendered', image }, [image.data.buffer]);
      } catch (error) {
        post({ type: 'error', stage: 'render', message: describe(error) });
      }
      return;
    }
    case 'start': {
      const controller = new AbortController();
      abort = controller;
      try {
        if (!backend) throw new Error('No model is loaded.');
        const b = backend;
        const method = createDemoMethod(req.settings);
        const session = new DragSession({
          backend: b,
          tracker: method.tracker,
          supervisor: method.supervisor,
          latent: req.latent,
          pairs: req.pairs,
          ...(req.mask ? { mask: req.mask } : {}),
          maxSteps: req.settings.maxSteps,
          learningRate: req.settings.learningRate,
          withImages: true,
          ...(req.stopDistance !== undefined ? { stopDistance: req.stopDistance } : {}),
        });
        post({ type: 'started', method: method.label });
        const result = await session.run({
          signal: controller.signal,
          onStep: async (e) => {
            const image = e.image ? { data: new Uint8ClampedArray(e.image.data), width: e.image.width, height: e.image.height } : undefined;
            post(
              {
                type: 'step', step: e.step, maxSteps: e.maxSteps, points: e.points, confidences: e.confidences,
                distances: e.distances, branches: e.branches, loss: e.loss, ms: e.timings.total, timings: e.timings,
                ...(image ? { image } : {}),
              },
              image ? [image.data.buffer] : [],
            );
            await yieldToEventLoop();
          },
        });
        const image = await b.render(result.latent);
        post(
          { type: 'done', stopReason: result.stopReason, steps: result.steps, latent: result.latent, points: result.points, setupMs: result.setupMs, image },
          [image.data.buffer],
        );
      } catch (error) {
        post({ type: 'error', stage: 'drag', message: describe(error) });
      } finally {
        if (abort === controller) abort = null;
      }
      return;
    }
    case 'stop':
      return;
  }
}

scope.onmessage = (event) => {
  const req = event.data;
  // Stop must not wait behind the running drag in the queue.
  if (req.type === 'stop') {
    abort?.abort(new DOMException('Stopped by the user.', 'AbortError'));
    return;
  }
  // handle() reports its own errors; the catch only keeps one unexpected throw from stalling the queue.
  pending++;
  queue = queue
    .then(() => handle(req))
    .catch((error: unknown) => post({ type: 'error', stage: req.type === 'load' ? 'load' : 'drag', message: describe(error) }))
    .finally(() => {
      pending--;
      scheduleWarmUp();
    });
};
