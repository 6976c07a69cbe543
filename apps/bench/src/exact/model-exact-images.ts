import type { DragBackend, DragLatent } from '@stabledrag/core';
import { toFloat, type FloatImage } from '../image.js';
import { exactZ } from './exact-z.js';
import type { ExactAnswer } from './load-exact-answers.js';

/** What GanBackend offers beyond DragBackend: the seed's z and the mapping network. */
export interface ZBackend extends DragBackend {
  seedToZ(seed: number): Float32Array;
  mapZ(z: Float32Array, truncation?: number): Promise<Float32Array>;
}

export function hasZ(backend: DragBackend): backend is ZBackend {
  const b = backend as Partial<ZBackend>;
  return typeof b.seedToZ === 'function' && typeof b.mapZ === 'function';
}

/** The model's images of a task's exact answer: the edit and the half-way edit. */
export interface ModelExactImages {
  readonly edit: FloatImage;
  readonly half: FloatImage;
}

/**
 * The latent of the renderer parameters θ for the seed's image: z = √2·erfinv(θ) (exactZ), w =
 * mapping(z) at truncation 1, repeated over every W+ row as a seed's latent is, handed to
 * createLatent as a saved latent so the backend splits the rows as it does for its own.
 */
export async function latentOfTheta(backend: ZBackend, seed: number, theta0: readonly number[], theta: readonly number[]): Promise<DragLatent> {
  const base = await backend.createLatent({ type: 'seed', seed, truncation: 1 });
  const w = await backend.mapZ(exactZ(backend.seedToZ(seed), theta0, theta), 1);
  const ws = new Float32Array(base.optimized.length + base.frozen.length);
  for (let r = 0; r < ws.length; r += w.length) ws.set(w, r);
  const k = base.optimized.length;
  return backend.createLatent({ type: 'latent', latent: { optimized: ws.slice(0, k), frozen: ws.slice(k), meta: { seed, exact: true } } });
}

/**
 * The model renders the exact answer itself, so comparing a drag's result with it leaves out the
 * model's own error in imitating the renderer (both images carry it).
 */
export async function modelExactImages(backend: ZBackend, answer: ExactAnswer): Promise<ModelExactImages> {
  const render = async (theta: readonly number[]): Promise<FloatImage> => toFloat(await backend.render(await latentOfTheta(backend, answer.seed, answer.theta0, theta)));
  return { edit: await render(answer.theta), half: await render(answer.half.theta) };
}
