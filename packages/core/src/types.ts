/**
 * A position in image pixels. x grows to the right, y grows downwards, and pixel centres sit at
 * integer coordinates: pixel (0, 0) covers [-0.5, 0.5)². Coordinates are floats, so a point can
 * sit between pixels.
 */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** One drag instruction: move the content at `handle` to `target`. */
export interface DragPair {
  readonly handle: Point;
  readonly target: Point;
}

/**
 * A feature map in CHW layout at the backend's native resolution.
 *
 * `scale` is image pixels per feature pixel (4 for a 32×32 map of a 128×128 image). Feature pixel
 * (u, v) covers image pixels [u·scale, (u+1)·scale), so its centre sits at image coordinate
 * (u + 0.5)·scale − 0.5 — the `align_corners=False` convention of a bilinear resize, which is what
 * DragGAN applies when it upsamples features to the image size.
 */
export interface FeatureMap {
  readonly data: Float32Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly scale: number;
}

/** An editable-region mask at image resolution, row-major. 1 = editable, 0 = keep fixed. */
export interface Mask {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** An 8-bit RGBA image, row-major, 4 bytes per pixel (the layout of the DOM's `ImageData`). */
export interface RgbaImage {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}
