import type { DragBackend, DragLatent } from '@stabledrag/core';
import { toFloat, type FloatImage } from '../image.js';
import { exactZ } from './exact-z.js';
import { moveByFlow } from './faces2-flow.js';
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

/** The model's images of a task's exact answer. */
export interface ModelExactImages {
  /**
   * The model's image of the seed moved by the renderer's exact flow (faces2-flow.ts): the exact
   * edit with the model's appearance. An exact edit changes only the warp, so the renderer's own
   * edit is its original moved this way (1 − MAE 0.995 between the two, tested).
   */
  readonly edit: FloatImage;
  /** The same for the drag stopped half way. */
  readonly half: FloatImage;
  /**
   * The model's own render of θ′ (z′ = √2·erfinv(θ′), mapping, synthesis). Not used as the answer:
   * θ′ sets tens of warp entries near ±1 at once, far from any seed, where the model's
   * displacement head moves content ~1.5× as far as the renderer (tools/train/exact_head_check.py).
   */
  readonly rendered: FloatImage;
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
 * The exact answer in the model's appearance (`original`: the model's image of the seed), so
 * comparing a drag's result with it leaves out the model's error in imitating the renderer's
 * colours and detail (both images carry it), and its own render of θ′ beside it.
 */
export async function modelExactImages(backend: ZBackend, answer: ExactAnswer, original: FloatImage): Promise<ModelExactImages> {
  const rendered = toFloat(await backend.render(await latentOfTheta(backend, answer.seed, answer.theta0, answer.theta)));
  return { edit: moveByFlow(original, answer.theta0, answer.theta), half: moveByFlow(original, answer.theta0, answer.half.theta), rendered };
}
