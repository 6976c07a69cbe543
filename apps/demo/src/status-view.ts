import { els } from './dom.js';
import { ctx, state } from './page-context.js';
import type { Status } from './page-state.js';

export function showBanner(kind: 'error' | 'warn' | 'info', text: string): void {
  els.banner.className = kind;
  els.banner.textContent = text;
  els.banner.hidden = false;
}

export function hideBanner(): void {
  els.banner.hidden = true;
  els.banner.textContent = '';
}

/** Sets the status line and what may be pressed in that status; `framesReady` enables the GIF button. */
export function setStatus(status: Status, text: string, framesReady = false): void {
  state.status = status;
  els.status.textContent = text;
  const running = status === 'running' || status === 'stopping';
  const busy = running || status === 'loading' || status === 'sampling' || status === 'preparing';
  els.start.disabled = busy || status === 'error' || !ctx.image || !ctx.latent;
  // Stop works in every long stage: LoRA, inversion, the drag and the final denoise.
  els.stop.disabled = !(status === 'running' || status === 'preparing' || (status === 'sampling' && ctx.mode === 'diffusion'));
  for (const b of els.editButtons) b.disabled = busy || (status === 'error' && b.id !== 'defaults');
  els.gif.disabled = busy || !framesReady;
  els.seed.disabled = busy;
  els.loadSession.disabled = busy;
  els.loadSession.parentElement?.classList.toggle('disabled', busy);
  els.photoInput.disabled = busy;
  els.photoInput.parentElement?.classList.toggle('disabled', busy);
  for (const b of els.samples.querySelectorAll('button')) b.disabled = busy;
  els.loraSteps.disabled = busy;
  els.backend.disabled = running || status === 'preparing';
  els.provider.disabled = running || status === 'preparing';
}

export function fail(message: string): void {
  state.error = message;
  showBanner('error', message);
  setStatus('error', 'Error.');
}
