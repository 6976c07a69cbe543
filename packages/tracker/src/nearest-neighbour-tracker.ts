import type { FeatureMap, Point, PointTracker, TrackResult } from '@stabledrag/core';
import { DEFAULT_TRACK_RADIUS } from './defaults.js';
import { checkFeatureMap, checkPoints, createWindow, fail, sampleWindow, type WindowSamples } from './window.js';

export interface NearestNeighbourTrackerOptions {
  /** r2, image pixels; default {@link DEFAULT_TRACK_RADIUS}. */
  readonly radius?: number;
  /** Feature distance; default 'l2' (DragGAN's code). */
  readonly norm?: 'l1' | 'l2';
}

/**
 * DragGAN's point tracking: the candidate of the (2·r2+1)² window whose feature is nearest to the
 * step-0 handle feature f_i. Confidence = exp(−d / ν_i), ν_i the mean distance from f_i to the
 * other step-0 window features — the fused score of Eq. 2 with λ = 1.
 */
export class NearestNeighbourTracker implements PointTracker {
  readonly name: string;
  readonly radius: number;
  readonly norm: 'l1' | 'l2';
  private templates: Float32Array[] = [];
  private normalisers: number[] = [];
  private channels = 0;
  private win: WindowSamples | null = null;

  constructor(options: NearestNeighbourTrackerOptions = {}) {
    this.radius = options.radius ?? DEFAULT_TRACK_RADIUS;
    this.norm = options.norm ?? 'l2';
    if (!Number.isInteger(this.radius) || this.radius < 0) fail(`radius must be a non-negative integer, got ${this.radius}.`);
    if (this.norm !== 'l1' && this.norm !== 'l2') fail(`norm must be 'l1' or 'l2', got '${String(this.norm)}'.`);
    this.name = `nearest-neighbour-${this.norm}`;
  }

  init(features0: FeatureMap, handles: readonly Point[]): void {
    checkFeatureMap(features0, `${this.name}.init(features0)`);
    checkPoints(features0, handles, null, `${this.name}.init`);
    const C = features0.channels;
    this.channels = C;
    this.win = createWindow(this.radius, C);
    const win = this.win;
    const centre = this.radius * win.side + this.radius;
    this.templates = [];
    this.normalisers = [];
    handles.forEach((p, i) => {
      sampleWindow(features0, p, win, i, `${this.name}.init`);
      const f = win.samples.slice(centre * C, centre * C + C);
      let sum = 0;
      let m = 0;
      for (let n = 0; n < win.count; n++) {
        if (n === centre || win.valid[n] === 0) continue;
        sum += this.distance(win.samples, n * C, f);
        m++;
      }
      const nu = m > 0 ? sum / m : 0;
      this.templates.push(f);
      this.normalisers.push(nu > 1e-30 ? nu : 1);
    });
  }

  private distance(s: Float32Array, o: number, f: Float32Array): number {
    let d = 0;
    const C = f.length;
    if (this.norm === 'l1') {
      for (let c = 0; c < C; c++) d += Math.abs(s[o + c]! - f[c]!);
      return d;
    }
    for (let c = 0; c < C; c++) {
      const e = s[o + c]! - f[c]!;
      d += e * e;
    }
    return Math.sqrt(d);
  }

  track(features: FeatureMap, current: readonly Point[]): TrackResult[] {
    const win = this.win;
    if (win === null) fail(`${this.name}.track: call init(features0, handles) first.`);
    checkFeatureMap(features, `${this.name}.track(features)`);
    if (features.channels !== this.channels) {
      fail(`${this.name}.track: the map has ${features.channels} channels but the templates have ${this.channels}.`);
    }
    checkPoints(features, current, this.templates.length, `${this.name}.track`);
    const C = this.channels;
    return current.map((p, i) => {
      sampleWindow(features, p, win, i, `${this.name}.track`);
      const f = this.templates[i]!;
      let best = -1;
      let bestD = Infinity;
      let bestD2 = Infinity;
      for (let n = 0; n < win.count; n++) {
        if (win.valid[n] === 0) continue;
        const d = this.distance(win.samples, n * C, f);
        const dx = (n % win.side) - win.radius;
        const dy = Math.floor(n / win.side) - win.radius;
        const d2 = dx * dx + dy * dy;
        if (d < bestD || (d === bestD && d2 < bestD2)) {
          best = n;
          bestD = d;
          bestD2 = d2;
        }
      }
      const q = win.points[best]!;
      return { point: { x: q.x, y: q.y }, confidence: Math.exp(-bestD / this.normalisers[i]!) };
    });
  }
}
