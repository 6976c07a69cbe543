import { DragSession } from '@stabledrag/core';
import type { DragBackend, DragLatent, RgbaImage } from '@stabledrag/core';
import { GaussianBlobBackend } from '@stabledrag/core/reference';
import type { DiffusionCallOptions } from '@stabledrag/backends-diffusion';
import type { DiffusionHolder } from './diffusion-holder.js';
import { createDemoMethod } from './methods.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';
import { StageClock } from './stage-clock.js';
import { forwardBackward, WARM_UP_PASSES } from './warm-up.js';
import { describe, loadDiffusion, loadGan } from './worker-load.js';
import { LIVE_IMAGE_INTERVAL_MS } from './live-image-interval.js';

/**
 * The drag runs here, off the main thread: this worker owns the backend (ONNX sessions or the
 * blob renderer) and streams each step's points (and, for the GAN, images) and each long stage's
 * progress back to the page.
 */

interface WorkerScope {
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let gan: DragBackend | null = null;
let diffusion: DiffusionHolder | null = null;
let abort: AbortController | null = null;
let queue: Promise<void> = Promise.resolve();
/** Requests received and not finished yet; the warm-up only runs while this is 0. */
let pending = 0;

/** The backend in use (a diffusion photo with LoRA swaps the diffusion backend). */
function current(): DragBackend {
  const b = diffusion?.backend ?? gan;
  if (!b) throw new Error('No model is loaded.');
  return b;
}

/**
 * The idle warm-up (warm-up.ts), GAN only: without it the first ~20 steps of the first drag run
 * 2-4x slower than the rest. One pass at a time, and none while a request waits.
 */
let warm: { latent: DragLatent; runs: number; ms: number; scheduled: boolean } | null = null;

function scheduleWarmUp(): void {
  if (!warm || warm.scheduled || warm.runs >= WARM_UP_PASSES || pending > 0) return;
  const w = warm;
  w.scheduled = true;
  queue = queue
    .then(async () => {
      w.scheduled = false;
      if (warm !== w || !gan || pending > 0) return;
      const t0 = performance.now();
      await forwardBackward(gan, w.latent, true);
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

function imageMessage(type: 'rendered', image: RgbaImage): void {
  post({ type, image }, [image.data.buffer]);
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException ? error.name === 'AbortError' : error instanceof Error && error.name === 'AbortError';
}

/** A controller for a long request; Stop aborts it. */
function begin(): AbortController {
  abort = new AbortController();
  return abort;
}

/** A clock whose ticks go to the page. */
function stageClock(): StageClock {
  return new StageClock((t) => post({ type: 'stage', ...t }));
}

/**
 * Call options with a signal and the diffusion backend's progress sink (other backends take the
 * signal and ignore the sink).
 */
function withProgress(signal: AbortSignal, clock: StageClock): DiffusionCallOptions {
  return { signal, onProgress: (p) => clock.tick(p.stage, p.step, p.total) };
}

async function load(req: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  const t0 = performance.now();
  warm = null;
  await gan?.dispose();
  await diffusion?.dispose();
  gan = null;
  diffusion = null;
  if (req.backend === 'blobs') {
    gan = new GaussianBlobBackend();
    post({ type: 'loaded', info: gan.info, provider: 'js', loadMs: performance.now() - t0, threads: 1 });
    return;
  }
  if (req.backend === 'diffusion') {
    const loaded = await loadDiffusion(req.modelUrl, req.ortWasmUrls, req.provider, req.threads);
    diffusion = loaded.model;
    post({
      type: 'loaded', info: diffusion.backend.info, provider: loaded.provider, loadMs: performance.now() - t0, threads: loaded.threads,
      diffusion: diffusion.defaults, ...(loaded.note ? { note: loaded.note } : {}),
    });
    return;
  }
  const loaded = await loadGan(req.modelUrl, req.ortWasmUrls, req.provider, req.threads);
  gan = loaded.model;
  warm = { latent: await gan.createLatent({ type: 'seed', seed: 0 }), runs: 0, ms: 0, scheduled: false };
  post({
    type: 'loaded', info: gan.info, provider: loaded.provider, loadMs: performance.now() - t0, threads: loaded.threads,
    ...(loaded.note ? { note: loaded.note } : {}),
  });
}

async function sample(seed: number): Promise<void> {
  const controller = begin();
  const b = current();
  const options = withProgress(controller.signal, stageClock());
  const latent = await b.createLatent({ type: 'seed', seed }, options);
  const image = await b.render(latent, options);
  post({ type: 'sampled', seed, latent, image }, [image.data.buffer]);
}

async function photo(req: Extract<WorkerRequest, { type: 'photo' }>): Promise<void> {
  if (!diffusion) throw new Error('Photos need the diffusion model: choose it under Model.');
  const controller = begin();
  const clock = stageClock();
  const { latent, cached } = await diffusion.photo(req.image, req.loraSteps, clock, controller.signal);
  post({ type: 'photo-ready', latent, cached, stagesMs: clock.stagesMs });
}

async function render(latent: DragLatent): Promise<void> {
  const controller = begin();
  const b = current();
  const own = await b.createLatent({ type: 'latent', latent });
  imageMessage('rendered', await b.render(own, withProgress(controller.signal, stageClock())));
}

async function drag(req: Extract<WorkerRequest, { type: 'start' }>): Promise<void> {
  const controller = begin();
  const b = current();
  const method = createDemoMethod(req.settings);
  // A diffusion step's image would be a whole denoise (70 UNet calls): the page shows the points
  // moving over the photo and gets the image once, at the end.
  const withImages = !diffusion;
  const session = new DragSession({
    backend: b,
    tracker: method.tracker,
    supervisor: method.supervisor,
    latent: req.latent,
    pairs: req.pairs,
    ...(req.mask ? { mask: req.mask } : {}),
    maxSteps: req.settings.maxSteps,
    learningRate: req.settings.learningRate,
    withImages,
    imageIntervalMs: LIVE_IMAGE_INTERVAL_MS,
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
  const done = { type: 'done' as const, stopReason: result.stopReason, steps: result.steps, latent: result.latent, points: result.points, setupMs: result.setupMs };
  // The final render honours Stop too (diffusion: the denoise); the drag's latent is kept either way.
  const t0 = performance.now();
  const renderController = begin();
  try {
    const image = await b.render(result.latent, withProgress(renderController.signal, stageClock()));
    post({ ...done, image, renderMs: performance.now() - t0 }, [image.data.buffer]);
  } catch (error) {
    if (!isAbort(error)) throw error;
    post({ ...done, stopReason: 'aborted', renderMs: performance.now() - t0 });
  }
}

async function handle(req: WorkerRequest): Promise<void> {
  const stage = req.type === 'start' ? 'drag' : req.type === 'stop' ? 'drag' : req.type;
  try {
    if (req.type === 'load') await load(req);
    else if (req.type === 'sample') await sample(req.seed);
    else if (req.type === 'photo') await photo(req);
    else if (req.type === 'render') await render(req.latent);
    else if (req.type === 'start') await drag(req);
  } catch (error) {
    post({ type: 'error', stage, message: isAbort(error) ? 'Stopped.' : describe(error), ...(isAbort(error) ? { aborted: true } : {}) });
  } finally {
    abort = null;
  }
}

scope.onmessage = (event) => {
  const req = event.data;
  // Stop must not wait behind the running request in the queue.
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
