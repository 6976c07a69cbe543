import { describe, expect, it } from 'vitest';
import { StableDragError, type FeatureMap, type Point, type PointTracker } from '@stabledrag/core';
import { DiscriminativeTracker } from './discriminative-tracker.js';
import { NearestNeighbourTracker } from './nearest-neighbour-tracker.js';
import { scoreWindow } from './score-map.js';
import { SyntheticScene, mulberry32, randomMap } from './synthetic.js';

const makers: [string, () => PointTracker][] = [
  ['nearest-neighbour l2', () => new NearestNeighbourTracker()],
  ['nearest-neighbour l1', () => new NearestNeighbourTracker({ norm: 'l1' })],
  ['discriminative closed form', () => new DiscriminativeTracker()],
  ['discriminative iterative', () => new DiscriminativeTracker({ solver: 'iterative' })],
];

/** A smooth scene (no repeats), shifted by an integer number of image pixels. */
function smoothPair(shift: Point): [FeatureMap, FeatureMap] {
  const scene = new SyntheticScene(
    { channels: 24, size: 32, scale: 2, period: 8, textureAmplitude: 0, identityAmplitude: 1 },
    mulberry32(11),
  );
  const noise = { jitter: 0, white: 0 };
  return [scene.render({ x: 0, y: 0 }, noise, mulberry32(1)), scene.render(shift, noise, mulberry32(2))];
}

describe.each(makers)('%s', (_name, make) => {
  it('finds the handle at offset 0 on the step-0 map, sub-pixel position kept', () => {
    const F0 = randomMap(mulberry32(3), 16, 20, 20, 2);
    const t = make();
    const handles = [
      { x: 10.25, y: 20.5 },
      { x: 30, y: 7 },
    ];
    t.init(F0, handles);
    const r = t.track(F0, handles);
    expect(r.map((x) => x.point)).toEqual(handles);
    for (const x of r) expect(x.confidence).toBeGreaterThan(0);
  });

  it('follows a known translation of a smooth scene', () => {
    const shift = { x: 3, y: -2 };
    const [F0, F1] = smoothPair(shift);
    const t = make();
    const p = { x: 30, y: 34 };
    t.init(F0, [p]);
    const [r] = t.track(F1, [p]);
    expect(r!.point.x).toBe(33);
    expect(r!.point.y).toBe(32);
  });

  it('throws INVALID_INPUT on bad input', () => {
    const F0 = randomMap(mulberry32(3), 8, 10, 10, 2);
    const t = make();
    expect(() => t.track(F0, [{ x: 1, y: 1 }])).toThrow(/init/);
    t.init(F0, [
      { x: 5, y: 5 },
      { x: 9, y: 9 },
    ]);
    const err = (f: () => unknown): StableDragError => {
      try {
        f();
      } catch (e) {
        return e as StableDragError;
      }
      throw new Error('did not throw');
    };
    const off = err(() => t.track(F0, [{ x: 5, y: 5 }, { x: 25, y: 3 }]));
    expect(off).toBeInstanceOf(StableDragError);
    expect(off.code).toBe('INVALID_INPUT');
    expect(off.message).toMatch(/handle 1 .*outside the map.*\(25, 3\)/);
    expect(() => t.track(F0, [{ x: 5, y: 5 }])).toThrow(/got 1 points, expected 2/);
    const other = randomMap(mulberry32(4), 9, 10, 10, 2);
    expect(() => t.track(other, [{ x: 5, y: 5 }, { x: 9, y: 9 }])).toThrow(/9 channels .* 8/);
    const data = F0.data.slice();
    data[3 * 100 + 4 * 10 + 4] = NaN;
    expect(() => t.track({ ...F0, data }, [{ x: 5, y: 5 }, { x: 9, y: 9 }])).toThrow(/NaN/);
    expect(() => t.init(F0, [{ x: Number.NaN, y: 1 }])).toThrow(/handle 0 is not a finite point/);
  });

  it('never leaves the image near a border', () => {
    const F0 = randomMap(mulberry32(5), 8, 12, 12, 2);
    const F1 = randomMap(mulberry32(6), 8, 12, 12, 2);
    const t = make();
    t.init(F0, [{ x: 0, y: 23 }]);
    const [r] = t.track(F1, [{ x: 0, y: 23 }]);
    expect(r!.point.x).toBeGreaterThanOrEqual(-0.5);
    expect(r!.point.y).toBeLessThanOrEqual(23.5);
  });
});

describe('DiscriminativeTracker', () => {
  it('reports s_i = max of the fused score map', () => {
    const [F0, F1] = smoothPair({ x: 1, y: 1 });
    const t = new DiscriminativeTracker({ radius: 6 });
    const p = { x: 30, y: 30 };
    t.init(F0, [p]);
    const [r] = t.track(F1, [p]);
    const map = scoreWindow(F1, p, t.models[0]!, { lambda: 0.3 });
    let max = -Infinity;
    for (const s of map.scores) max = Math.max(max, s);
    expect(r!.confidence).toBe(max);
    expect(map.best).toEqual(r!.point);
    // λ = 1 reduces to the normalised feature difference: exactly 1 at a perfect match.
    expect(scoreWindow(F0, p, t.models[0]!, { lambda: 1 }).bestScore).toBe(1);
  });

  it('rejects λ outside [0, 1]', () => {
    expect(() => new DiscriminativeTracker({ lambda: 1.5 })).toThrow(StableDragError);
  });
});

describe('distractors: repeated texture + diffusion-like noise', () => {
  // Over 24 seeded drags of 8 steps: the baseline confuses the handle with its look-alikes one
  // texture period away; the fused tracker must at least halve its failure rate.
  it('the fused tracker fails at most half as often as the nearest neighbour', () => {
    const trials = 24;
    const steps = 8;
    const fails = [0, 0];
    for (let s = 0; s < trials; s++) {
      const rand = mulberry32(500 + s);
      const scene = new SyntheticScene({ channels: 32, size: 40, scale: 2, period: 8, identityAmplitude: 0.35 }, rand);
      const th = 2 * Math.PI * rand();
      const d = { x: 2 * Math.cos(th), y: 2 * Math.sin(th) };
      const p0 = { x: 39, y: 40 };
      const noise = { jitter: 0.5, white: 0.03 };
      const trackers = [new NearestNeighbourTracker(), new DiscriminativeTracker()];
      const F0 = scene.render({ x: 0, y: 0 }, noise, rand);
      trackers.forEach((t) => t.init(F0, [p0]));
      const cur = [p0, p0];
      for (let t = 1; t <= steps; t++) {
        const F = scene.render({ x: d.x * t, y: d.y * t }, noise, rand);
        trackers.forEach((tr, k) => {
          cur[k] = tr.track(F, [cur[k]!])[0]!.point;
        });
      }
      const truth = { x: p0.x + d.x * steps, y: p0.y + d.y * steps };
      cur.forEach((q, k) => {
        if (Math.hypot(q.x - truth.x, q.y - truth.y) > 3) fails[k] = fails[k]! + 1;
      });
    }
    expect(fails[0]).toBeGreaterThanOrEqual(5); // the suite is hard for the baseline
    expect(fails[1]! * 2).toBeLessThanOrEqual(fails[0]!);
  });
});
