import type { DragBackend, DragLatent } from '@stabledrag/core';

/**
 * Forward + backward passes the worker runs while idle after a model load (worker.ts): the browser
 * first compiles WebAssembly with a fast baseline compiler and re-compiles hot functions with its
 * optimising one over the next few dozen runs. The speed benchmark warms Node up by as many.
 */
export const WARM_UP_PASSES = 30;

/** A drag step's model work without the drag: a forward pass and a VJP of a small constant cotangent. Returns the gradient. */
export async function forwardBackward(backend: DragBackend, latent: DragLatent, withImage: boolean): Promise<Float32Array> {
  const pass = await backend.forward(latent, { withVjp: true, withImage });
  try {
    return await pass.vjp(new Float32Array(pass.features.data.length).fill(1e-3));
  } finally {
    pass.release();
  }
}
