import { describe, expect, it } from 'vitest';
import { DragSession } from '@stabledrag/core';
import type { DragBackend } from '@stabledrag/core';
import { GaussianBlobBackend } from '@stabledrag/core/reference';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';
import { ConfidentSupervision, MotionSupervision } from './index.js';

/** The reference backend with the sign of its VJP flipped: the drag then pushes the wrong way. */
function flipped(inner: GaussianBlobBackend): DragBackend {
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
}

async function dragBlob(backend: DragBackend, method: 'stabledrag' | 'draggan', seed: number) {
  const latent = await backend.createLatent({ type: 'seed', seed });
  // Blob 0's centre is the handle; the target is 20 px to its right (inside the 64 px image).
  const handle = { x: latent.optimized[0]!, y: latent.optimized[1]! };
  const dir = handle.x < 32 ? 1 : -1;
  const target = { x: handle.x + 20 * dir, y: handle.y };
  const session = new DragSession({
    backend,
    latent,
    tracker: method === 'stabledrag' ? new DiscriminativeTracker({ radius: 6 }) : new NearestNeighbourTracker({ radius: 6 }),
    supervisor: method === 'stabledrag' ? new ConfidentSupervision({ radius: 3 }) : new MotionSupervision({ radius: 3 }),
    pairs: [{ handle, target }],
    maxSteps: 150,
    stopDistance: 1,
  });
  const result = await session.run();
  const blob = { x: result.latent.optimized[0]!, y: result.latent.optimized[1]! };
  return { result, target, blobError: Math.hypot(blob.x - target.x, blob.y - target.y) };
}

describe('DragSession on the reference backend', () => {
  // One movable blob and two look-alike distractors; seeds 1 and 7 put the movable blob clear of them.
  const blobs = () => new GaussianBlobBackend({ movable: 1, distractors: 2 });
  for (const [method, seed] of [['stabledrag', 1], ['stabledrag', 7], ['draggan', 1], ['draggan', 7]] as const) {
    it(`${method}, seed ${seed}: brings a handle 20 px away to within 1 px of its target`, async () => {
      const { result, target, blobError } = await dragBlob(blobs(), method, seed);
      expect(result.stopReason).toBe('converged');
      const p = result.points[0]!;
      expect(Math.hypot(p.x - target.x, p.y - target.y)).toBeLessThanOrEqual(1);
      // The blob itself (ground truth in the latent), not only the tracked point, reached the target.
      expect(blobError).toBeLessThanOrEqual(1.5);
    });
  }

  it('the same run fails when the gradient has the wrong sign', async () => {
    const { result, blobError } = await dragBlob(flipped(blobs()), 'stabledrag', 1);
    expect(result.stopReason).toBe('max-steps');
    expect(blobError).toBeGreaterThan(15);
  });
});
