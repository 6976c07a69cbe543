import { cloneLatent } from '@stabledrag/core';
import type { DragBackend, DragLatent } from '@stabledrag/core';

/**
 * Wraps a backend so the latent of the latest `forward` can be read back: a DragStepEvent
 * carries no latent, and a diffusion backend's forward gives no image, so a GIF frame of step k
 * is rendered from the latent step k's features were computed on.
 */
export function recordLatents(backend: DragBackend): { backend: DragBackend; latest(): DragLatent } {
  let last: DragLatent | undefined;
  const wrapped: DragBackend = {
    specificationVersion: backend.specificationVersion,
    info: backend.info,
    createLatent: (source, options) => backend.createLatent(source, options),
    forward: (latent, options) => {
      last = cloneLatent(latent);
      return backend.forward(latent, options);
    },
    render: (latent, options) => backend.render(latent, options),
    dispose: () => backend.dispose(),
  };
  return {
    backend: wrapped,
    latest: () => {
      if (!last) throw new Error('No forward pass has run yet.');
      return last;
    },
  };
}
