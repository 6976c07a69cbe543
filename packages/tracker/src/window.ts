import { StableDragError, sampleBilinear, validateFeatureMap, type FeatureMap, type Point } from '@stabledrag/core';

/** A mutable point, so the hot loop can reuse its candidate objects. */
export interface MutablePoint {
  x: number;
  y: number;
}

/**
 * The (2r+1)² candidates q = p + (dx, dy), dx, dy ∈ [−r, r] integers (image pixels), of one
 * search window, and their bilinearly read features. Candidate n has dx = n mod side − r,
 * dy = ⌊n / side⌋ − r, so offset 0 is the centre candidate (r·side + r).
 */
export interface WindowSamples {
  radius: number;
  side: number;
  count: number;
  channels: number;
  points: MutablePoint[];
  /** 1 when the candidate lies on the image ([−0.5, W·scale − 0.5]²); only those are searched. */
  valid: Uint8Array;
  /** count × channels, point-major. */
  samples: Float32Array;
}

export function fail(message: string): never {
  throw new StableDragError('INVALID_INPUT', message);
}

/** Checks a feature map's shape fields against its data (core's validateFeatureMap). */
export const checkFeatureMap: (map: FeatureMap, what: string) => void = validateFeatureMap;

/** Image size covered by a feature map, in image pixels. */
export function imageSize(map: Pick<FeatureMap, 'width' | 'height' | 'scale'>): { width: number; height: number } {
  return { width: map.width * map.scale, height: map.height * map.scale };
}

/** True when p lies on the image: [−0.5, W·scale − 0.5] × [−0.5, H·scale − 0.5]. */
export function onImage(map: Pick<FeatureMap, 'width' | 'height' | 'scale'>, x: number, y: number): boolean {
  const { width, height } = imageSize(map);
  return x >= -0.5 && y >= -0.5 && x <= width - 0.5 && y <= height - 0.5;
}

/** Throws unless every point is finite and on the image; names the handle and where it is. */
export function checkPoints(map: FeatureMap, points: readonly Point[], expected: number | null, what: string, firstIndex = 0): void {
  if (!Array.isArray(points)) fail(`${what}: expected an array of points.`);
  if (expected !== null && points.length !== expected) {
    fail(`${what}: got ${points.length} points, expected ${expected} (one per handle, same order as init).`);
  }
  const { width, height } = imageSize(map);
  points.forEach((p, n) => {
    const i = n + firstIndex;
    if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      fail(`${what}: handle ${i} is not a finite point (${p?.x}, ${p?.y}).`);
    }
    if (!onImage(map, p.x, p.y)) {
      fail(
        `${what}: the search window of handle ${i} is outside the map: its centre (${p.x}, ${p.y}) is not on the ` +
          `${width}×${height} image ([-0.5, ${width - 0.5}] × [-0.5, ${height - 0.5}]).`,
      );
    }
  });
}

export function createWindow(radius: number, channels: number): WindowSamples {
  if (!Number.isInteger(radius) || radius < 0) fail(`radius must be a non-negative integer (image pixels), got ${radius}.`);
  const side = 2 * radius + 1;
  const count = side * side;
  const points: MutablePoint[] = [];
  for (let n = 0; n < count; n++) points.push({ x: 0, y: 0 });
  return { radius, side, count, channels, points, valid: new Uint8Array(count), samples: new Float32Array(count * channels) };
}

/**
 * Reads the window around `center` from `map` at native resolution (one bilinear read per
 * candidate; nothing is upsampled). Throws on NaN/∞ in the read features, naming the handle.
 */
export function sampleWindow(map: FeatureMap, center: Point, win: WindowSamples, handle: number, what: string): WindowSamples {
  const { radius: r, side, count } = win;
  let nValid = 0;
  for (let n = 0; n < count; n++) {
    const q = win.points[n]!;
    q.x = center.x + ((n % side) - r);
    q.y = center.y + (Math.floor(n / side) - r);
    const ok = onImage(map, q.x, q.y);
    win.valid[n] = ok ? 1 : 0;
    if (ok) nValid++;
  }
  if (nValid === 0) fail(`${what}: the search window of handle ${handle} around (${center.x}, ${center.y}) has no pixel on the map.`);
  sampleBilinear(map, win.points, win.samples);
  const s = win.samples;
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i]!)) {
      const n = Math.floor(i / win.channels);
      const q = win.points[n]!;
      fail(`${what}: the features near (${q.x}, ${q.y}) (window of handle ${handle}) contain NaN or Infinity.`);
    }
  }
  return win;
}
