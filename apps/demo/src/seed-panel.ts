import { putImage, redraw } from './canvas-view.js';
import { els } from './dom.js';
import { clearFrames } from './drag-run.js';
import { ctx } from './page-context.js';
import type { WorkerResponse } from './protocol.js';
import { setStatus, showBanner } from './status-view.js';
import { send } from './worker-client.js';

/** Asks the worker for the image of a seed (GAN and the reference backend). */
export function sample(newSeed: number): void {
  ctx.seed = newSeed;
  els.seed.value = String(newSeed);
  clearFrames();
  setStatus('sampling', `Sampling seed ${newSeed}…`);
  send({ type: 'sample', seed: newSeed });
}

export function onSampled(msg: Extract<WorkerResponse, { type: 'sampled' }>): void {
  ctx.originalLatent = msg.latent;
  ctx.latent = msg.latent;
  putImage(msg.image);
  setStatus('ready', 'Click a handle, then its target.');
  redraw();
}

/** Back to the seed's own image: the worker renders the original latent. */
export function resetSeedImage(): void {
  if (!ctx.originalLatent) return;
  ctx.latent = ctx.originalLatent;
  clearFrames();
  setStatus('sampling', 'Restoring the original image…');
  send({ type: 'render', latent: ctx.originalLatent });
}

export function initSeedPanel(): void {
  els.seed.addEventListener('change', () => {
    const s = Number(els.seed.value);
    if (Number.isInteger(s) && s >= 0) sample(s);
    else showBanner('warn', 'A seed is a whole number, 0 or more.');
  });
  document.getElementById('random-seed')!.addEventListener('click', () => sample(Math.floor(Math.random() * 100_000)));
}
