import { drawScene, refreshMaskOverlay } from './canvas-view.js';
import { els } from './dom.js';
import { clearFrames, frames } from './drag-run.js';
import { encodeGif } from './gif-encoder.js';
import { ctx } from './page-context.js';
import { readSettings, writeSettings } from './settings-form.js';
import { parseSession, serializeSession } from './session-file.js';
import { hideBanner, setStatus, showBanner } from './status-view.js';
import { send } from './worker-client.js';

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

/** A name for downloads: the photo's or the seed's. */
function baseName(): string {
  return ctx.mode === 'diffusion' && ctx.photo ? `stabledrag-${ctx.photo.name.replace(/\.[^.]*$/, '')}` : `stabledrag-seed${ctx.seed}`;
}

function downloadGif(): void {
  const { info } = ctx;
  if (frames.length < 2 || !info) return;
  // Upscale small images so the GIF is watchable, and draw the points as in the page.
  const side = Math.max(256, info.imageWidth);
  const canvas = document.createElement('canvas');
  canvas.width = side;
  canvas.height = side;
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  const tmp = document.createElement('canvas');
  tmp.width = info.imageWidth;
  tmp.height = info.imageHeight;
  const tg = tmp.getContext('2d')!;
  const rgba = frames.map((f) => {
    tg.putImageData(new ImageData(new Uint8ClampedArray(f.image.data), f.image.width, f.image.height), 0, 0);
    drawScene(g, side, side, tmp, f.points, false);
    const d = g.getImageData(0, 0, side, side);
    return { data: d.data, width: side, height: side };
  });
  const gif = encodeGif(rgba, { delayMs: 60 });
  download(new Blob([gif as Uint8Array<ArrayBuffer>], { type: 'image/gif' }), `${baseName()}.gif`);
}

/**
 * Sessions hold a seed's latents. A photo's latent belongs to its inversion (and LoRA), which the
 * file does not carry, so in the diffusion mode the CLI's `--session` is the way to keep an edit.
 */
function saveSession(): void {
  const { info, latent, originalLatent, mask, points } = ctx;
  if (!info || !latent || !originalLatent) return;
  if (ctx.mode === 'diffusion') {
    showBanner('info', 'Sessions of photo edits are not saved in the page (the file would need the photo\'s inversion and LoRA); download the PNG, or use the CLI: stabledrag drag --image photo.png --session edit.json.');
    return;
  }
  const text = serializeSession({
    model: info.name, resolution: info.imageWidth, seed: ctx.seed, originalLatent, latent,
    pairs: points.completePairs(), mask: mask && mask.paintedPixels > 0 ? new Uint8Array(mask.data) : null, settings: readSettings(),
  });
  download(new Blob([text], { type: 'application/json' }), `stabledrag-session-seed${ctx.seed}.json`);
}

async function loadSession(file: File): Promise<void> {
  const { info } = ctx;
  if (!info) return;
  try {
    const s = parseSession(await file.text());
    if (s.model !== info.name || s.resolution !== info.imageWidth) {
      throw new Error(`It was saved with model "${s.model}" (${s.resolution} px) but "${info.name}" (${info.imageWidth} px) is loaded; pick that model first.`);
    }
    ctx.seed = s.seed;
    els.seed.value = String(s.seed);
    ctx.originalLatent = s.originalLatent;
    ctx.latent = s.latent;
    ctx.points.load(s.pairs);
    ctx.mask?.clear();
    if (s.mask) ctx.mask?.load(s.mask);
    refreshMaskOverlay();
    writeSettings(s.settings);
    clearFrames();
    hideBanner();
    setStatus('sampling', 'Rendering the saved latent…');
    send({ type: 'render', latent: s.latent });
  } catch (error) {
    showBanner('error', `Could not load that session file: ${(error as Error).message}`);
  }
}

export function initFilesPanel(): void {
  document.getElementById('download-png')!.addEventListener('click', () => {
    els.native.toBlob((blob) => blob && download(blob, `${baseName()}.png`), 'image/png');
  });
  els.gif.addEventListener('click', downloadGif);
  document.getElementById('save-session')!.addEventListener('click', saveSession);
  els.loadSession.addEventListener('change', () => {
    const file = els.loadSession.files?.[0];
    els.loadSession.value = '';
    if (file) void loadSession(file);
  });
}
