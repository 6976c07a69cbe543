import { describe, expect, it } from 'vitest';
import type { DragBackend, DragLatent, ForwardOptions, ForwardPass } from './backend.js';
import { DragSession } from './drag-session.js';
import { featureRms } from './divergence-guard.js';
import { GaussianBlobBackend } from './gaussian-blob-backend.js';
import type { MotionSupervisor } from './motion-supervisor.js';
import type { PointTracker } from './point-tracker.js';

/** Wraps a backend so that, from the `from`-th forward on, its features grow by `factor` per call. */
class InflatingBackend implements DragBackend {
  readonly specificationVersion = 'v1' as const;
  calls = 0;
  constructor(private readonly inner: DragBackend, private readonly from: number, private readonly factor: number) {}
  get info() { return this.inner.info; }
  createLatent(...a: Parameters<DragBackend['createLatent']>) { return this.inner.createLatent(...a); }
  render(...a: Parameters<DragBackend['render']>) { return this.inner.render(...a); }
  dispose() { return this.inner.dispose(); }
  async forward(latent: DragLatent, options?: ForwardOptions): Promise<ForwardPass> {
    const pass = await this.inner.forward(latent, options);
    const k = this.calls++ >= this.from ? this.factor ** (this.calls - this.from) : 1;
    if (k === 1) return pass;
    return { ...pass, features: { ...pass.features, data: pass.features.data.map((v) => v * k) }, vjp: pass.vjp.bind(pass), release: pass.release.bind(pass) };
  }
}

/** Tracks nothing: moves each handle one pixel towards its target per step, with a scripted confidence. */
function walkingTracker(confidence: (step: number) => number): PointTracker {
  let step = 0;
  return {
    name: 'walk',
    init: () => { step = 0; },
    track: (_f, current) => {
      step++;
      return current.map((p) => ({ point: { x: Math.min(p.x + 1, 40), y: p.y }, confidence: confidence(step) }));
    },
  };
}

const zeroSupervisor: MotionSupervisor = {
  name: 'zero',
  init: () => {},
  compute: ({ features, handles }) => ({ loss: 1, grad: new Float32Array(features.data.length).fill(1e-3), branches: handles.map(() => 'motion' as const) }),
};

async function session(backend: DragBackend, tracker: PointTracker, extra: Partial<ConstructorParameters<typeof DragSession>[0]> = {}) {
  const latent = await backend.createLatent({ type: 'seed', seed: 5 });
  return new DragSession({ backend, latent, tracker, supervisor: zeroSupervisor, pairs: [{ handle: { x: 20, y: 20 }, target: { x: 40, y: 20 } }], maxSteps: 60, ...extra });
}

describe('DragSession divergence guard', () => {
  it("stops with 'diverged' once the features leave the generator's range, keeping the best latent seen before", async () => {
    const backend = new InflatingBackend(new GaussianBlobBackend(), 10, 1.5);
    const s = await session(backend, walkingTracker(() => 1));
    const result = await s.run();
    expect(result.stopReason).toBe('diverged');
    // forwards 0..9 are plain, then ×1.5 per call: the ratio passes 3 within a few steps.
    expect(result.steps).toBeGreaterThanOrEqual(11);
    expect(result.steps).toBeLessThanOrEqual(13);
    expect(result.history.at(-1)!.featureRmsRatio).toBeLessThanOrEqual(3);
    expect(result.history.at(-1)!.featureRmsRatio).toBeGreaterThan(1.5);
    // The walking tracker gets nearer every step, so the latent kept is the last one the guard
    // passed: the one before the final update (whose features were the diverged ones).
    expect(result.bestStep).toBe(result.steps - 1);
    expect(result.history.length).toBe(result.steps);
    expect(result.latent.optimized.every(Number.isFinite)).toBe(true);
  });

  it('returns the best latent, not the last, when the handles drifted away before diverging', async () => {
    const backend = new InflatingBackend(new GaussianBlobBackend(), 10, 1.5);
    let step = 0;
    const away: PointTracker = {
      name: 'away',
      init: () => { step = 0; },
      // nearest at step 4 (distance 16), then drifting back
      track: (_f, current) => current.map(() => ({ point: { x: 20 + Math.max(0, 4 - Math.abs(++step - 4)), y: 20 }, confidence: 1 })),
    };
    const latent = await backend.createLatent({ type: 'seed', seed: 5 });
    const s = await session(backend, away);
    const result = await s.run();
    expect(result.stopReason).toBe('diverged');
    expect(result.bestStep).toBe(3); // step 4 tracked the latent after 3 updates
    // Rerunning the same drag for exactly 3 steps gives that latent.
    const three = await (await session(new InflatingBackend(new GaussianBlobBackend(), 10, 1.5), away, { maxSteps: 3, divergence: false })).run();
    expect(Array.from(result.latent.optimized)).toEqual(Array.from(three.latent.optimized));
    expect(latent.optimized.length).toBe(result.latent.optimized.length);
  });

  it('can be turned off, and checks its limit', async () => {
    const backend = new InflatingBackend(new GaussianBlobBackend(), 2, 1.5);
    const result = await (await session(backend, walkingTracker(() => 1), { maxSteps: 12, divergence: false })).run();
    expect(result.stopReason).toBe('max-steps');
    expect(result.history.at(-1)!.featureRmsRatio).toBeGreaterThan(10);
    await expect(session(backend, walkingTracker(() => 1), { divergence: { featureRmsLimit: 0.5 } })).rejects.toThrow(/featureRmsLimit must be a number above 1/);
  });

  it('reports featureRms as the root mean square', () => {
    expect(featureRms({ data: new Float32Array([3, -4, 0, 0]), channels: 1, height: 2, width: 2, scale: 1 })).toBeCloseTo(2.5, 12);
  });
});

describe('DragSession confident convergence (minConfidenceRatio)', () => {
  it('does not stop at the target while the confidence is below the ratio of s_1, and stops once it recovers', async () => {
    // Arrives at step 20 (x 20 → 40); confidence 1 at step 1, 0.2 until step 30, 0.9 after.
    const conf = (step: number): number => (step === 1 ? 1 : step < 30 ? 0.2 : 0.9);
    const plain = await (await session(new GaussianBlobBackend(), walkingTracker(conf), { stopDistance: 0.5 })).run();
    expect(plain.stopReason).toBe('converged');
    expect(plain.history.length).toBe(20);
    const confident = await (await session(new GaussianBlobBackend(), walkingTracker(conf), { minConfidenceRatio: 0.4, stopDistance: 0.5 })).run();
    expect(confident.stopReason).toBe('converged');
    expect(confident.history.length).toBe(30);
    expect(confident.history.slice(19, 29).every((e) => !e.converged && e.distances[0] === 0)).toBe(true);
  });

  it('rejects a negative ratio', async () => {
    await expect(session(new GaussianBlobBackend(), walkingTracker(() => 1), { minConfidenceRatio: -1 })).rejects.toThrow(/minConfidenceRatio must be a non-negative number/);
  });
});
