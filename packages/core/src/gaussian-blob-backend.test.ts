import { describe, expect, it } from 'vitest';
import type { DragBackend } from './backend.js';
import { assertConformance, runConformance } from './conformance-suite.js';
import { GaussianBlobBackend } from './gaussian-blob-backend.js';

describe('GaussianBlobBackend', () => {
  it('passes the conformance suite', async () => {
    const report = await assertConformance(() => new GaussianBlobBackend(), { epsilon: 1e-2, vjpTolerance: { atol: 1e-4, rtol: 1e-3 } });
    expect(report.checks.length).toBeGreaterThan(20);
  });

  it('the conformance suite catches a backend whose VJP has the wrong sign', async () => {
    const broken = (): DragBackend => {
      const inner = new GaussianBlobBackend();
      return {
        specificationVersion: 'v1',
        info: inner.info,
        createLatent: (s, o) => inner.createLatent(s, o),
        render: (l, o) => inner.render(l, o),
        dispose: () => inner.dispose(),
        forward: async (l, o) => {
          const pass = await inner.forward(l, o);
          return { ...pass, vjp: async (u) => (await pass.vjp(u)).map((g) => -g), release: () => pass.release() };
        },
      };
    };
    const report = await runConformance(broken, { seeds: [0] });
    expect(report.passed).toBe(false);
    expect(report.checks.filter((c) => !c.passed).every((c) => c.name.includes('finite differences'))).toBe(true);
  });

  it('has look-alike distractors: a distractor blob has the same feature vector as a movable one', async () => {
    const b = new GaussianBlobBackend({ movable: 1, distractors: 1, size: 64, featureScale: 2 });
    const latent = { optimized: Float32Array.from([15.5, 15.5]), frozen: Float32Array.from([47.5, 47.5]), meta: {} };
    const { features } = await b.forward(latent);
    const at = (u: number, v: number): number[] =>
      Array.from({ length: features.channels }, (_, c) => features.data[c * 32 * 32 + v * 32 + u]!);
    expect(at(7, 7)).toEqual(at(23, 23).map((x) => expect.closeTo(x, 5)));
    await expect(b.createLatent({ type: 'image', image: { data: new Uint8ClampedArray(4), width: 1, height: 1 } })).rejects.toThrow(/cannot invert/);
  });
});
