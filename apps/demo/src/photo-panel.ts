import { putImage, redraw, setProgress } from './canvas-view.js';
import { els } from './dom.js';
import { ctx, params, resetMask, state } from './page-context.js';
import { loadPhoto } from './photo-file.js';
import type { WorkerResponse } from './protocol.js';
import { hideBanner, setStatus, showBanner } from './status-view.js';
import { formatDuration } from './stage-text.js';
import { send } from './worker-client.js';
import { clearFrames } from './drag-run.js';
import { refreshMaskOverlay } from './canvas-view.js';

/** Photos the page offers to start from (served at samples/; licences in samples/LICENSES.md). */
export const SAMPLE_PHOTOS: readonly { readonly file: string; readonly label: string }[] = [
  { file: 'face.png', label: 'Face (a render of the training world)' },
  { file: 'astronaut.png', label: 'Astronaut' },
  { file: 'chelsea.png', label: 'Cat' },
  { file: 'coffee.png', label: 'Coffee' },
];

function loraSteps(): number {
  const n = Number(els.loraSteps.value);
  return Number.isInteger(n) && n >= 0 && n <= 1000 ? n : 0;
}

/** Sends the fitted photo to the worker: LoRA (if asked), VAE encode, DDIM inversion. */
function prepare(): void {
  const photo = ctx.photo;
  if (!photo) return;
  const steps = loraSteps();
  state.photo = { name: photo.name, loraSteps: steps, cached: null };
  state.stagesMs = {};
  ctx.latent = null;
  setProgress(0);
  setStatus('preparing', steps > 0 ? `Fine-tuning LoRA on "${photo.name}"…` : `Inverting "${photo.name}"…`);
  send({ type: 'photo', image: { data: new Uint8ClampedArray(photo.image.data), width: photo.image.width, height: photo.image.height }, loraSteps: steps });
}

/** Fits a photo to the model, shows it and prepares it; bad files get a one-line banner and change nothing. */
export async function choosePhoto(file: Blob & { readonly name: string }): Promise<void> {
  const info = ctx.info;
  if (!info || ctx.mode !== 'diffusion') return;
  let fitted;
  try {
    fitted = await loadPhoto(file, info.imageWidth);
  } catch (error) {
    showBanner('error', (error as Error).message);
    return;
  }
  hideBanner();
  ctx.photo = { image: fitted.image, name: fitted.name };
  els.photoNotes.textContent = fitted.notices.length ? fitted.notices.join(' ') : `${fitted.name}: ${info.imageWidth}×${info.imageHeight}, used as it is.`;
  ctx.points.reset();
  resetMask(info.imageWidth, info.imageHeight);
  refreshMaskOverlay();
  clearFrames();
  putImage(fitted.image);
  redraw();
  prepare();
}

async function chooseSample(file: string): Promise<void> {
  try {
    const res = await fetch(new URL(`samples/${file}`, document.baseURI));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const blob = await res.blob();
    await choosePhoto(Object.assign(blob, { name: file }));
  } catch (error) {
    showBanner('error', `Could not fetch the sample photo ${file}: ${(error as Error).message}.`);
  }
}

/** The first photo after the model loads: `?photo=<sample file without .png>`, else the face. */
export function chooseInitialPhoto(): void {
  const wanted = params.get('photo');
  const sample = SAMPLE_PHOTOS.find((s) => s.file === `${wanted}.png`) ?? SAMPLE_PHOTOS[0]!;
  void chooseSample(sample.file);
}

export function onPhotoReady(msg: Extract<WorkerResponse, { type: 'photo-ready' }>): void {
  ctx.originalLatent = msg.latent;
  ctx.latent = msg.latent;
  state.stage = null;
  state.stagesMs = { ...msg.stagesMs };
  if (state.photo) state.photo.cached = msg.cached;
  setProgress(1);
  const spent = Object.values(msg.stagesMs).reduce((a, b) => a + (b ?? 0), 0);
  const how = msg.cached ? 'reused the earlier inversion' : `prepared in ${formatDuration(spent)}`;
  setStatus('ready', `Photo ${how}. Click a handle, then its target.`);
  redraw();
}

/** Back to the photo as chosen, before any drag (its inversion is cached: no new work). */
export function resetPhoto(): void {
  if (!ctx.photo || !ctx.originalLatent) return;
  ctx.latent = ctx.originalLatent;
  clearFrames();
  putImage(ctx.photo.image);
  setStatus('ready', 'Back to the photo as chosen.');
  redraw();
}

export function initPhotoPanel(): void {
  for (const s of SAMPLE_PHOTOS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = s.label.replace(/ \(.*\)$/, '');
    b.title = s.label;
    b.dataset.sample = s.file;
    b.addEventListener('click', () => void chooseSample(s.file));
    els.samples.append(b);
  }
  els.photoInput.addEventListener('change', () => {
    const file = els.photoInput.files?.[0];
    els.photoInput.value = '';
    if (file) void choosePhoto(file);
  });
  // Drop a photo on the image.
  els.view.addEventListener('dragover', (e) => {
    if (ctx.mode === 'diffusion') e.preventDefault();
  });
  els.view.addEventListener('drop', (e) => {
    if (ctx.mode !== 'diffusion') return;
    e.preventDefault();
    const file = e.dataTransfer?.files[0];
    if (file && !els.photoInput.disabled) void choosePhoto(file);
  });
  els.loraSteps.addEventListener('change', () => {
    if (ctx.photo) prepare();
  });
}
