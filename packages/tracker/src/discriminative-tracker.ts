import type { FeatureMap, Point, PointTracker, TrackResult } from '@stabledrag/core';
import { DEFAULT_FUSION_LAMBDA, DEFAULT_RESPONSE_NORMALISATION, DEFAULT_TRACK_RADIUS } from './defaults.js';
import { learnFilter, type DiscriminativeModel, type LearnFilterOptions } from './discriminative-filter.js';
import { fusedScores, type ResponseNormalisation } from './score-map.js';
import { checkFeatureMap, checkPoints, createWindow, fail, sampleWindow, type WindowSamples } from './window.js';

export interface DiscriminativeTrackerOptions extends LearnFilterOptions {
  /** λ of Eq. 2; default {@link DEFAULT_FUSION_LAMBDA}. */
  readonly lambda?: number;
  /** How the filter response is bounded; default {@link DEFAULT_RESPONSE_NORMALISATION} ('none' = the unbounded paper formula). */
  readonly normalisation?: ResponseNormalisation;
}

/**
 * StableDrag's discriminative point tracking (Eq. 2–3). init learns one 1×C×1×1 filter z_i per
 * handle on the step-0 window (closed form by default); track moves each handle to the argmax of
 * the fused score over integer image-pixel offsets within r2 and reports s_i = max S.
 */
export class DiscriminativeTracker implements PointTracker {
  readonly name: string;
  readonly radius: number;
  readonly lambda: number;
  readonly normalisation: ResponseNormalisation;
  private readonly options: LearnFilterOptions;
  private _models: DiscriminativeModel[] = [];
  private channels = 0;
  private win: WindowSamples | null = null;
  private scores: Float64Array = new Float64Array(0);

  constructor(options: DiscriminativeTrackerOptions = {}) {
    this.radius = options.radius ?? DEFAULT_TRACK_RADIUS;
    this.lambda = options.lambda ?? DEFAULT_FUSION_LAMBDA;
    this.normalisation = options.normalisation ?? DEFAULT_RESPONSE_NORMALISATION;
    if (!['gated', 'magnitude', 'cosine', 'none'].includes(this.normalisation)) {
      fail(`normalisation must be 'gated', 'magnitude', 'cosine' or 'none', got '${String(this.normalisation)}'.`);
    }
    if (!Number.isInteger(this.radius) || this.radius < 0) fail(`radius must be a non-negative integer, got ${this.radius}.`);
    if (!(this.lambda >= 0 && this.lambda <= 1)) fail(`lambda must lie in [0, 1], got ${this.lambda}.`);
    this.options = { ...options, radius: this.radius };
    this.name = 'discriminative';
  }

  /** The learned per-handle models (template f_i, filter z_i, normaliser ν_i), after init. */
  get models(): readonly DiscriminativeModel[] {
    return this._models;
  }

  init(features0: FeatureMap, handles: readonly Point[]): void {
    checkFeatureMap(features0, `${this.name}.init(features0)`);
    checkPoints(features0, handles, null, `${this.name}.init`);
    this.channels = features0.channels;
    this._models = handles.map((p, i) => learnFilter(features0, p, this.options, i));
    this.win = createWindow(this.radius, this.channels);
    this.scores = new Float64Array(this.win.count);
  }

  track(features: FeatureMap, current: readonly Point[]): TrackResult[] {
    const win = this.win;
    if (win === null) fail(`${this.name}.track: call init(features0, handles) first.`);
    checkFeatureMap(features, `${this.name}.track(features)`);
    if (features.channels !== this.channels) {
      fail(`${this.name}.track: the map has ${features.channels} channels but the templates have ${this.channels}.`);
    }
    checkPoints(features, current, this._models.length, `${this.name}.track`);
    return current.map((p, i) => {
      sampleWindow(features, p, win, i, `${this.name}.track`);
      const best = fusedScores(win, this._models[i]!, this.lambda, this.scores, this.normalisation);
      const q = win.points[best]!;
      return { point: { x: q.x, y: q.y }, confidence: this.scores[best]! };
    });
  }
}
