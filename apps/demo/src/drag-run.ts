import type { Point, RgbaImage } from '@stabledrag/core';
import { cancelPendingImage, putImage, redraw, scheduleDraw, setProgress } from './canvas-view.js';
import { els } from './dom.js';
import { ctx, params, state } from './page-context.js';
import type { WorkerResponse } from './protocol.js';
import { readSettings } from './settings-form.js';
import { validateSettings } from './settings.js';
import { hideBanner, setStatus, showBanner } from './status-view.js';
import { formatDuration } from './stage-text.js';
import { send } from './worker-client.js';

/** Frames of the last drag for the GIF, decimated to at most MAX_FRAMES. */
export let frames: { image: RgbaImage; points: Point[] }[] = [];
let frameStride = 1;
const MAX_FRAMES = 240;

export function clearFrames(): void {
  frames = [];
  frameStride = 1;
}

function recordFrame(img: RgbaImage, pts: Point[], force = false): void {
  if (!force && state.step % frameStride !== 0) return;
  frames.push({ image: { data: new Uint8ClampedArray(img.data), width: img.width, height: img.height }, points: pts });
  if (frames.length > MAX_FRAMES) {
    frames = frames.filter((_, i) => i % 2 === 0 || i === frames.length - 1);
    frameStride *= 2;
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

/** `?stop=px` overrides the convergence distance (the speed benchmark uses 0 to run every step). */
function stopDistanceParam(): { stopDistance?: number } {
  const raw = params.get('stop');
  const d = raw === null ? Number.NaN : Number(raw);
  return Number.isFinite(d) && d >= 0 ? { stopDistance: d } : {};
}

/** Start: checks the pairs and settings, then sends the drag to the worker. */
export function startDrag(): void {
  const { info, latent, points, mask, image } = ctx;
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
  Object.assign(state, { step: 0, maxSteps: settings.maxSteps, stopReason: null, msPerStep: [], stepTimings: [], confidences: [], error: null, stage: null, stagesMs: {}, renderMs: null });
  clearFrames();
  if (image) recordFrame(image, pairs.map((p) => p.handle), true);
  ctx.live = pairs.map((p) => ({ ...p.handle }));
  setProgress(0);
  setStatus('running', 'Starting the drag…');
  send({ type: 'start', latent, pairs, mask: m ?? null, settings, ...stopDistanceParam() });
}

export function onStep(msg: Extract<WorkerResponse, { type: 'step' }>): void {
  state.step = msg.step;
  state.maxSteps = msg.maxSteps;
  state.confidences = [...msg.confidences];
  state.distances = [...msg.distances];
  state.msPerStep.push(msg.ms);
  state.stepTimings.push(msg.timings);
  state.stagesMs.drag = (state.stagesMs.drag ?? 0) + msg.ms;
  ctx.live = msg.points.map((p) => ({ ...p }));
  ctx.lastLoss = msg.loss;
  if (msg.image) recordFrame(msg.image, ctx.live);
  const worst = Math.max(...msg.distances);
  const left = (median(state.msPerStep) * (msg.maxSteps - msg.step)) / 1000;
  const leftText = ctx.mode === 'diffusion' ? ` · ≤ ${formatDuration(left * 1000)} left, then the final denoise` : '';
  scheduleDraw(msg.image, `Step ${msg.step} / ${msg.maxSteps} · farthest handle ${worst.toFixed(1)} px from its target · ${msg.ms.toFixed(0)} ms/step${leftText}`);
}

function stopMessage(msg: Extract<WorkerResponse, { type: 'done' }>, far: number, timing: string): void {
  const denoiseStopped = msg.stopReason === 'aborted' && !msg.image && ctx.mode === 'diffusion';
  if (msg.stopReason === 'converged') {
    hideBanner();
    setStatus('done', `Done: every handle reached its target in ${msg.steps} steps${timing}.`, frames.length > 1);
  } else if (msg.stopReason === 'max-steps') {
    showBanner('warn', `The drag stopped after ${msg.steps} steps without reaching the targets (farthest handle ${far.toFixed(1)} px away). Press Start to continue from here, or raise the steps or the learning rate.`);
    setStatus('done', `Stopped at the step limit, ${far.toFixed(1)} px from the targets.`, frames.length > 1);
  } else if (msg.stopReason === 'diverged') {
    showBanner('warn', `The drag left what the generator can draw after ${msg.steps} steps (its features blew up), so it was stopped; the image shows the best step before that. Lower the learning rate or drag a shorter way, then press Start.`);
    setStatus('done', `Stopped: the drag diverged; showing the best step, ${far.toFixed(1)} px from the targets.`, frames.length > 1);
  } else if (denoiseStopped) {
    showBanner('info', `Stopped during the final denoise: the drag's ${msg.steps} steps are kept, but the picture still shows the photo. Press Start (with the same points) to continue and render.`);
    setStatus('done', 'Stopped before the final image.', frames.length > 1);
  } else {
    showBanner('info', `Stopped by you at step ${state.step}; the farthest handle is ${far.toFixed(1)} px from its target. Press Start to continue.`);
    setStatus('done', 'Stopped.', frames.length > 1);
  }
}

export function onDone(msg: Extract<WorkerResponse, { type: 'done' }>): void {
  ctx.latent = msg.latent;
  state.setupMs = msg.setupMs;
  state.renderMs = msg.renderMs;
  state.stage = null;
  state.points = msg.points.map((p) => ({ ...p }));
  ctx.points.moveHandles(msg.points);
  ctx.live = null;
  cancelPendingImage();
  if (msg.image) {
    putImage(msg.image);
    recordFrame(msg.image, msg.points.map((p) => ({ ...p })), true);
  }
  state.stopReason = msg.stopReason;
  const dists = ctx.points.completePairs().map((p) => Math.hypot(p.target.x - p.handle.x, p.target.y - p.handle.y));
  const far = dists.length ? Math.max(...dists) : 0;
  const timing = state.msPerStep.length ? ` · ${median(state.msPerStep).toFixed(0)} ms/step` : '';
  const render = ctx.mode === 'diffusion' ? ` · final denoise ${formatDuration(msg.renderMs)}` : '';
  els.timing.textContent = `load ${state.loadMs?.toFixed(0)} ms · setup ${msg.setupMs.toFixed(0)} ms${timing}${render}`;
  setProgress(1);
  stopMessage(msg, far, timing);
  redraw();
}
