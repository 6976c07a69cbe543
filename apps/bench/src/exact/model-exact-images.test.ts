import { describe, expect, it } from 'vitest';
import { loadGanBackend, tinyModelDir } from '@stabledrag/backends-gan/node';
import { erf } from './erfinv.js';
import { hasZ, latentOfTheta } from './model-exact-images.js';

describe('latentOfTheta (the model image of renderer parameters)', () => {
  it("gives the seed's own latent for the seed's θ, and another image for another θ", async () => {
    const backend = await loadGanBackend({ modelDir: tinyModelDir });
    try {
      expect(hasZ(backend)).toBe(true);
      const seed = 4;
      const theta0 = Array.from(backend.seedToZ(seed), (z) => Math.fround(erf(z / Math.SQRT2)));
      const own = await latentOfTheta(backend, seed, theta0, theta0);
      const base = await backend.createLatent({ type: 'seed', seed, truncation: 1 });
      expect(own.optimized).toEqual(base.optimized);
      expect(own.frozen).toEqual(base.frozen);
      const moved = theta0.map((t, i) => (i < 4 ? -t : t));
      const other = await latentOfTheta(backend, seed, theta0, moved);
      const a = await backend.render(own);
      const b = await backend.render(other);
      expect(a.data).not.toEqual(b.data);
    } finally {
      await backend.dispose();
    }
  });
});
