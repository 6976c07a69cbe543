import { describe, expect, it } from 'vitest';
import { StableDragError, sampleBilinear, type FeatureMap, type Mask, type Point, type SupervisionInput } from '@stabledrag/core';
import { bilinearTaps } from '@stabledrag/core';
import { discOffsets, fixedFeaturePixels, maskL1, shiftedL1 } from './motion-terms.js';
import { ConfidentSupervision, MotionSupervision, TemplateSupervision } from './supervision.js';
import { finiteDifferences, gaussian, mulberry32, probeIndices, randomMap } from './test-utils.js';

const C = 5;
const SIZE = 12;
const SCALE = 2; // 24×24 image

function setup(seed: number): { F0: FeatureMap; F: FeatureMap; mask: Mask } {
  const rand = mulberry32(seed);
  const F0 = randomMap(rand, C, SIZE, SIZE, SCALE);
  // F = F0 + noise: the mask term |F − F0| stays away from its kink at 0.
  const data = F0.data.map((v) => v + 0.5 * gaussian(rand));
  const F = { ...F0, data };
  // Editable: image columns 0..13 (feature columns 0..6 touch it); fixed: the rest.
  const m = new Uint8Array(24 * 24);
  for (let y = 0; y < 24; y++) for (let x = 0; x < 14; x++) m[y * 24 + x] = 1;
  return { F0, F, mask: { data: m, width: 24, height: 24 } };
}

const handles0: Point[] = [
  { x: 6.3, y: 7.7 },
  { x: 11.6, y: 14.2 },
];
const handles: Point[] = [
  { x: 7.1, y: 8.45 },
  { x: 12.35, y: 13.1 },
];
const targets: Point[] = [
  { x: 15.2, y: 12.9 },
  { x: 4.4, y: 18.3 },
];

function input(F: FeatureMap, confidences: number[], step = 1): SupervisionInput {
  return { features: F, handles, targets, confidences, step };
}

function unitStep(p: Point, t: Point): Point {
  const d = Math.hypot(t.x - p.x, t.y - p.y);
  return { x: (t.x - p.x) / d, y: (t.y - p.y) / d };
}

/** Reads F(p + o_k) for the disc as a K×C template (float32), the detached reference of Eq. 1. */
function detached(F: FeatureMap, p: Point, offsets: Point[]): Float32Array {
  return sampleBilinear(F, offsets.map((o) => ({ x: p.x + o.x, y: p.y + o.y })));
}

function expectGradMatches(grad: Float32Array, F: FeatureMap, f: (m: FeatureMap) => number, seed: number): void {
  const idx = probeIndices(grad, 60, mulberry32(seed));
  const { forward, backward } = finiteDifferences(F, idx, f);
  let gmax = 0;
  for (const g of grad) gmax = Math.max(gmax, Math.abs(g));
  expect(gmax).toBeGreaterThan(0);
  const tol = 1e-4 * gmax;
  let kinks = 0;
  idx.forEach((j, n) => {
    const g = grad[j]!;
    const fw = forward[n]!;
    const bw = backward[n]!;
    if (Math.abs(fw - bw) <= tol) {
      // Differentiable here: the central difference must match.
      expect(Math.abs((fw + bw) / 2 - g), `entry ${j}`).toBeLessThanOrEqual(tol);
    } else {
      // A kink within eps (|·| at 0): the gradient is one of the one-sided slopes.
      kinks++;
      expect(Math.min(Math.abs(fw - g), Math.abs(bw - g)), `entry ${j} at a kink`).toBeLessThanOrEqual(tol);
    }
  });
  expect(kinks).toBeLessThanOrEqual(Math.max(2, idx.length / 50));
}

describe('discOffsets', () => {
  it('is the integer disc dx² + dy² ≤ r²', () => {
    const d = discOffsets(3);
    expect(d.length).toBe(29);
    expect(d).toContainEqual({ x: 0, y: 0 });
    expect(d).toContainEqual({ x: -3, y: 0 });
    expect(d).not.toContainEqual({ x: 2, y: 3 });
    expect(discOffsets(0)).toEqual([{ x: 0, y: 0 }]);
  });
});

describe('bilinearTaps', () => {
  it('matches core sampleBilinear, borders included', () => {
    const F = randomMap(mulberry32(1), 3, 6, 7, 4);
    const idx = new Int32Array(4);
    const w = new Float64Array(4);
    for (const p of [
      { x: 5.3, y: 9.1 },
      { x: -0.5, y: 23.5 },
      { x: 27.2, y: 0 },
    ]) {
      bilinearTaps(F, p.x, p.y, idx, w, 0);
      const ref = sampleBilinear(F, [p]);
      for (let c = 0; c < 3; c++) {
        const o = c * 42;
        const v = w[0]! * F.data[o + idx[0]!]! + w[1]! * F.data[o + idx[1]!]! + w[2]! * F.data[o + idx[2]!]! + w[3]! * F.data[o + idx[3]!]!;
        expect(v).toBeCloseTo(ref[c]!, 5);
      }
    }
  });
});

describe('fixedFeaturePixels', () => {
  it('fixes a feature pixel only when every image pixel it covers is fixed', () => {
    // 4×2 map at scale 2 → 8×4 image; editable image pixel (4, 1) and the column x = 0.
    const m = new Uint8Array(32);
    m[1 * 8 + 4] = 1;
    for (let y = 0; y < 4; y++) m[y * 8] = 1;
    const fixed = Array.from(fixedFeaturePixels({ data: m, width: 8, height: 4 }, { width: 4, height: 2, scale: 2 }));
    // Feature (0,0),(0,1) touch x = 0; feature (2,0) covers pixel (4,1).
    expect(fixed).toEqual([1, 3, 5, 6, 7]);
  });
  it('rejects a mask of the wrong size', () => {
    expect(() => fixedFeaturePixels({ data: new Uint8Array(4), width: 2, height: 2 }, { width: 4, height: 2, scale: 2 })).toThrow(
      /8×4/,
    );
  });
});

describe('loss values', () => {
  it('motion term = mean L1 between the detached disc and the disc one step towards the target', () => {
    const { F } = setup(2);
    const offs = discOffsets(3);
    const p = handles[0]!;
    const d = unitStep(p, targets[0]!);
    const a = detached(F, p, offs);
    const b = sampleBilinear(
      F,
      offs.map((o) => ({ x: p.x + o.x + d.x, y: p.y + o.y + d.y })),
    );
    let ref = 0;
    for (let i = 0; i < a.length; i++) ref += Math.abs(a[i]! - b[i]!);
    ref /= a.length;
    expect(shiftedL1(F, p, offs, d, null, 1 / a.length, null)).toBeCloseTo(ref, 5);
    const sup = new MotionSupervision();
    sup.init(F, [p]);
    const r = sup.compute({ features: F, handles: [p], targets: [targets[0]!], confidences: [1], step: 1 });
    expect(r.loss).toBeCloseTo(ref, 5);
    expect(r.branches).toEqual(['motion']);
  });

  it('mask term = η · mean over C·H·W of |F − F0| on fixed feature pixels', () => {
    const { F0, F, mask } = setup(3);
    const fixed = fixedFeaturePixels(mask, F0);
    expect(fixed.length).toBe(SIZE * 5); // feature columns 7..11
    let ref = 0;
    for (let c = 0; c < C; c++)
      for (let v = 0; v < SIZE; v++)
        for (let u = 7; u < SIZE; u++) {
          const i = c * SIZE * SIZE + v * SIZE + u;
          ref += Math.abs(F.data[i]! - F0.data[i]!);
        }
    ref *= 20 / (C * SIZE * SIZE);
    expect(maskL1(F, F0.data, fixed, 20, null)).toBeCloseTo(ref, 10);
  });
});

describe('gradients against central finite differences (sub-pixel points, mask term on)', () => {
  it('MotionSupervision (Eq. 1): gradient through F(q + d) only, sg(F(q)) held fixed', () => {
    const { F0, F, mask } = setup(4);
    const sup = new MotionSupervision();
    sup.init(F0, handles0, mask);
    const r = sup.compute(input(F, [1, 1]));
    expect(r.branches).toEqual(['motion', 'motion']);
    const offs = discOffsets(3);
    const refs = handles.map((p) => detached(F, p, offs));
    const fixed = sup.fixedPixels!;
    const w = 1 / (offs.length * C);
    const f = (m: FeatureMap): number =>
      handles.reduce((s, p, i) => s + shiftedL1(m, p, offs, unitStep(p, targets[i]!), refs[i]!, w, null), 0) +
      maskL1(m, F0.data, fixed, 20, null);
    expect(f(F)).toBeCloseTo(r.loss, 5);
    expectGradMatches(r.grad, F, f, 5);
  });

  it('TemplateSupervision (Eq. 4): the loss is a plain function of F', () => {
    const { F0, F, mask } = setup(6);
    const sup = new TemplateSupervision({ maskWeight: 7 });
    sup.init(F0, handles0, mask);
    const r = sup.compute(input(F, [1, 1]));
    expect(r.branches).toEqual(['template', 'template']);
    const probe = new TemplateSupervision({ maskWeight: 7, reuseGrad: false });
    probe.init(F0, handles0, mask);
    const f = (m: FeatureMap): number => probe.compute(input(m, [1, 1])).loss;
    expectGradMatches(r.grad, F, f, 7);
    // The reference is F0 around p_i⁰: at F = F0 with p_i = p_i⁰ and d = 0 it would vanish; here check
    // it equals the explicit Eq. 4 sum.
    const offs = discOffsets(3);
    let ref = 0;
    handles.forEach((p, i) => {
      const d = unitStep(p, targets[i]!);
      const t = detached(F0, handles0[i]!, offs);
      const b = sampleBilinear(F, offs.map((o) => ({ x: p.x + o.x + d.x, y: p.y + o.y + d.y })));
      let s = 0;
      for (let k = 0; k < t.length; k++) s += Math.abs(t[k]! - b[k]!);
      ref += s / t.length;
    });
    ref += maskL1(F, F0.data, sup.fixedPixels!, 7, null);
    expect(r.loss).toBeCloseTo(ref, 5);
  });

  it('ConfidentSupervision (Eq. 5) with one handle on each branch', () => {
    const { F0, F, mask } = setup(8);
    const sup = new ConfidentSupervision();
    sup.init(F0, handles0, mask);
    sup.compute(input(F, [0.8, 0.9], 1));
    const r = sup.compute(input(F, [0.5, 0.2], 2)); // 0.5 > 0.32: motion; 0.2 ≤ 0.36: template
    expect(r.branches).toEqual(['motion', 'template']);
    const offs = discOffsets(3);
    const ref0 = detached(F, handles[0]!, offs);
    const tpl1 = detached(F0, handles0[1]!, offs);
    const w = 1 / (offs.length * C);
    const f = (m: FeatureMap): number =>
      shiftedL1(m, handles[0]!, offs, unitStep(handles[0]!, targets[0]!), ref0, w, null) +
      shiftedL1(m, handles[1]!, offs, unitStep(handles[1]!, targets[1]!), tpl1, w, null) +
      maskL1(m, F0.data, sup.fixedPixels!, 20, null);
    expect(f(F)).toBeCloseTo(r.loss, 5);
    expectGradMatches(r.grad, F, f, 9);
  });
});

describe('branches', () => {
  it("a handle within 1 px of its target gets 'none' and no gradient", () => {
    const { F0, F } = setup(10);
    const sup = new MotionSupervision();
    sup.init(F0, handles0);
    const near = [{ x: handles[0]!.x + 0.6, y: handles[0]!.y + 0.7 }, targets[1]!]; // 0.92 px away
    const r = sup.compute({ features: F, handles, targets: near, confidences: [1, 1], step: 1 });
    expect(r.branches).toEqual(['none', 'motion']);
    const only = new MotionSupervision();
    only.init(F0, [handles0[1]!]);
    const r1 = only.compute({ features: F, handles: [handles[1]!], targets: [targets[1]!], confidences: [1], step: 1 });
    expect(r.loss).toBeCloseTo(r1.loss, 12);
    expect(Array.from(r.grad)).toEqual(Array.from(r1.grad));
  });

  it('ConfidentSupervision records s_1 at its first compute and switches at τ·s_1 (≤ → template)', () => {
    const { F0, F } = setup(11);
    const sup = new ConfidentSupervision({ tau: 0.5 });
    sup.init(F0, handles0);
    expect(sup.compute(input(F, [2, 1], 1)).branches).toEqual(['motion', 'motion']);
    expect(sup.stepOneConfidences).toEqual([2, 1]);
    expect(sup.compute(input(F, [1, 0.51], 2)).branches).toEqual(['template', 'motion']);
    expect(sup.compute(input(F, [1.01, 0.4], 3)).branches).toEqual(['motion', 'template']);
    expect(sup.history.map((h) => h.branches)).toEqual([
      ['motion', 'motion'],
      ['template', 'motion'],
      ['motion', 'template'],
    ]);
    sup.init(F0, handles0); // a new drag forgets s_1
    expect(sup.stepOneConfidences).toBeNull();
    expect(sup.history).toEqual([]);
  });

  it('one gradient step on F moves the content at p towards the target (Eq. 1 pulls, not pushes)', () => {
    // 1-channel ramp bump: F(x) = exp(−(x − 10)²/8) along x; handle at 10, target to the right.
    const W = 24;
    const data = new Float32Array(W * 4);
    for (let y = 0; y < 4; y++) for (let x = 0; x < W; x++) data[y * W + x] = Math.exp(-((x - 10) ** 2) / 8);
    const F: FeatureMap = { data, channels: 1, height: 4, width: W, scale: 1 };
    const sup = new MotionSupervision({ radius: 0 });
    sup.init(F, [{ x: 10, y: 1.5 }]);
    const r = sup.compute({ features: F, handles: [{ x: 10, y: 1.5 }], targets: [{ x: 20, y: 1.5 }], confidences: [1], step: 1 });
    // The loss |F(10) − F(11)| falls by raising F(11) towards the peak value F(10).
    expect(r.grad[1 * W + 11]! + r.grad[2 * W + 11]!).toBeLessThan(0);
  });
});

describe('bad input', () => {
  const { F0, F, mask } = setup(12);
  const sup = new ConfidentSupervision();
  it('before init', () => {
    expect(() => sup.compute(input(F, [1, 1]))).toThrow(/init/);
  });
  it('is INVALID_INPUT with a clear message', () => {
    sup.init(F0, handles0, mask);
    const other = randomMap(mulberry32(1), C + 1, SIZE, SIZE, SCALE);
    expect(() => sup.compute(input(other, [1, 1]))).toThrow(/6×12×12 .* templates are 5×12×12/);
    expect(() => sup.compute({ ...input(F, [1, 1]), handles: [handles[0]!] })).toThrow(/got 1 handle, expected 2/);
    expect(() => sup.compute(input(F, [1]))).toThrow(/1 confidences, expected 2/);
    expect(() => sup.compute(input(F, [1, Number.NaN]))).toThrow(/confidence 1 is NaN/);
    expect(() =>
      sup.compute({ ...input(F, [1, 1]), handles: [handles[0]!, { x: 30, y: 2 }] }),
    ).toThrow(/handle 1 at \(30, 2\) is outside the map/);
    const data = F.data.slice();
    data[2 * 144 + 5 * 12 + 9] = Number.NaN;
    try {
      sup.compute(input({ ...F, data }, [1, 1]));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(StableDragError);
      expect((e as StableDragError).code).toBe('INVALID_INPUT');
      expect((e as Error).message).toMatch(/NaN at channel 2, feature pixel \(9, 5\)/);
    }
    expect(() => new MotionSupervision().init({ ...F0, data }, handles0)).toThrow(/NaN/);
  });
});

describe('gradient buffer', () => {
  it('is reused by default and fresh with reuseGrad: false', () => {
    const { F0, F } = setup(13);
    const a = new MotionSupervision();
    a.init(F0, handles0);
    expect(a.compute(input(F, [1, 1])).grad).toBe(a.compute(input(F, [1, 1])).grad);
    const b = new MotionSupervision({ reuseGrad: false });
    b.init(F0, handles0);
    expect(b.compute(input(F, [1, 1])).grad).not.toBe(b.compute(input(F, [1, 1])).grad);
  });
});
