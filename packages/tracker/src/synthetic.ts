/**
 * Seeded synthetic feature maps for the tests and the tracking benchmark (not part of the public
 * API). A scene is a continuous C-vector field over image coordinates:
 *   scene(x) = texture(x) + identity(x)
 * texture: a few plane waves with period P in x and y (so every point has exact look-alikes P
 * pixels away: the near-duplicate distractors), each wave loading on its own random channel
 * direction; identity: a weak random smooth field, different everywhere (what makes the handle
 * itself). Each step adds fresh "diffusion-like" noise: per-wave amplitude jitter that varies
 * smoothly over the image (noise correlated across channels, the kind intermediate diffusion
 * features carry) plus white noise per feature pixel and channel.
 */
import { createRng, type FeatureMap, type Point } from '@stabledrag/core';

/** mulberry32, the seeded uniform generator of @stabledrag/core. */
export const mulberry32: (seed: number) => () => number = createRng;

/** Standard normal from a uniform PRNG (Box–Muller). */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function unitVector(rand: () => number, C: number, scale: number): Float64Array {
  const v = new Float64Array(C);
  let n = 0;
  for (let c = 0; c < C; c++) {
    v[c] = gaussian(rand);
    n += v[c]! * v[c]!;
  }
  const k = scale / Math.sqrt(n);
  for (let c = 0; c < C; c++) v[c] = v[c]! * k;
  return v;
}

interface Wave {
  kx: number;
  ky: number;
  phase: number;
  load: Float64Array;
}

export interface SceneOptions {
  channels: number;
  /** Native feature size (square). */
  size: number;
  /** Image pixels per feature pixel. */
  scale: number;
  /** Texture period in image pixels. */
  period: number;
  /** Number of texture waves. */
  waves?: number;
  /** Norm of each wave's channel loading. */
  textureAmplitude?: number;
  /** Norm of the identity field's channel loadings. */
  identityAmplitude?: number;
}

export interface NoiseOptions {
  /** Std of the smooth per-wave amplitude jitter (relative). */
  jitter: number;
  /** Std of the white noise per feature pixel and channel. */
  white: number;
}

/** A seeded scene that can be rendered shifted, with fresh noise per render. */
export class SyntheticScene {
  readonly options: Required<SceneOptions>;
  private readonly waves: Wave[] = [];
  private readonly identity: Wave[] = [];

  constructor(options: SceneOptions, rand: () => number) {
    this.options = { waves: 6, textureAmplitude: 1, identityAmplitude: 0.35, ...options };
    const { channels: C, period: P, waves, textureAmplitude } = this.options;
    const dirs = [
      [1, 0],
      [0, 1],
      [1, 1],
      [1, -1],
      [2, 1],
      [1, 2],
      [2, -1],
      [-1, 2],
    ];
    for (let k = 0; k < waves; k++) {
      const [m, n] = dirs[k % dirs.length]!;
      this.waves.push({
        kx: (2 * Math.PI * m!) / P,
        ky: (2 * Math.PI * n!) / P,
        phase: 2 * Math.PI * rand(),
        load: unitVector(rand, C, textureAmplitude),
      });
    }
    // Identity: 24 random low-frequency waves (wavelengths 10–40 px), incommensurate with P.
    for (let k = 0; k < 24; k++) {
      const theta = 2 * Math.PI * rand();
      const wl = 10 + 30 * rand();
      this.identity.push({
        kx: (2 * Math.PI * Math.cos(theta)) / wl,
        ky: (2 * Math.PI * Math.sin(theta)) / wl,
        phase: 2 * Math.PI * rand(),
        load: unitVector(rand, C, this.options.identityAmplitude / Math.sqrt(12)),
      });
    }
  }

  /**
   * Renders the scene translated by `shift` (content at x moves to x + shift) with fresh noise.
   */
  render(shift: Point, noise: NoiseOptions, rand: () => number): FeatureMap {
    const { channels: C, size, scale } = this.options;
    const plane = size * size;
    const data = new Float32Array(C * plane);
    const acc = new Float64Array(C);
    // Smooth jitter fields: per wave, a random low-frequency modulation over the image.
    const jit = this.waves.map(() => ({
      a: gaussian(rand) * noise.jitter,
      b: gaussian(rand) * noise.jitter,
      kx: (2 * Math.PI * (rand() - 0.5)) / 12,
      ky: (2 * Math.PI * (rand() - 0.5)) / 12,
      ph: 2 * Math.PI * rand(),
    }));
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const x = (u + 0.5) * scale - 0.5;
        const y = (v + 0.5) * scale - 0.5;
        const sx = x - shift.x;
        const sy = y - shift.y;
        acc.fill(0);
        this.waves.forEach((w, k) => {
          const j = jit[k]!;
          const amp = 1 + j.a + j.b * Math.cos(j.kx * x + j.ky * y + j.ph);
          const s = amp * Math.cos(w.kx * sx + w.ky * sy + w.phase);
          for (let c = 0; c < C; c++) acc[c] = acc[c]! + s * w.load[c]!;
        });
        for (const w of this.identity) {
          const s = Math.cos(w.kx * sx + w.ky * sy + w.phase);
          for (let c = 0; c < C; c++) acc[c] = acc[c]! + s * w.load[c]!;
        }
        const p = v * size + u;
        for (let c = 0; c < C; c++) data[c * plane + p] = acc[c]! + noise.white * gaussian(rand);
      }
    }
    return { data, channels: C, height: size, width: size, scale };
  }
}

/** A random map of i.i.d. normals (for shape/gradient tests). */
export function randomMap(rand: () => number, channels: number, height: number, width: number, scale: number): FeatureMap {
  const data = new Float32Array(channels * height * width);
  for (let i = 0; i < data.length; i++) data[i] = gaussian(rand);
  return { data, channels, height, width, scale };
}

/** Multiplies the features of a disc (radius 4 image px) by `factor`, in place: a region the generator inflates. */
export function inflateDisc(F: FeatureMap, centre: Point, factor: number): FeatureMap {
  const plane = F.width * F.height;
  for (let v = 0; v < F.height; v++) {
    for (let u = 0; u < F.width; u++) {
      const x = (u + 0.5) * F.scale - 0.5;
      const y = (v + 0.5) * F.scale - 0.5;
      if (Math.hypot(x - centre.x, y - centre.y) > 4) continue;
      for (let c = 0; c < F.channels; c++) F.data[c * plane + v * F.width + u]! *= factor;
    }
  }
  return F;
}
