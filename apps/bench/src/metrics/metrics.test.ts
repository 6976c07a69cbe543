import { describe, expect, it } from 'vitest';
import type { Mask } from '@stabledrag/core';
import { warp, type FloatImage } from '../image.js';
import { locatePatch, parabolicOffset } from './ncc.js';
import { oneMinusMae, ssim } from './fidelity.js';

function image(width: number, height: number, f: (x: number, y: number, c: number) => number): FloatImage {
  const data = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[c * width * height + y * width + x] = f(x, y, c);
  }
  return { data, width, height };
}

/** A smooth, textured test picture: a few blobs and stripes of different colours. */
function scene(width = 64, height = 64): FloatImage {
  return image(width, height, (x, y, c) => {
    const blob = (cx: number, cy: number, s: number): number => Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
    const v = 0.2 + 0.5 * blob(20, 24, 4 + c) + 0.3 * blob(40, 36, 3) * (c === 1 ? 1 : 0.3) + 0.1 * Math.sin(0.35 * x + 0.2 * y + c);
    return Math.min(1, Math.max(0, v));
  });
}

/** Deterministic uniform noise in [−1, 1]. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

describe('parabolicOffset', () => {
  it('finds the vertex of a sampled parabola', () => {
    const f = (t: number): number => -((t - 0.3) ** 2);
    expect(parabolicOffset(f(-1), f(0), f(1))).toBeCloseTo(0.3, 12);
  });
  it('returns 0 when the middle sample is not a peak of a concave fit', () => {
    expect(parabolicOffset(1, 0, 1)).toBe(0);
  });
});

describe('locatePatch (ZNCC)', () => {
  const original = scene();
  const handle = { x: 20, y: 24 };

  it('finds the handle itself in an unedited image', () => {
    const r = locatePatch(original, original, handle, { x: 30, y: 24 });
    // The parabola through an asymmetric correlation peak is off by a few hundredths of a pixel.
    expect(Math.hypot(r.point.x - 20, r.point.y - 24)).toBeLessThan(0.1);
    expect(r.score).toBeCloseTo(1, 6);
  });

  it.each([
    [5, 0],
    [0, -7],
    [9, 6],
    [-12, 3],
  ])('recovers an integer global shift (%d, %d) within 0.1 px', (dx, dy) => {
    const edited = warp(original, () => [dx, dy]);
    const r = locatePatch(original, edited, handle, { x: handle.x + dx, y: handle.y + dy });
    expect(Math.hypot(r.point.x - handle.x - dx, r.point.y - handle.y - dy)).toBeLessThan(0.1);
    expect(r.score).toBeGreaterThan(0.999);
  });

  it.each([
    [0.5, 0],
    [2.25, -1.5],
    [-3.7, 4.4],
  ])('recovers a sub-pixel shift (%d, %d) within 0.2 px', (dx, dy) => {
    const edited = warp(original, () => [dx, dy]);
    const r = locatePatch(original, edited, handle, { x: handle.x + dx, y: handle.y + dy });
    expect(Math.hypot(r.point.x - handle.x - dx, r.point.y - handle.y - dy)).toBeLessThan(0.2);
  });

  it('flags a peak on the search box edge when the content left the box, and not when it is inside', () => {
    // one blob on a flat ground; box = handle and target (both the handle) grown by 10 px
    const blob = (cx: number): FloatImage => image(64, 64, (x, y) => 0.2 + 0.6 * Math.exp(-((x - cx) ** 2 + (y - 24) ** 2) / 18));
    const far = locatePatch(blob(20), blob(34), handle, handle);
    expect(far.onEdge).toBe(true);
    expect(far.point.x).toBe(handle.x + 10);
    const near = locatePatch(blob(20), blob(25), handle, handle);
    expect(near.onEdge).toBe(false);
    expect(Math.abs(near.point.x - handle.x - 5)).toBeLessThan(0.1);
  });

  it('ignores brightness and contrast changes (zero-mean, normalised)', () => {
    const shifted = warp(original, () => [4, -3]);
    const edited = { ...shifted, data: shifted.data.map((v) => 0.1 + 0.6 * v) };
    const r = locatePatch(original, edited, handle, { x: 24, y: 21 });
    expect(Math.hypot(r.point.x - 24, r.point.y - 21)).toBeLessThan(0.1);
    expect(r.score).toBeCloseTo(1, 5);
  });

  it('follows a local warp that moves only the neighbourhood of the handle', () => {
    const s = 8;
    const edited = warp(original, (x, y) => {
      const g = Math.exp(-((x - handle.x - s) ** 2 + (y - handle.y) ** 2) / (2 * 10 * 10));
      return [s * g, 0];
    });
    const r = locatePatch(original, edited, handle, { x: handle.x + s, y: handle.y });
    // The warp squeezes the content ahead of the handle, so the match lags a little behind.
    expect(Math.abs(r.point.x - handle.x - s)).toBeLessThan(0.8);
    expect(Math.abs(r.point.y - handle.y)).toBeLessThan(0.3);
    // Uniform weights lag further: the Gaussian weight is what keeps the error small.
    const flat = locatePatch(original, edited, handle, { x: handle.x + s, y: handle.y }, { weightSigma: null });
    expect(Math.abs(flat.point.x - handle.x - s)).toBeGreaterThan(Math.abs(r.point.x - handle.x - s));
  });
});

describe('ssim', () => {
  it('is exactly 1 for identical images', () => {
    const a = scene();
    const s = ssim(a, a);
    expect(s.all).toBeCloseTo(1, 12);
    expect(s.fixed).toBeNull();
  });

  it('matches the closed form for two flat images (luminance term only)', () => {
    const a = image(32, 32, () => 0.5);
    const b = image(32, 32, () => 0.625);
    const C1 = 0.01 ** 2;
    // σ = cov = 0, so the contrast-structure term is C2/C2 = 1 (0.5 and 0.625 are exact in float32).
    const expected = (2 * 0.5 * 0.625 + C1) / (0.5 ** 2 + 0.625 ** 2 + C1);
    expect(ssim(a, b).all).toBeCloseTo(expected, 10);
    expect(expected).toBeCloseTo(0.975614, 6);
  });

  it('matches the closed form for a checkerboard against its negative (box window)', () => {
    // x = 0.5 + 0.2·c, y = 0.5 − 0.2·c with c = ±1. Over an 11×11 box window Σc = ±1, so the
    // local means are 0.5 ± 0.2·m with m = ±1/121, the variances 0.04·(1 − m²), cov = −0.04·(1 − m²).
    const c = (x: number, y: number): number => ((x + y) % 2 === 0 ? 1 : -1);
    const a = image(24, 24, (x, y) => 0.5 + 0.2 * c(x, y));
    const b = image(24, 24, (x, y) => 0.5 - 0.2 * c(x, y));
    const C1 = 0.01 ** 2;
    const C2 = 0.03 ** 2;
    const m = 1 / 121;
    const mx = 0.5 + 0.2 * m;
    const my = 0.5 - 0.2 * m;
    const v = 0.04 * (1 - m * m);
    const expected = ((2 * mx * my + C1) * (-2 * v + C2)) / ((mx * mx + my * my + C1) * (2 * v + C2));
    // Every window centre sees the same |m| (the sign flips mx and my, which the formula is symmetric in).
    expect(ssim(a, b, undefined, { sigma: null }).all).toBeCloseTo(expected, 8);
    expect(expected).toBeLessThan(-0.9);
  });

  it('drops below 1 for shifted and for noised images, more with more noise', () => {
    const a = scene();
    const shifted = ssim(a, warp(a, () => [1, 0])).all;
    const rnd = noise(3);
    const n1 = a.data.map((v) => v + 0.02 * rnd());
    const n2 = a.data.map((v, i) => v + 0.1 * (n1[i]! - v) / 0.02);
    const s1 = ssim(a, { ...a, data: n1 }).all;
    const s2 = ssim(a, { ...a, data: n2 }).all;
    expect(shifted).toBeLessThan(0.99);
    expect(s1).toBeLessThan(1);
    expect(s2).toBeLessThan(s1);
  });

  it('restricts the fixed-region score to mask = 0', () => {
    const a = scene();
    const b = image(64, 64, (x, y, c) => (x < 32 ? a.data[c * 4096 + y * 64 + x]! : 1 - a.data[c * 4096 + y * 64 + x]!));
    const mask: Mask = { data: Uint8Array.from({ length: 4096 }, (_, i) => (i % 64 >= 24 ? 1 : 0)), width: 64, height: 64 };
    const s = ssim(a, b, mask);
    // Window centres with x < 24 never reach the changed half (x ≥ 32) of an 11-px window.
    expect(s.fixed).toBeCloseTo(1, 12);
    expect(s.all).toBeLessThan(0.9);
  });
});

describe('1 − MAE', () => {
  it('matches the closed form', () => {
    const a = image(8, 8, () => 0.2);
    const b = image(8, 8, (x) => (x < 4 ? 0.5 : 0.2));
    // Half the pixels differ by 0.3 in every channel.
    expect(oneMinusMae(a, b).all).toBeCloseTo(1 - 0.15, 6);
    const fixedLeft: Mask = { data: Uint8Array.from({ length: 64 }, (_, i) => (i % 8 < 4 ? 0 : 1)), width: 8, height: 8 };
    const r = oneMinusMae(a, b, fixedLeft);
    expect(r.fixed).toBeCloseTo(0.7, 6);
    expect(oneMinusMae(a, a, fixedLeft)).toEqual({ all: 1, fixed: 1 });
  });
});
