import { describe, expect, it } from 'vitest';
import type { FeatureMap, Point } from '@stabledrag/core';
import { DiscriminativeTracker } from './discriminative-tracker.js';
import { normaliseResponse } from './score-map.js';
import { SyntheticScene, inflateDisc, mulberry32 } from './synthetic.js';

/** A copy of F with the features of a disc (radius 4 image px) multiplied by `factor`. */
function inflate(F: FeatureMap, centre: Point, factor: number): FeatureMap {
  return inflateDisc({ ...F, data: F.data.slice() }, centre, factor);
}

function scene(seed: number): SyntheticScene {
  return new SyntheticScene({ channels: 32, size: 40, scale: 2, period: 8, identityAmplitude: 0.35 }, mulberry32(seed));
}
const quiet = { jitter: 0, white: 0 };

describe('normaliseResponse', () => {
  it('is the raw response for "none", clamps to [0, 1] and calibrates by the template response otherwise', () => {
    expect(normaliseResponse(3.7, 1, 1, 0.5, 'none')).toBe(3.7);
    // same norm: g / g0
    expect(normaliseResponse(0.25, 4, 4, 0.5, 'magnitude')).toBeCloseTo(0.5, 12);
    // features 3× the template's norm (9× the square): magnitude divides by 9, cosine by 3
    expect(normaliseResponse(0.9, 36, 4, 0.5, 'magnitude')).toBeCloseTo(0.2, 12);
    expect(normaliseResponse(0.9, 36, 4, 0.5, 'cosine')).toBeCloseTo(0.6, 12);
    // smaller features are not boosted by 'magnitude'
    expect(normaliseResponse(0.2, 1, 4, 0.5, 'magnitude')).toBeCloseTo(0.4, 12);
    expect(normaliseResponse(2, 4, 4, 0.5, 'magnitude')).toBe(1);
    expect(normaliseResponse(-1, 4, 4, 0.5, 'cosine')).toBe(0);
  });
});

describe('bounded confidence (issue #12)', () => {
  it('is 1 where the handle is found as it was, and stays in [0, 1] on any map', () => {
    const s = scene(7);
    const F0 = s.render({ x: 0, y: 0 }, quiet, mulberry32(1));
    const p = { x: 39, y: 40 };
    const t = new DiscriminativeTracker();
    t.init(F0, [p]);
    expect(t.track(F0, [p])[0]!.confidence).toBeCloseTo(1, 6);
    for (const factor of [0.2, 3, 50]) {
      const c = t.track(inflate(F0, p, factor), [p])[0]!.confidence;
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(1);
    }
  });

  it('falls as the features at the handle stop resembling the template', () => {
    const s = scene(8);
    const F0 = s.render({ x: 0, y: 0 }, quiet, mulberry32(1));
    const p = { x: 39, y: 40 };
    const t = new DiscriminativeTracker();
    t.init(F0, [p]);
    // Unrelated content in the whole window: about the background level e^-1, not a match.
    const other = scene(99).render({ x: 0, y: 0 }, quiet, mulberry32(2));
    expect(t.track(other, [p])[0]!.confidence).toBeLessThan(0.45);
    // The handle's content moved 30 px away, out of the window: only look-alikes remain (the
    // texture repeats every 8 px): clearly less than a perfect match.
    const moved = s.render({ x: 30, y: 0 }, quiet, mulberry32(2));
    expect(t.track(moved, [p])[0]!.confidence).toBeLessThan(0.8);
    // Inflating the handle's features 5× makes them resemble the template less, not more.
    expect(t.track(inflate(F0, p, 5), [p])[0]!.confidence).toBeLessThan(0.6);
  });

  it('is not drawn to a region whose features grow, where the unbounded paper formula is', () => {
    let boundedFails = 0;
    let rawFails = 0;
    for (let seed = 0; seed < 8; seed++) {
      const s = scene(100 + seed);
      const rand = mulberry32(seed);
      const p0 = { x: 39, y: 40 };
      const blob = { x: 45, y: 40 };
      const F0 = s.render({ x: 0, y: 0 }, quiet, rand);
      const bounded = new DiscriminativeTracker();
      const raw = new DiscriminativeTracker({ normalisation: 'none' });
      bounded.init(F0, [p0]);
      raw.init(F0, [p0]);
      let pb = p0;
      let pr = p0;
      for (let step = 1; step <= 6; step++) {
        const F = inflate(s.render({ x: 0, y: 0 }, { jitter: 0.1, white: 0.01 }, rand), blob, 1.4 ** step);
        const b = bounded.track(F, [pb])[0]!;
        const r = raw.track(F, [pr])[0]!;
        pb = b.point;
        pr = r.point;
        expect(b.confidence).toBeLessThanOrEqual(1);
      }
      if (Math.hypot(pb.x - p0.x, pb.y - p0.y) > 3) boundedFails++;
      if (Math.hypot(pr.x - p0.x, pr.y - p0.y) > 3) rawFails++;
    }
    expect(rawFails).toBeGreaterThanOrEqual(4); // the failure of issue #12, reproduced
    expect(boundedFails).toBeLessThanOrEqual(1);
  });

  it('grows with the features under the unbounded paper formula, not under the bounded one', () => {
    const F0 = scene(9).render({ x: 0, y: 0 }, quiet, mulberry32(1));
    const p = { x: 39, y: 40 };
    const raw = new DiscriminativeTracker({ normalisation: 'none' });
    const bounded = new DiscriminativeTracker();
    raw.init(F0, [p]);
    bounded.init(F0, [p]);
    const F = inflate(F0, p, 20);
    expect(raw.track(F, [p])[0]!.confidence).toBeGreaterThan(3 * raw.track(F0, [p])[0]!.confidence);
    expect(bounded.track(F, [p])[0]!.confidence).toBeLessThan(bounded.track(F0, [p])[0]!.confidence);
  });

  it('rejects an unknown normalisation with a one-line message', () => {
    expect(() => new DiscriminativeTracker({ normalisation: 'l2' as never })).toThrow(/normalisation must be 'gated', 'magnitude', 'cosine' or 'none'/);
  });
});
