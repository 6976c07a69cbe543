import type { DragPair, Mask, Point } from '@stabledrag/core';

/** Clicks alternate handle → target; a handle waiting for its target is `pending`. */
export interface PairDraft {
  readonly handle: Point;
  readonly target: Point | null;
}

/**
 * The handle/target points a person has clicked. Pure data + rules, so it is unit-tested without
 * a DOM. Points are image pixels (pixel centres at integers, see `Point` in @stabledrag/core).
 */
export class PointState {
  private drafts: PairDraft[] = [];

  get pairs(): readonly PairDraft[] {
    return this.drafts;
  }

  /** Complete pairs only (a trailing handle without a target is left out). */
  completePairs(): DragPair[] {
    const out: DragPair[] = [];
    for (const d of this.drafts) if (d.target) out.push({ handle: d.handle, target: d.target });
    return out;
  }

  /** True when the last click placed a handle that still waits for its target. */
  get awaitingTarget(): boolean {
    const last = this.drafts[this.drafts.length - 1];
    return last !== undefined && last.target === null;
  }

  /** Adds a click: a new handle, or the target of the pending handle. Returns which it was. */
  click(p: Point): 'handle' | 'target' {
    const last = this.drafts[this.drafts.length - 1];
    if (last && last.target === null) {
      this.drafts[this.drafts.length - 1] = { handle: last.handle, target: p };
      return 'target';
    }
    this.drafts.push({ handle: p, target: null });
    return 'handle';
  }

  /** Removes the last placed point (a target first, then its handle). */
  undo(): void {
    const last = this.drafts[this.drafts.length - 1];
    if (!last) return;
    if (last.target) this.drafts[this.drafts.length - 1] = { handle: last.handle, target: null };
    else this.drafts.pop();
  }

  reset(): void {
    this.drafts = [];
  }

  /**
   * After a drag, the handles sit where the tracker left them, so the next Start continues from
   * there (DragGAN's GUI does the same). `points` follows the order of {@link completePairs}.
   */
  moveHandles(points: readonly Point[]): void {
    let k = 0;
    this.drafts = this.drafts.map((d) => {
      if (!d.target) return d;
      const p = points[k++];
      return p ? { handle: { x: p.x, y: p.y }, target: d.target } : d;
    });
  }

  /** Replaces all pairs (loading a session file). */
  load(pairs: readonly DragPair[]): void {
    this.drafts = pairs.map((p) => ({ handle: { ...p.handle }, target: { ...p.target } }));
  }
}

/**
 * The editable-region mask a person paints. 1 = editable (the "flexible" region of DragGAN's GUI).
 * While nothing is painted the whole image is editable and {@link toMask} returns undefined.
 */
export class MaskState {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  private count = 0;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height);
  }

  get paintedPixels(): number {
    return this.count;
  }

  /** Paints (value 1) or erases (value 0) a disc of `radius` image pixels around (x, y). */
  brush(x: number, y: number, radius: number, value: 0 | 1): void {
    const r2 = radius * radius;
    const x0 = Math.max(0, Math.floor(x - radius));
    const x1 = Math.min(this.width - 1, Math.ceil(x + radius));
    const y0 = Math.max(0, Math.floor(y - radius));
    const y1 = Math.min(this.height - 1, Math.ceil(y + radius));
    for (let j = y0; j <= y1; j++) {
      for (let i = x0; i <= x1; i++) {
        if ((i - x) ** 2 + (j - y) ** 2 > r2) continue;
        const k = j * this.width + i;
        if (this.data[k] !== value) {
          this.count += value === 1 ? 1 : -1;
          this.data[k] = value;
        }
      }
    }
  }

  /** Brushes along a segment so a fast pointer move leaves no gaps. */
  stroke(from: Point, to: Point, radius: number, value: 0 | 1): void {
    const len = Math.hypot(to.x - from.x, to.y - from.y);
    const n = Math.max(1, Math.ceil(len / Math.max(0.5, radius / 2)));
    for (let s = 0; s <= n; s++) {
      const t = s / n;
      this.brush(from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t, radius, value);
    }
  }

  clear(): void {
    this.data.fill(0);
    this.count = 0;
  }

  /** The mask to hand to the drag, or undefined when nothing is painted (all editable). */
  toMask(): Mask | undefined {
    if (this.count === 0) return undefined;
    return { data: new Uint8Array(this.data), width: this.width, height: this.height };
  }

  load(data: Uint8Array): void {
    if (data.length !== this.data.length) {
      throw new Error(`The saved mask has ${data.length} pixels; this image has ${this.data.length}.`);
    }
    this.count = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i] ? 1 : 0;
      this.data[i] = v;
      this.count += v;
    }
  }
}

/**
 * Canvas (CSS pixel) position → the image pixel under it (integer: pixel centres sit at integers), kept
 * inside the image so core's point validation never rejects a click on the canvas border.
 */
export function canvasToImage(
  offsetX: number,
  offsetY: number,
  displayWidth: number,
  displayHeight: number,
  imageWidth: number,
  imageHeight: number,
): Point {
  const clamp = (v: number, max: number): number => Math.min(max, Math.max(0, v));
  const x = (offsetX / displayWidth) * imageWidth - 0.5;
  const y = (offsetY / displayHeight) * imageHeight - 0.5;
  return { x: clamp(Math.round(x), imageWidth - 1), y: clamp(Math.round(y), imageHeight - 1) };
}

/** Image pixel → canvas position (centre of the pixel), the inverse of {@link canvasToImage}. */
export function imageToCanvas(p: Point, displayWidth: number, displayHeight: number, imageWidth: number, imageHeight: number): Point {
  return { x: ((p.x + 0.5) / imageWidth) * displayWidth, y: ((p.y + 0.5) / imageHeight) * displayHeight };
}
