import ortJsepWasmPath from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import ortWasmPath from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { putImage, redraw, refreshMaskOverlay, setProgress } from './canvas-view.js';
import { $, els } from './dom.js';
import { canvasToImage } from './edit-state.js';
import { frames, onDone, onStep, startDrag } from './drag-run.js';
import { initFilesPanel } from './files-panel.js';
import { ctx, params, resetMask, state } from './page-context.js';
import { chooseInitialPhoto, initPhotoPanel, onPhotoReady, resetPhoto } from './photo-panel.js';
import type { BackendChoice, ProviderChoice, WorkerResponse } from './protocol.js';
import { initSeedPanel, onSampled, resetSeedImage, sample } from './seed-panel.js';
import { onMethodChange, resetSettings } from './settings-form.js';
import { stageText } from './stage-text.js';
import { fail, hideBanner, setStatus, showBanner } from './status-view.js';
import { send, startWorker } from './worker-client.js';

/**
 * The demo page: wiring only. The canvas view (canvas-view.ts), the settings form
 * (settings-form.ts), the drag run (drag-run.ts), the seed and photo panels (seed-panel.ts,
 * photo-panel.ts), files (files-panel.ts) and the worker client (worker-client.ts) do the work;
 * the model runs in worker.ts.
 */

/** GAN model folder under models/: `?model=tiny` picks another one (default: default). */
function modelName(): string {
  const m = params.get('model');
  return m && /^[\w-]+$/.test(m) ? m : 'default';
}

const LOADING_TEXT: Record<BackendChoice, string> = {
  gan: 'Loading the model, building its gradient graph and starting ONNX Runtime (it compiles ~28 MB of WebAssembly the first time; this can take a while on a slow machine)…',
  diffusion: 'Loading the diffusion model (37 MB), building its gradient graphs and starting ONNX Runtime; this takes a while on a slow machine…',
  blobs: 'Starting the reference backend…',
};

/** Shows the panels of a model kind: seeds for the GAN, photos for diffusion. */
function showModePanels(mode: BackendChoice): void {
  els.seedPanel.hidden = mode === 'diffusion';
  els.photoPanel.hidden = mode !== 'diffusion';
  els.baselineName.textContent = mode === 'diffusion' ? 'DragDiffusion baseline' : 'DragGAN baseline';
}

function load(): void {
  const backend = els.backend.value as BackendChoice;
  ctx.mode = backend;
  ctx.diffusion = null;
  ctx.image = null;
  ctx.latent = null;
  ctx.photo = null;
  Object.assign(state, { backendName: null, provider: null, error: null, mode: backend, photo: null, stage: null, stagesMs: {} });
  $('backend-name').textContent = '—';
  $('provider').textContent = '—';
  showModePanels(backend);
  setStatus('loading', LOADING_TEXT[backend]);
  startWorker(onWorkerMessage, fail);
  const folder = backend === 'diffusion' ? 'diffusion' : modelName();
  send({
    type: 'load',
    backend,
    provider: els.provider.value as ProviderChoice,
    modelUrl: new URL(`models/${folder}/`, document.baseURI).href,
    ortWasmUrls: { wasm: new URL(ortWasmPath, document.baseURI).href, jsep: new URL(ortJsepWasmPath, document.baseURI).href },
    threads: Math.max(0, Math.floor(Number(params.get('threads') ?? 0)) || 0),
  });
}

function onLoaded(msg: Extract<WorkerResponse, { type: 'loaded' }>): void {
  ctx.info = msg.info;
  ctx.diffusion = msg.diffusion ?? null;
  Object.assign(state, { backendName: msg.info.name, provider: msg.provider, threads: msg.threads, imageSize: msg.info.imageWidth, loadMs: msg.loadMs, warmUp: null });
  $('backend-name').textContent = `${msg.info.name} (${msg.info.imageWidth}×${msg.info.imageHeight})`;
  $('provider').textContent = msg.provider === 'js' ? 'JavaScript' : msg.provider === 'webgpu' ? 'WebGPU' : 'WebAssembly';
  $('threads').textContent = msg.provider === 'wasm' ? `(${msg.threads} thread${msg.threads === 1 ? '' : 's'})` : '';
  if (msg.note) showBanner('warn', msg.note);
  else hideBanner();
  resetMask(msg.info.imageWidth, msg.info.imageHeight);
  refreshMaskOverlay();
  ctx.points.reset();
  resetSettings();
  if (msg.diffusion) {
    els.loraSteps.placeholder = String(msg.diffusion.loraSteps);
    els.timing.textContent = `model loaded in ${(msg.loadMs / 1000).toFixed(1)} s`;
    chooseInitialPhoto();
    return;
  }
  const s = Number(params.get('seed') ?? els.seed.value);
  sample(Number.isInteger(s) && s >= 0 ? s : 0);
}

function onStage(msg: Extract<WorkerResponse, { type: 'stage' }>): void {
  state.stage = { name: msg.stage, step: msg.step, total: msg.total, elapsedMs: msg.elapsedMs };
  state.stagesMs[msg.stage] = msg.elapsedMs;
  // Stop pressed during the drag: the final denoise still runs, and Stop may end it too.
  if (state.status === 'stopping') setStatus('running', '');
  els.status.textContent = stageText(msg.stage, msg.step, msg.total, msg.elapsedMs);
  setProgress(msg.step / Math.max(1, msg.total));
}

function onError(msg: Extract<WorkerResponse, { type: 'error' }>): void {
  state.stage = null;
  if (msg.stage === 'load') {
    const where = ctx.mode === 'blobs' ? '' : ` from models/${ctx.mode === 'diffusion' ? 'diffusion' : modelName()}/`;
    fail(`Could not load the model${where}: ${msg.message} Check that the page is served with its model files (pnpm --filter demo build copies them), or try the reference backend.`);
    return;
  }
  if (msg.stage === 'photo') {
    if (msg.aborted) showBanner('info', 'Stopped preparing the photo. Pick it again (or another) to go on.');
    else showBanner('error', `Could not prepare the photo: ${msg.message}`);
    state.error = msg.aborted ? null : msg.message;
    setStatus('ready', msg.aborted ? 'Stopped.' : 'The photo could not be prepared.');
    return;
  }
  state.error = msg.message;
  if (msg.stage === 'drag') {
    ctx.live = null;
    showBanner('error', `The drag failed: ${msg.message}`);
    setStatus('ready', 'The drag failed.', frames.length > 1);
    redraw();
    return;
  }
  if (msg.aborted) showBanner('info', 'Stopped.');
  else showBanner('error', `Could not make the image: ${msg.message}`);
  setStatus(ctx.image ? 'ready' : 'error', msg.aborted ? 'Stopped.' : 'Error.');
}

function onWarmUp(msg: Extract<WorkerResponse, { type: 'warm-up' }>): void {
  state.warmUp = { runs: msg.runs, of: msg.of, ms: msg.ms, lastMs: msg.lastMs };
  // Only before the first drag: afterwards the line shows the drag's own timings.
  if (state.msPerStep.length === 0) {
    els.timing.textContent =
      msg.runs < msg.of ? `warming up the WebAssembly kernels (${msg.runs}/${msg.of}, last pass ${msg.lastMs.toFixed(0)} ms)` : `warmed up: forward + backward ${msg.lastMs.toFixed(0)} ms`;
  }
}

function onWorkerMessage(msg: WorkerResponse): void {
  switch (msg.type) {
    case 'loaded': return onLoaded(msg);
    case 'sampled': return onSampled(msg);
    case 'stage': return onStage(msg);
    case 'photo-ready': return onPhotoReady(msg);
    case 'rendered':
      putImage(msg.image);
      setStatus('ready', 'Ready.');
      return redraw();
    case 'warm-up': return onWarmUp(msg);
    case 'started':
      state.method = msg.method;
      els.status.textContent = `Running ${msg.method}…`;
      return;
    case 'step': return onStep(msg);
    case 'done': return onDone(msg);
    case 'error': return onError(msg);
  }
}

let painting: { x: number; y: number } | null = null;

function onPointer(event: PointerEvent, kind: 'down' | 'move' | 'up'): void {
  const { info, image, mask } = ctx;
  if (!info || !image || !['ready', 'done', 'error'].includes(state.status)) return;
  const rect = els.view.getBoundingClientRect();
  const p = canvasToImage(event.clientX - rect.left, event.clientY - rect.top, rect.width, rect.height, info.imageWidth, info.imageHeight);
  const mode = document.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value ?? 'points';
  if (mode === 'points') {
    if (kind !== 'down') return;
    // No banner changes here: hiding one would shift the canvas under the pointer between clicks.
    ctx.points.click(p);
    redraw();
    return;
  }
  if (!mask) return;
  const radius = Number(els.brush.value);
  const value = mode === 'paint' ? 1 : 0;
  if (kind === 'down') {
    els.view.setPointerCapture(event.pointerId);
    painting = p;
    mask.brush(p.x, p.y, radius, value);
  } else if (kind === 'move' && painting) {
    mask.stroke(painting, p, radius, value);
    painting = p;
  } else {
    painting = null;
    return;
  }
  refreshMaskOverlay();
  redraw();
}

function checkFeatures(): string | null {
  const missing: string[] = [];
  if (typeof Worker === 'undefined') missing.push('Web Workers');
  if (typeof WebAssembly === 'undefined') missing.push('WebAssembly');
  if (typeof OffscreenCanvas === 'undefined' && typeof HTMLCanvasElement === 'undefined') missing.push('canvas');
  return missing.length ? `This browser lacks ${missing.join(' and ')}, which the demo needs to run the model in the page. Please use a recent Chrome, Edge, Firefox or Safari.` : null;
}

function wireEditing(): void {
  const { view } = els;
  view.addEventListener('pointerdown', (e) => onPointer(e, 'down'));
  view.addEventListener('pointermove', (e) => onPointer(e, 'move'));
  view.addEventListener('pointerup', (e) => onPointer(e, 'up'));
  view.addEventListener('pointercancel', (e) => onPointer(e, 'up'));
  new ResizeObserver(() => redraw()).observe(view);
  $('undo-point').addEventListener('click', () => {
    ctx.points.undo();
    redraw();
  });
  $('reset-points').addEventListener('click', () => {
    ctx.points.reset();
    state.confidences = [];
    redraw();
  });
  $('clear-mask').addEventListener('click', () => {
    ctx.mask?.clear();
    refreshMaskOverlay();
    redraw();
  });
  els.showMask.addEventListener('change', redraw);
  els.brush.addEventListener('input', () => {
    $('brush-out').textContent = els.brush.value;
  });
}

function init(): void {
  const backend = params.get('backend');
  if (backend === 'gan' || backend === 'blobs' || backend === 'diffusion') els.backend.value = backend;
  const provider = params.get('provider');
  if (provider === 'auto' || provider === 'wasm' || provider === 'webgpu') els.provider.value = provider;
  const lora = params.get('lora');
  if (lora !== null && /^\d+$/.test(lora)) els.loraSteps.value = lora;
  const missing = checkFeatures();
  if (missing) {
    fail(missing);
    return;
  }
  wireEditing();
  initSeedPanel();
  initPhotoPanel();
  initFilesPanel();
  els.start.addEventListener('click', startDrag);
  els.stop.addEventListener('click', () => {
    send({ type: 'stop' });
    setStatus('stopping', 'Stopping…');
  });
  $('reset-image').addEventListener('click', () => (ctx.mode === 'diffusion' ? resetPhoto() : resetSeedImage()));
  $('defaults').addEventListener('click', resetSettings);
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="method"]')) r.addEventListener('change', onMethodChange);
  els.backend.addEventListener('change', load);
  els.provider.addEventListener('change', load);
  load();
}

init();
