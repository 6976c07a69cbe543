import { describe, expect, it } from 'vitest';
import { expectAllClose } from './all-close.js';
import { sampleBilinear, scatterBilinear, toFeatureCoord, toImageCoord } from './bilinear.js';
import { createNormalRng, createRng } from './prng.js';
import type { FeatureMap, Point } from './types.js';

function linearMap(C: number, H: number, W: number, scale: number): FeatureMap {
  // F_c(u, v) = (c + 1)·u + 2·v + c: bilinear interpolation reproduces an affine function exactly.
  const data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) data[c * H * W + v * W + u] = (c + 1) * u + 2 * v + c;
  return { data, channels: C, height: H, width: W, scale };
}

describe('bilinear sampling', () => {
  it('maps image pixels to feature pixels with the align_corners=False convention', () => {
    expect(toFeatureCoord(1.5, 4)).toBeCloseTo(0, 12); // centre of feature pixel 0 covers image pixels 0..3
    expect(toFeatureCoord(5.5, 4)).toBeCloseTo(1, 12);
    expect(toImageCoord(toFeatureCoord(13.25, 4), 4)).toBeCloseTo(13.25, 12);
  });

  it('reproduces an affine map exactly at sub-pixel points and clamps at the border', () => {
    const map = linearMap(3, 8, 10, 4);
    const pts: Point[] = [{ x: 9.3, y: 7.7 }, { x: 1.5, y: 1.5 }, { x: 30.1, y: 20.9 }];
    const out = sampleBilinear(map, pts);
    const expected: number[] = [];
    for (const p of pts) {
      const u = toFeatureCoord(p.x, 4);
      const v = toFeatureCoord(p.y, 4);
      for (let c = 0; c < 3; c++) expected.push((c + 1) * u + 2 * v + c);
    }
    expectAllClose(out, expected, { atol: 1e-5, rtol: 1e-6 });
    // Beyond the last centre the read is the edge value: u clamps to W − 1 = 9.
    const edge = sampleBilinear(map, [{ x: 100, y: 0 }]);
    expectAllClose(edge, [9, 19, 29], { atol: 1e-6, rtol: 0 });
  });

  it('scatter is the exact adjoint of sample: ⟨S(F), g⟩ = ⟨F, Sᵀ(g)⟩', () => {
    const normal = createNormalRng(3);
    const uniform = createRng(4);
    const map: FeatureMap = { data: Float32Array.from({ length: 5 * 6 * 7 }, normal), channels: 5, height: 6, width: 7, scale: 3 };
    const pts = Array.from({ length: 9 }, () => ({ x: -3 + uniform() * 27, y: -3 + uniform() * 24 }));
    const g = Float32Array.from({ length: pts.length * 5 }, normal);
    const s = sampleBilinear(map, pts);
    const back = scatterBilinear(map, pts, g, new Float32Array(map.data.length));
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < s.length; i++) lhs += s[i]! * g[i]!;
    for (let i = 0; i < back.length; i++) rhs += map.data[i]! * back[i]!;
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
  });

  it('rejects buffers of the wrong size', () => {
    const map = linearMap(2, 4, 4, 2);
    expect(() => sampleBilinear(map, [{ x: 1, y: 1 }], new Float32Array(1))).toThrow(/needs 2/);
    expect(() => scatterBilinear(map, [], new Float32Array(0), new Float32Array(3))).toThrow(/map has 32/);
  });
});
