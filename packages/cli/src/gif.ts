import * as gifencModule from 'gifenc';
import type { Point, RgbaImage } from '@stabledrag/core';
import { drawDrag, upscale } from './overlay.js';

// gifenc's package.json points Node at a CommonJS bundle whose named exports Node cannot see,
// while bundlers pick its ES module; take the functions from whichever shape arrived.
type Gifenc = typeof gifencModule.default;
const gifenc: Gifenc =
  typeof (gifencModule as Partial<Gifenc>).GIFEncoder === 'function' ? (gifencModule as unknown as Gifenc) : gifencModule.default;

export interface DragGifOptions {
  /** Milliseconds per frame. Default 60. */
  readonly delayMs?: number;
  /** How long the last frame stays, ms. Default 1500. */
  readonly holdLastMs?: number;
  /** Integer upscale so the drawn points stay readable on small images. Default: up to ~256 px. */
  readonly scale?: number;
}

/** Integer upscale that brings the longer side to about 256 px (never below 1). */
export function defaultGifScale(width: number, height: number): number {
  return Math.max(1, Math.round(256 / Math.max(width, height)));
}

/**
 * Encodes a drag as an animated GIF, one frame per step, with handles (red), targets (blue) and
 * arrows drawn. Frames are encoded as they arrive (each with its own 256-colour palette), so a
 * long drag never holds every frame in memory.
 */
export class DragGifWriter {
  private readonly encoder = gifenc.GIFEncoder();
  private readonly delayMs: number;
  private readonly holdLastMs: number;
  private readonly scaleOverride: number | undefined;
  private pending: { image: RgbaImage; handles: readonly Point[]; targets: readonly Point[] } | null = null;
  private frameCount = 0;
  private finished = false;

  constructor(options: DragGifOptions = {}) {
    this.delayMs = options.delayMs ?? 60;
    this.holdLastMs = options.holdLastMs ?? 1500;
    this.scaleOverride = options.scale;
  }

  get frames(): number {
    return this.frameCount + (this.pending ? 1 : 0);
  }

  /** Adds a frame. It is written when the next one arrives, so the last can be held longer. */
  add(image: RgbaImage, handles: readonly Point[], targets: readonly Point[]): void {
    if (this.finished) throw new Error('DragGifWriter.add() after finish().');
    if (this.pending) this.write(this.pending, this.delayMs);
    this.pending = { image, handles: [...handles], targets: [...targets] };
  }

  private write(frame: { image: RgbaImage; handles: readonly Point[]; targets: readonly Point[] }, delay: number): void {
    const scale = this.scaleOverride ?? defaultGifScale(frame.image.width, frame.image.height);
    const big = upscale(frame.image, scale);
    drawDrag(big, frame.handles, frame.targets, scale);
    const palette = gifenc.quantize(big.data, 256);
    const index = gifenc.applyPalette(big.data, palette);
    this.encoder.writeFrame(index, big.width, big.height, { palette, delay, repeat: 0 });
    this.frameCount++;
  }

  /** Writes the held frame and the trailer; returns the GIF file's bytes. */
  finish(): Uint8Array {
    if (!this.finished) {
      if (this.pending) this.write(this.pending, this.holdLastMs);
      this.pending = null;
      this.encoder.finish();
      this.finished = true;
    }
    if (this.frameCount === 0) throw new Error('DragGifWriter.finish(): no frame was added.');
    return this.encoder.bytes();
  }
}
