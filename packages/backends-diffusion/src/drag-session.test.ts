import { describe, expect, it } from 'vitest';
import { DragSession } from '@stabledrag/core';
import { ConfidentSupervision, MotionSupervision } from '@stabledrag/motion';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';
import { layoutModelDir, loadDiffusionBackend } from './node.js';

describe('DragSession on the layout model (both methods, DragDiffusion radii from the backend)', () => {
  for (const method of ['dragdiffusion', 'stabledrag-diff'] as const) {
    it(`${method}: runs the drag loop on z_t and lowers the supervision loss`, async () => {
      const backend = await loadDiffusionBackend({ modelDir: layoutModelDir });
      const { imageRadii } = backend.dragDefaults;
      const latent = await backend.createLatent({ type: 'seed', seed: 3 });
      const session = new DragSession({
        backend,
        latent,
        tracker: method === 'stabledrag-diff' ? new DiscriminativeTracker({ radius: imageRadii.tracking }) : new NearestNeighbourTracker({ radius: imageRadii.tracking }),
        supervisor: method === 'stabledrag-diff' ? new ConfidentSupervision({ radius: imageRadii.motion }) : new MotionSupervision({ radius: imageRadii.motion }),
        pairs: [{ handle: { x: 20, y: 30 }, target: { x: 40, y: 30 } }],
        maxSteps: 6,
      });
      const result = await session.run();
      expect(result.steps).toBe(6);
      expect(result.history.every((e) => Number.isFinite(e.loss))).toBe(true);
      expect(result.latent.optimized.some((v, i) => v !== latent.optimized[i])).toBe(true);
      // The source z_t stays put for the final denoise.
      expect(result.latent.frozen).toEqual(latent.frozen);
      const losses = result.history.map((e) => e.loss);
      expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
      const img = await backend.render(result.latent);
      expect(img.width).toBe(64);
      await backend.dispose();
    });
  }
});
