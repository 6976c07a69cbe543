import type { BackendInfo, DragLatent, Point, RgbaImage } from '@stabledrag/core';
import ortJsepWasmPath from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import ortWasmPath from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { MaskState, PointState, canvasToImage, imageToCanvas } from './edit-state.js';
import { encodeGif } from './gif-encoder.js';
import type { BackendChoice, ProviderChoice, WorkerRequest, WorkerResponse } from './protocol.js';
import type { PageState, Status } from './page-state.js';
import { parseSession, serializeSession } from './session-file.js';
import { defaultSettings, validateSettings, type DragSettings, type MethodName } from './settings.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
};

const view = $<HTMLCanvasElement>('view');
const native = $<HTMLCanvasElement>('image-native');
const banner = $<HTMLDivElement>('banner');
const statusEl = $<HTMLParagraphElement>('status');
const progressBar = $<HTMLDivElement>('progress-bar');
const tableBody = document.querySelector<HTMLTableSectionElement>('#points-table tbody')!;
const seedInput = $<HTMLInputElement>('seed');
const startBtn = $<HTMLButtonElement>('start');
const stopBtn = $<HTMLButtonElement>('stop');
const gifBtn = $<HTMLButtonElement>('download-gif');
const backendSelect = $<HTMLSelectElement>('backend-select');
const providerSelect = $<HTMLSelectElement>('provider-select');
const brush = $<HTMLInputElement>('brush');
const loadInput = $<HTMLInputElement>('load-session');
const showMask = $<HTMLInputElement>('show-mask');
const fields = {
  steps: $<HTMLInputElement>('steps'),
  lr: $<HTMLInputElement>('lr'),
  r1: $<HTMLInputElement>('r1'),
  r2: $<HTMLInputElement>('r2'),
  lambda: $<HTMLInputElement>('lambda'),
  tau: $<HTMLInputElement>('tau'),
  maskWeight: $<HTMLInputElement>('mask-weight'),
};
const editButtons = ['random-seed', 'reset-image', 'undo-point', 'reset-points', 'clear-mask', 'defaults', 'save-session', 'download-png'].map((id) =>
  $<HTMLButtonElement>(id),
);

const state: PageState = {
  status: 'loading', step: 0, maxSteps: 0, points: [], targets: [], confidences: [], distances: [], stopReason: null,
  backendName: null, provider: null, threads: 1, imageSize: 0, method: null, loadMs: null, setupMs: null, msPerStep: [], stepTimings: [], warmUp: null, error: null,
};
window.__stabledrag = state;

const points = new PointState();
let mask: MaskState | null = null;
let info: BackendInfo | null = null;
let seed = 0;
let originalLatent: DragLatent | null = null;
let latent: DragLatent | null = null;
let image: RgbaImage | null = null;
/** Tracked handle positions while a drag runs (null otherwise). */
let live: Point[] | null = null;
let lastLoss = 0;
/** Frames of the last drag for the GIF, decimated to at most MAX_FRAMES. */
let frames: { image: RgbaImage; points: Point[] }[] = [];
let frameStride = 1;
const MAX_FRAMES = 240;
let worker: Worker | null = null;

// ---------- messages ----------

function showBanner(kind: 'error' | 'warn' | 'info', text: string): void {
  banner.className = kind;
  banner.textContent = text;
  banner.hidden = false;
}

function hideBanner(): void {
  banner.hidden = true;
  banner.textContent = '';
}

function setStatus(status: Status, text: string): void {
  state.status = status;
  statusEl.textContent = text;
  const running = status === 'running' || status === 'stopping';
  const busy = running || status === 'loading' || status === 'sampling';
  startBtn.disabled = busy || status === 'error' || !image;
  stopBtn.disabled = status !== 'running';
  for (const b of editButtons) b.disabled = busy || (status === 'error' && b.id !== 'defaults');
  gifBtn.disabled = busy || frames.length < 2;
  seedInput.disabled = busy;
  loadInput.disabled = busy;
  loadInput.parentElement?.classList.toggle('disabled', busy);
  backendSelect.disabled = running;
  providerSelect.disabled = running;
}

// ---------- settings form ----------

function readSettings(): DragSettings {
  const method = (document.querySelector<HTMLInputElement>('input[name="method"]:checked')?.value ?? 'stabledrag') as MethodName;
  return {
    method,
    maxSteps: Number(fields.steps.value),
    learningRate: Number(fields.lr.value),
    r1: Number(fields.r1.value),
    r2: Number(fields.r2.value),
    lambda: Number(fields.lambda.value),
    tau: Number(fields.tau.value),
    maskWeight: Number(fields.maskWeight.value),
  };
}

function writeSettings(s: DragSettings): void {
  const radio = document.querySelector<HTMLInputElement>(`input[name="method"][value="${s.method}"]`);
  if (radio) radio.checked = true;
  fields.steps.value = String(s.maxSteps);
  fields.lr.value = String(s.learningRate);
  fields.r1.value = String(s.r1);
  fields.r2.value = String(s.r2);
  fields.lambda.value = String(s.lambda);
  fields.tau.value = String(s.tau);
  fields.maskWeight.value = String(s.maskWeight);
  updateMethodFields();
}

function updateMethodFields(): void {
  const stable = readSettings().method === 'stabledrag';
  fields.lambda.disabled = !stable;
  fields.tau.disabled = !stable;
}

function resetSettings(): void {
  if (!info) return;
  writeSettings(defaultSettings(info.imageWidth, info.defaultLearningRate));
  const steps = Number(params.get('steps'));
  if (Number.isInteger(steps) && steps > 0) fields.steps.value = String(steps);
}

// ---------- drawing ----------

function putImage(img: RgbaImage): void {
  image = img;
  if (native.width !== img.width || native.height !== img.height) {
    native.width = img.width;
    native.height = img.height;
  }
  native.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
}

let maskCanvas: HTMLCanvasElement | null = null;

function refreshMaskOverlay(): void {
  if (!mask) return;
  maskCanvas ??= document.createElement('canvas');
  maskCanvas.width = mask.width;
  maskCanvas.height = mask.height;
  const data = new Uint8ClampedArray(mask.width * mask.height * 4);
  for (let i = 0; i < mask.data.length; i++) {
    // Editable pixels get a light tint; once anything is painted, fixed pixels are dimmed.
    if (mask.data[i]) {
      data[4 * i] = 120;
      data[4 * i + 1] = 255;
      data[4 * i + 2] = 140;
      data[4 * i + 3] = 70;
    } else if (mask.paintedPixels > 0) {
      data[4 * i + 3] = 110;
    }
  }
  maskCanvas.getContext('2d')!.putImageData(new ImageData(data, mask.width, mask.height), 0, 0);
}

function drawArrow(ctx: CanvasRenderingContext2D, from: Point, to: Point): void {
  const len = Math.hypot(to.x - from.x, to.y - from.y);
  if (len < 1) return;
  const ux = (to.x - from.x) / len;
  const uy = (to.y - from.y) / len;
  const head = Math.min(12, len / 2);
  ctx.strokeStyle = 'rgba(255,255,255,0.9)';
  ctx.fillStyle = 'rgba(255,255,255,0.9)';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x - ux * head, to.y - uy * head);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(to.x, to.y);
  ctx.lineTo(to.x - ux * head - uy * head * 0.5, to.y - uy * head + ux * head * 0.5);
  ctx.lineTo(to.x - ux * head + uy * head * 0.5, to.y - uy * head - ux * head * 0.5);
  ctx.closePath();
  ctx.fill();
}

function drawDot(ctx: CanvasRenderingContext2D, p: Point, colour: string, r = 6): void {
  ctx.beginPath();
  ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = 'white';
  ctx.stroke();
}

/** Draws image + mask + points on a canvas context of any size. */
function drawScene(ctx: CanvasRenderingContext2D, w: number, h: number, source: CanvasImageSource | null, handles: readonly Point[], withMask: boolean): void {
  ctx.clearRect(0, 0, w, h);
  // Bilinear upscaling: 'high' quality costs tens of ms per frame where the canvas is rasterised in
  // software, time the main thread takes from the drag worker on a small machine.
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'low';
  if (source) ctx.drawImage(source, 0, 0, w, h);
  if (withMask && mask && maskCanvas && mask.paintedPixels > 0) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(maskCanvas, 0, 0, w, h);
  }
  if (!info) return;
  const W = info.imageWidth;
  const H = info.imageHeight;
  const r = Math.max(3, w / 120);
  points.pairs.forEach((pair, i) => {
    const handle = handles[i] ?? pair.handle;
    const a = imageToCanvas(handle, w, h, W, H);
    if (pair.target) {
      const b = imageToCanvas(pair.target, w, h, W, H);
      drawArrow(ctx, a, b);
      drawDot(ctx, b, '#2d6ae5', r);
    }
    drawDot(ctx, a, '#e5322d', r);
  });
}

function currentHandles(): Point[] {
  if (live) {
    // Live points belong to the complete pairs; map them back onto the draft list.
    const out: Point[] = [];
    let k = 0;
    for (const d of points.pairs) out.push(d.target ? (live[k++] ?? d.handle) : d.handle);
    return out;
  }
  return points.pairs.map((d) => d.handle);
}

function redraw(): void {
  const rect = view.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(rect.width * dpr));
  const h = Math.max(1, Math.round(rect.height * dpr));
  if (view.width !== w || view.height !== h) {
    view.width = w;
    view.height = h;
  }
  drawScene(view.getContext('2d')!, w, h, image ? native : null, currentHandles(), showMask.checked);
  publishPoints();
  renderTable();
}

function publishPoints(): void {
  const complete = points.completePairs();
  state.points = live ? live.map((p) => ({ ...p })) : complete.map((p) => ({ ...p.handle }));
  state.targets = complete.map((p) => ({ ...p.target }));
}

function renderTable(): void {
  const complete = points.completePairs();
  const rows = complete.map((pair, i) => {
    const h = state.points[i] ?? pair.handle;
    const d = Math.hypot(pair.target.x - h.x, pair.target.y - h.y);
    const c = state.confidences[i];
    const fmt = (p: Point): string => `(${p.x.toFixed(0)}, ${p.y.toFixed(0)})`;
    return `<tr><td>${i + 1}</td><td class="red">${fmt(h)}</td><td class="blue">${fmt(pair.target)}</td><td>${d.toFixed(1)} px</td><td>${c === undefined ? '—' : c.toFixed(3)}</td><td>${i === 0 && live ? lastLoss.toExponential(2) : ''}</td></tr>`;
  });
  tableBody.innerHTML = rows.join('');
}

// ---------- worker ----------

const params = new URLSearchParams(location.search);

function send(req: WorkerRequest): void {
  worker?.postMessage(req);
}

function startWorker(): void {
  worker?.terminate();
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<WorkerResponse>) => onWorkerMessage(event.data);
  worker.onerror = (event) => {
    fail(`The drag worker failed: ${event.message || 'it could not start (this browser may not support module workers)'}.`);
  };
}

function fail(message: string): void {
  state.error = message;
  showBanner('error', message);
  setStatus('error', 'Error.');
}

function load(): void {
  const backend = backendSelect.value as BackendChoice;
  const provider = providerSelect.value as ProviderChoice;
  state.backendName = null;
  state.provider = null;
  state.error = null;
  $('backend-name').textContent = '—';
  $('provider').textContent = '—';
  image = null;
  setStatus(
    'loading',
    backend === 'gan'
      ? 'Loading the model, building its gradient graph and starting ONNX Runtime (it compiles ~28 MB of WebAssembly the first time; this can take a while on a slow machine)…'
      : 'Starting the reference backend…',
  );
  startWorker();
  send({
    type: 'load',
    backend,
    provider,
    modelUrl: new URL(`models/${modelName()}/`, document.baseURI).href,
    ortWasmUrls: { wasm: new URL(ortWasmPath, document.baseURI).href, jsep: new URL(ortJsepWasmPath, document.baseURI).href },
    threads: Math.max(0, Math.floor(Number(params.get('threads') ?? 0)) || 0),
  });
}

/** `?stop=px` overrides the convergence distance (the speed benchmark uses 0 to run every step). */
function stopDistanceParam(): { stopDistance?: number } {
  const raw = params.get('stop');
  const d = raw === null ? Number.NaN : Number(raw);
  return Number.isFinite(d) && d >= 0 ? { stopDistance: d } : {};
}

/** Model folder under models/: `?model=tiny` picks another one (default: default). */
function modelName(): string {
  const m = params.get('model');
  return m && /^[\w-]+$/.test(m) ? m : 'default';
}

function sample(newSeed: number): void {
  seed = newSeed;
  seedInput.value = String(seed);
  frames = [];
  setStatus('sampling', `Sampling seed ${seed}…`);
  send({ type: 'sample', seed });
}

function onWorkerMessage(msg: WorkerResponse): void {
  switch (msg.type) {
    case 'loaded': {
      info = msg.info;
      state.backendName = msg.info.name;
      state.provider = msg.provider;
      state.threads = msg.threads;
      state.imageSize = msg.info.imageWidth;
      state.loadMs = msg.loadMs;
      state.warmUp = null;
      $('backend-name').textContent = `${msg.info.name} (${msg.info.imageWidth}×${msg.info.imageHeight})`;
      $('provider').textContent = msg.provider === 'js' ? 'JavaScript' : msg.provider === 'webgpu' ? 'WebGPU' : 'WebAssembly';
      $('threads').textContent = msg.provider === 'wasm' ? `(${msg.threads} thread${msg.threads === 1 ? '' : 's'})` : '';
      if (msg.note) showBanner('warn', msg.note);
      else hideBanner();
      mask = new MaskState(msg.info.imageWidth, msg.info.imageHeight);
      refreshMaskOverlay();
      points.reset();
      resetSettings();
      const s = Number(params.get('seed') ?? seedInput.value);
      sample(Number.isInteger(s) && s >= 0 ? s : 0);
      return;
    }
    case 'sampled': {
      originalLatent = msg.latent;
      latent = msg.latent;
      putImage(msg.image);
      setStatus('ready', 'Click a handle, then its target.');
      redraw();
      return;
    }
    case 'rendered': {
      putImage(msg.image);
      setStatus('ready', 'Ready.');
      redraw();
      return;
    }
    case 'warm-up':
      state.warmUp = { runs: msg.runs, of: msg.of, ms: msg.ms, lastMs: msg.lastMs };
      // Only before the first drag: afterwards the line shows the drag's own timings.
      if (state.msPerStep.length === 0) {
        $('timing').textContent =
          msg.runs < msg.of
            ? `warming up the WebAssembly kernels (${msg.runs}/${msg.of}, last pass ${msg.lastMs.toFixed(0)} ms)`
            : `warmed up: forward + backward ${msg.lastMs.toFixed(0)} ms`;
      }
      return;
    case 'started':
      state.method = msg.method;
      statusEl.textContent = `Running ${msg.method}…`;
      return;
    case 'step': {
      state.step = msg.step;
      state.maxSteps = msg.maxSteps;
      state.confidences = [...msg.confidences];
      state.distances = [...msg.distances];
      state.msPerStep.push(msg.ms);
      state.stepTimings.push(msg.timings);
      live = msg.points.map((p) => ({ ...p }));
      lastLoss = msg.loss;
      if (msg.image) {
        pendingImage = msg.image;
        recordFrame(msg.image, live);
      }
      const worst = Math.max(...msg.distances);
      pendingStatus = `Step ${msg.step} / ${msg.maxSteps} · farthest handle ${worst.toFixed(1)} px from its target · ${msg.ms.toFixed(0)} ms/step`;
      publishPoints();
      scheduleDraw();
      return;
    }
    case 'done': {
      latent = msg.latent;
      state.setupMs = msg.setupMs;
      state.points = msg.points.map((p) => ({ ...p }));
      points.moveHandles(msg.points);
      live = null;
      pendingImage = null;
      putImage(msg.image);
      state.stopReason = msg.stopReason;
      recordFrame(msg.image, msg.points.map((p) => ({ ...p })), true);
      const dists = points.completePairs().map((p) => Math.hypot(p.target.x - p.handle.x, p.target.y - p.handle.y));
      const far = dists.length ? Math.max(...dists) : 0;
      const timing = state.msPerStep.length ? ` · ${median(state.msPerStep).toFixed(0)} ms/step` : '';
      $('timing').textContent = `load ${state.loadMs?.toFixed(0)} ms · setup ${msg.setupMs.toFixed(0)} ms${timing}`;
      if (msg.stopReason === 'converged') {
        hideBanner();
        setStatus('done', `Done: every handle reached its target in ${msg.steps} steps${timing}.`);
      } else if (msg.stopReason === 'max-steps') {
        showBanner('warn', `The drag stopped after ${msg.steps} steps without reaching the targets (farthest handle ${far.toFixed(1)} px away). Press Start to continue from here, or raise the steps or the learning rate.`);
        setStatus('done', `Stopped at the step limit, ${far.toFixed(1)} px from the targets.`);
      } else if (msg.stopReason === 'diverged') {
        showBanner('warn', `The drag left what the generator can draw after ${msg.steps} steps (its features blew up), so it was stopped; the image shows the best step before that. Lower the learning rate or drag a shorter way, then press Start.`);
        setStatus('done', `Stopped: the drag diverged; showing the best step, ${far.toFixed(1)} px from the targets.`);
      } else {
        showBanner('info', `Stopped by you at step ${state.step}; the farthest handle is ${far.toFixed(1)} px from its target. Press Start to continue.`);
        setStatus('done', 'Stopped.');
      }
      redraw();
      return;
    }
    case 'error': {
      if (msg.stage === 'load') {
        const where = backendSelect.value === 'gan' ? ` from models/${modelName()}/` : '';
        fail(`Could not load the model${where}: ${msg.message} Check that the page is served with its model files (pnpm --filter demo build copies them), or try the reference backend under Developer.`);
      } else if (msg.stage === 'drag') {
        live = null;
        showBanner('error', `The drag failed: ${msg.message}`);
        state.error = msg.message;
        setStatus('ready', 'The drag failed.');
        redraw();
      } else {
        showBanner('error', `Could not make the image: ${msg.message}`);
        state.error = msg.message;
        setStatus(image ? 'ready' : 'error', 'Error.');
      }
      return;
    }
  }
}

let pendingImage: RgbaImage | null = null;
let pendingStatus: string | null = null;
let drawScheduled = false;

/** Steps can arrive faster than frames (the blob backend takes ~1 ms): draw once per frame. */
function scheduleDraw(): void {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => {
    drawScheduled = false;
    if (pendingImage) putImage(pendingImage);
    pendingImage = null;
    if (pendingStatus && state.status === 'running') statusEl.textContent = pendingStatus;
    pendingStatus = null;
    progressBar.style.width = `${(100 * state.step) / Math.max(1, state.maxSteps)}%`;
    redraw();
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

function recordFrame(img: RgbaImage, pts: Point[], force = false): void {
  if (!force && state.step % frameStride !== 0) return;
  frames.push({ image: { data: new Uint8ClampedArray(img.data), width: img.width, height: img.height }, points: pts });
  if (frames.length > MAX_FRAMES) {
    frames = frames.filter((_, i) => i % 2 === 0 || i === frames.length - 1);
    frameStride *= 2;
  }
}

// ---------- actions ----------

function start(): void {
  if (!info || !latent) return;
  const pairs = points.completePairs();
  if (pairs.length === 0) {
    showBanner('warn', 'Place at least one pair first: click a handle on the image, then its target.');
    return;
  }
  const settings = readSettings();
  const problems = validateSettings(settings);
  if (problems.length > 0) {
    showBanner('warn', problems.join(' '));
    return;
  }
  hideBanner();
  const notes: string[] = [];
  if (points.awaitingTarget) notes.push('The last handle has no target yet; it is left out of this drag.');
  const m = mask?.toMask();
  if (m) {
    const outside = pairs.map((p, i) => (m.data[Math.round(p.handle.y) * m.width + Math.round(p.handle.x)] ? 0 : i + 1)).filter((i) => i > 0);
    if (outside.length) notes.push(`Handle ${outside.join(', ')} lies outside the painted (editable) region, so the mask term holds it in place; paint over it to let it move.`);
  }
  if (notes.length) showBanner('info', notes.join(' '));
  state.step = 0;
  state.maxSteps = settings.maxSteps;
  state.stopReason = null;
  state.msPerStep = [];
  state.stepTimings = [];
  state.confidences = [];
  state.error = null;
  frames = [];
  frameStride = 1;
  if (image) recordFrame(image, pairs.map((p) => p.handle), true);
  live = pairs.map((p) => ({ ...p.handle }));
  progressBar.style.width = '0';
  setStatus('running', 'Starting the drag…');
  send({ type: 'start', latent, pairs, mask: m ?? null, settings, ...stopDistanceParam() });
}

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function downloadGif(): void {
  if (frames.length < 2 || !info) return;
  // Upscale small images so the GIF is watchable, and draw the points as in the page.
  const side = Math.max(256, info.imageWidth);
  const canvas = document.createElement('canvas');
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const tmp = document.createElement('canvas');
  tmp.width = info.imageWidth;
  tmp.height = info.imageHeight;
  const tctx = tmp.getContext('2d')!;
  const rgba = frames.map((f) => {
    tctx.putImageData(new ImageData(new Uint8ClampedArray(f.image.data), f.image.width, f.image.height), 0, 0);
    drawScene(ctx, side, side, tmp, f.points, false);
    const d = ctx.getImageData(0, 0, side, side);
    return { data: d.data, width: side, height: side };
  });
  const gif = encodeGif(rgba, { delayMs: 60 });
  download(new Blob([gif as Uint8Array<ArrayBuffer>], { type: 'image/gif' }), `stabledrag-seed${seed}.gif`);
}

function onPointer(event: PointerEvent, kind: 'down' | 'move' | 'up'): void {
  if (!info || !image || state.status === 'running' || state.status === 'stopping' || state.status === 'loading') return;
  const rect = view.getBoundingClientRect();
  const p = canvasToImage(event.clientX - rect.left, event.clientY - rect.top, rect.width, rect.height, info.imageWidth, info.imageHeight);
  const mode = document.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value ?? 'points';
  if (mode === 'points') {
    if (kind !== 'down') return;
    // No banner changes here: hiding one would shift the canvas under the pointer between clicks.
    points.click(p);
    redraw();
    return;
  }
  if (!mask) return;
  const radius = Number(brush.value);
  const value = mode === 'paint' ? 1 : 0;
  if (kind === 'down') {
    view.setPointerCapture(event.pointerId);
    painting = p;
    mask.brush(p.x, p.y, radius, value);
  } else if (kind === 'move' && painting) {
    mask.stroke(painting, p, radius, value);
    painting = p;
  } else if (kind === 'up') {
    painting = null;
    return;
  } else {
    return;
  }
  refreshMaskOverlay();
  redraw();
}

let painting: Point | null = null;

// ---------- wiring ----------

function checkFeatures(): string | null {
  const missing: string[] = [];
  if (typeof Worker === 'undefined') missing.push('Web Workers');
  if (typeof WebAssembly === 'undefined') missing.push('WebAssembly');
  if (typeof OffscreenCanvas === 'undefined' && typeof HTMLCanvasElement === 'undefined') missing.push('canvas');
  return missing.length ? `This browser lacks ${missing.join(' and ')}, which the demo needs to run the model in the page. Please use a recent Chrome, Edge, Firefox or Safari.` : null;
}

function init(): void {
  const backend = params.get('backend');
  if (backend === 'gan' || backend === 'blobs') backendSelect.value = backend;
  const provider = params.get('provider');
  if (provider === 'auto' || provider === 'wasm' || provider === 'webgpu') providerSelect.value = provider;
  const missing = checkFeatures();
  if (missing) {
    fail(missing);
    return;
  }
  view.addEventListener('pointerdown', (e) => onPointer(e, 'down'));
  view.addEventListener('pointermove', (e) => onPointer(e, 'move'));
  view.addEventListener('pointerup', (e) => onPointer(e, 'up'));
  view.addEventListener('pointercancel', (e) => onPointer(e, 'up'));
  new ResizeObserver(() => redraw()).observe(view);
  startBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', () => {
    send({ type: 'stop' });
    setStatus('stopping', 'Stopping…');
  });
  $('random-seed').addEventListener('click', () => sample(Math.floor(Math.random() * 100_000)));
  seedInput.addEventListener('change', () => {
    const s = Number(seedInput.value);
    if (Number.isInteger(s) && s >= 0) sample(s);
    else showBanner('warn', 'A seed is a whole number, 0 or more.');
  });
  $('reset-image').addEventListener('click', () => {
    if (!originalLatent) return;
    latent = originalLatent;
    frames = [];
    setStatus('sampling', 'Restoring the original image…');
    send({ type: 'render', latent: originalLatent });
  });
  $('undo-point').addEventListener('click', () => {
    points.undo();
    redraw();
  });
  $('reset-points').addEventListener('click', () => {
    points.reset();
    state.confidences = [];
    redraw();
  });
  $('clear-mask').addEventListener('click', () => {
    mask?.clear();
    refreshMaskOverlay();
    redraw();
  });
  showMask.addEventListener('change', redraw);
  brush.addEventListener('input', () => {
    $('brush-out').textContent = brush.value;
  });
  $('defaults').addEventListener('click', resetSettings);
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="method"]')) r.addEventListener('change', updateMethodFields);
  $('download-png').addEventListener('click', () => {
    native.toBlob((blob) => blob && download(blob, `stabledrag-seed${seed}.png`), 'image/png');
  });
  gifBtn.addEventListener('click', downloadGif);
  $('save-session').addEventListener('click', () => {
    if (!info || !latent || !originalLatent) return;
    const text = serializeSession({
      model: info.name, resolution: info.imageWidth, seed, originalLatent, latent,
      pairs: points.completePairs(), mask: mask && mask.paintedPixels > 0 ? new Uint8Array(mask.data) : null, settings: readSettings(),
    });
    download(new Blob([text], { type: 'application/json' }), `stabledrag-session-seed${seed}.json`);
  });
  loadInput.addEventListener('change', async (event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file || !info) return;
    try {
      const s = parseSession(await file.text());
      if (s.model !== info.name || s.resolution !== info.imageWidth) {
        throw new Error(`It was saved with model "${s.model}" (${s.resolution} px) but "${info.name}" (${info.imageWidth} px) is loaded; pick that backend under Developer first.`);
      }
      seed = s.seed;
      seedInput.value = String(seed);
      originalLatent = s.originalLatent;
      latent = s.latent;
      points.load(s.pairs);
      mask?.clear();
      if (s.mask) mask?.load(s.mask);
      refreshMaskOverlay();
      writeSettings(s.settings);
      frames = [];
      hideBanner();
      setStatus('sampling', 'Rendering the saved latent…');
      send({ type: 'render', latent: s.latent });
    } catch (error) {
      showBanner('error', `Could not load that session file: ${(error as Error).message}`);
    }
  });
  backendSelect.addEventListener('change', load);
  providerSelect.addEventListener('change', load);
  load();
}

init();
