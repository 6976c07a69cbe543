import { StableDragError, validateFeatureMap, type FeatureMap, type Point } from '@stabledrag/core';

export function fail(message: string): never {
  throw new StableDragError('INVALID_INPUT', message);
}

/** Checks a feature map's shape fields against its data (core's validateFeatureMap). */
export const checkFeatureMap: (map: FeatureMap, what: string) => void = validateFeatureMap;

/** Throws naming the first NaN/∞ of the map (channel, feature pixel). */
export function checkFinite(map: FeatureMap, what: string): void {
  const d = map.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      const plane = map.width * map.height;
      const c = Math.floor(i / plane);
      const p = i - c * plane;
      fail(`${what}: features contain ${d[i]} at channel ${c}, feature pixel (${p % map.width}, ${Math.floor(p / map.width)}).`);
    }
  }
}

export function checkPoints(map: FeatureMap, points: readonly Point[], expected: number, what: string, label: string): void {
  if (!Array.isArray(points)) fail(`${what}: ${label} must be an array of points.`);
  if (points.length !== expected) fail(`${what}: got ${points.length} ${label}, expected ${expected} (one per handle).`);
  const W = map.width * map.scale;
  const H = map.height * map.scale;
  points.forEach((p, i) => {
    if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) fail(`${what}: ${label} ${i} is not a finite point (${p?.x}, ${p?.y}).`);
    if (p.x < -0.5 || p.y < -0.5 || p.x > W - 0.5 || p.y > H - 0.5) {
      fail(
        `${what}: ${label} ${i} at (${p.x}, ${p.y}) is outside the map: the ${W}×${H} image spans ` +
          `[-0.5, ${W - 0.5}] × [-0.5, ${H - 0.5}].`,
      );
    }
  });
}
