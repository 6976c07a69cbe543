import type { BackendInfo, DragBackend, DragLatent } from './backend.js';
import { StableDragError } from './errors.js';
import type { DragPair, FeatureMap, Mask, Point } from './types.js';

function describe(p: Point): string {
  return `(${p.x}, ${p.y})`;
}

/** Checks a point is finite and inside the image; `what` names it in the message. */
export function validatePoint(p: Point, info: Pick<BackendInfo, 'imageWidth' | 'imageHeight'>, what: string): void {
  if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
    throw new StableDragError('INVALID_INPUT', `${what} ${describe(p)} is not a finite number pair; give pixel coordinates like { x: 40, y: 52 }.`);
  }
  const maxX = info.imageWidth - 1;
  const maxY = info.imageHeight - 1;
  if (p.x < 0 || p.y < 0 || p.x > maxX || p.y > maxY) {
    throw new StableDragError(
      'INVALID_INPUT',
      `${what} ${describe(p)} is outside the ${info.imageWidth}×${info.imageHeight} image; x must be in [0, ${maxX}] and y in [0, ${maxY}].`,
    );
  }
}

/** Checks the drag pairs: at least one, all inside the image, none already at its target. */
export function validatePairs(
  pairs: readonly DragPair[],
  info: Pick<BackendInfo, 'imageWidth' | 'imageHeight'>,
  stopDistance: number,
): void {
  if (!Array.isArray(pairs) || pairs.length === 0) {
    throw new StableDragError('INVALID_INPUT', 'No handle/target pairs were given; add at least one pair (handle point → target point).');
  }
  pairs.forEach((pair, i) => {
    validatePoint(pair.handle, info, `Handle ${i + 1}`);
    validatePoint(pair.target, info, `Target ${i + 1}`);
    const d = Math.hypot(pair.target.x - pair.handle.x, pair.target.y - pair.handle.y);
    if (d <= stopDistance) {
      throw new StableDragError(
        'INVALID_INPUT',
        `Pair ${i + 1}: the handle ${describe(pair.handle)} is already within the stop distance (${stopDistance} px) of its target ${describe(pair.target)}; move the target further away.`,
      );
    }
  });
}

/** Checks a mask matches the image size and holds only 0/1. */
export function validateMask(mask: Mask, info: Pick<BackendInfo, 'imageWidth' | 'imageHeight'>): void {
  if (mask.width !== info.imageWidth || mask.height !== info.imageHeight) {
    throw new StableDragError(
      'INVALID_INPUT',
      `The mask is ${mask.width}×${mask.height} but the image is ${info.imageWidth}×${info.imageHeight}; paint the mask at the image size.`,
    );
  }
  if (mask.data.length !== mask.width * mask.height) {
    throw new StableDragError('INVALID_INPUT', `The mask holds ${mask.data.length} values, expected ${mask.width * mask.height} (one per pixel).`);
  }
  let editable = 0;
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i]!;
    if (v !== 0 && v !== 1) {
      throw new StableDragError('INVALID_INPUT', `The mask must hold 0 (fixed) or 1 (editable); pixel ${i} is ${v}.`);
    }
    editable += v;
  }
  if (editable === 0) {
    throw new StableDragError('INVALID_INPUT', 'The mask marks no pixel as editable; paint the region that may change, or pass no mask.');
  }
}

/** Checks a backend speaks contract v1 and a latent fits it. */
export function validateBackendAndLatent(backend: DragBackend, latent: DragLatent): void {
  if (backend.specificationVersion !== 'v1') {
    throw new StableDragError(
      'INVALID_BACKEND',
      `The backend implements DragBackend specification '${String(backend.specificationVersion)}', this version of @stabledrag/core needs 'v1'.`,
    );
  }
  if (latent.optimized.length !== backend.info.optimizedSize) {
    throw new StableDragError(
      'INVALID_INPUT',
      `The latent has ${latent.optimized.length} optimised floats but backend '${backend.info.name}' expects ${backend.info.optimizedSize}; was it made by another model?`,
    );
  }
}

/** Default stop distance: DragGAN's max(2/512·h, 2) pixels. */
export function defaultStopDistance(imageHeight: number): number {
  return Math.max((2 / 512) * imageHeight, 2);
}

/** The stop distance a drag on this backend uses unless told otherwise: the backend's own, else DragGAN's rule. */
export function stopDistanceFor(info: { readonly imageHeight: number; readonly defaultStopDistance?: number }): number {
  return info.defaultStopDistance ?? defaultStopDistance(info.imageHeight);
}

/** Checks a feature map's shape fields against its data; `what` names it in the message. */
export function validateFeatureMap(map: FeatureMap, what: string): void {
  const fail = (message: string): never => {
    throw new StableDragError('INVALID_INPUT', message);
  };
  if (map === null || typeof map !== 'object' || !(map.data instanceof Float32Array)) {
    fail(`${what}: expected a FeatureMap with a Float32Array \`data\`.`);
  }
  const { channels, height, width, scale } = map;
  for (const [k, v] of [
    ['channels', channels],
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) fail(`${what}: ${k} must be a positive integer, got ${v}.`);
  }
  if (!(Number.isFinite(scale) && scale > 0)) fail(`${what}: scale must be a positive number, got ${scale}.`);
  if (map.data.length !== channels * height * width) {
    fail(
      `${what}: data has ${map.data.length} floats but channels×height×width = ` +
        `${channels}×${height}×${width} = ${channels * height * width}.`,
    );
  }
}
