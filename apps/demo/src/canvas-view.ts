import type { Point, RgbaImage } from '@stabledrag/core';
import { els } from './dom.js';
import { imageToCanvas } from './edit-state.js';
import { ctx, state } from './page-context.js';

/** Shows an image at its own size in the hidden native canvas, which the view scales up. */
export function putImage(img: RgbaImage): void {
  ctx.image = img;
  const { native } = els;
  if (native.width !== img.width || native.height !== img.height) {
    native.width = img.width;
    native.height = img.height;
  }
  native.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
}

let maskCanvas: HTMLCanvasElement | null = null;

export function refreshMaskOverlay(): void {
  const { mask } = ctx;
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

function drawArrow(g: CanvasRenderingContext2D, from: Point, to: Point): void {
  const len = Math.hypot(to.x - from.x, to.y - from.y);
  if (len < 1) return;
  const ux = (to.x - from.x) / len;
  const uy = (to.y - from.y) / len;
  const head = Math.min(12, len / 2);
  g.strokeStyle = 'rgba(255,255,255,0.9)';
  g.fillStyle = 'rgba(255,255,255,0.9)';
  g.lineWidth = 2;
  g.beginPath();
  g.moveTo(from.x, from.y);
  g.lineTo(to.x - ux * head, to.y - uy * head);
  g.stroke();
  g.beginPath();
  g.moveTo(to.x, to.y);
  g.lineTo(to.x - ux * head - uy * head * 0.5, to.y - uy * head + ux * head * 0.5);
  g.lineTo(to.x - ux * head + uy * head * 0.5, to.y - uy * head - ux * head * 0.5);
  g.closePath();
  g.fill();
}

function drawDot(g: CanvasRenderingContext2D, p: Point, colour: string, r = 6): void {
  g.beginPath();
  g.arc(p.x, p.y, r, 0, Math.PI * 2);
  g.fillStyle = colour;
  g.fill();
  g.lineWidth = 1.5;
  g.strokeStyle = 'white';
  g.stroke();
}

/** Draws image + mask + points on a canvas context of any size (the view, GIF frames). */
export function drawScene(g: CanvasRenderingContext2D, w: number, h: number, source: CanvasImageSource | null, handles: readonly Point[], withMask: boolean): void {
  const { mask, info } = ctx;
  g.clearRect(0, 0, w, h);
  // Bilinear upscaling: 'high' quality costs tens of ms per frame where the canvas is rasterised in
  // software, time the main thread takes from the drag worker on a small machine.
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'low';
  if (source) g.drawImage(source, 0, 0, w, h);
  if (withMask && mask && maskCanvas && mask.paintedPixels > 0) {
    g.imageSmoothingEnabled = false;
    g.drawImage(maskCanvas, 0, 0, w, h);
  }
  if (!info) return;
  const W = info.imageWidth;
  const H = info.imageHeight;
  const r = Math.max(3, w / 120);
  ctx.points.pairs.forEach((pair, i) => {
    const handle = handles[i] ?? pair.handle;
    const a = imageToCanvas(handle, w, h, W, H);
    if (pair.target) {
      const b = imageToCanvas(pair.target, w, h, W, H);
      drawArrow(g, a, b);
      drawDot(g, b, '#2d6ae5', r);
    }
    drawDot(g, a, '#e5322d', r);
  });
}

function currentHandles(): Point[] {
  const { live, points } = ctx;
  if (live) {
    // Live points belong to the complete pairs; map them back onto the draft list.
    const out: Point[] = [];
    let k = 0;
    for (const d of points.pairs) out.push(d.target ? (live[k++] ?? d.handle) : d.handle);
    return out;
  }
  return points.pairs.map((d) => d.handle);
}

export function publishPoints(): void {
  const complete = ctx.points.completePairs();
  state.points = ctx.live ? ctx.live.map((p) => ({ ...p })) : complete.map((p) => ({ ...p.handle }));
  state.targets = complete.map((p) => ({ ...p.target }));
}

function renderTable(): void {
  const rows = ctx.points.completePairs().map((pair, i) => {
    const h = state.points[i] ?? pair.handle;
    const d = Math.hypot(pair.target.x - h.x, pair.target.y - h.y);
    const c = state.confidences[i];
    const fmt = (p: Point): string => `(${p.x.toFixed(0)}, ${p.y.toFixed(0)})`;
    return `<tr><td>${i + 1}</td><td class="red">${fmt(h)}</td><td class="blue">${fmt(pair.target)}</td><td>${d.toFixed(1)} px</td><td>${c === undefined ? '—' : c.toFixed(3)}</td><td>${i === 0 && ctx.live ? ctx.lastLoss.toExponential(2) : ''}</td></tr>`;
  });
  els.tableBody.innerHTML = rows.join('');
}

export function redraw(): void {
  const { view } = els;
  const rect = view.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(rect.width * dpr));
  const h = Math.max(1, Math.round(rect.height * dpr));
  if (view.width !== w || view.height !== h) {
    view.width = w;
    view.height = h;
  }
  drawScene(view.getContext('2d')!, w, h, ctx.image ? els.native : null, currentHandles(), els.showMask.checked);
  publishPoints();
  renderTable();
}

let pendingImage: RgbaImage | null = null;
let pendingStatus: string | null = null;
let drawScheduled = false;

/** Steps can arrive faster than frames (the blob backend takes ~1 ms): draw once per frame. */
export function scheduleDraw(image?: RgbaImage, status?: string): void {
  if (image) pendingImage = image;
  if (status) pendingStatus = status;
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => {
    drawScheduled = false;
    if (pendingImage) putImage(pendingImage);
    pendingImage = null;
    if (pendingStatus && (state.status === 'running' || state.status === 'preparing' || state.status === 'sampling')) els.status.textContent = pendingStatus;
    pendingStatus = null;
    if (state.status === 'running' && !state.stage) els.progressBar.style.width = `${(100 * state.step) / Math.max(1, state.maxSteps)}%`;
    redraw();
  });
}

/** Drops a frame's image still waiting to be drawn (the final image replaces it). */
export function cancelPendingImage(): void {
  pendingImage = null;
}

export function setProgress(fraction: number): void {
  els.progressBar.style.width = `${Math.round(100 * Math.min(1, Math.max(0, fraction)))}%`;
}
