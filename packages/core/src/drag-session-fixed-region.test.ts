import { describe, expect, it } from 'vitest';
import type { DragBackend, ForwardOptions } from './backend.js';
import { runConformance } from './conformance-suite.js';
import { DragSession } from './drag-session.js';
import type { DragSessionOptions } from './drag-session.js';
import { GaussianBlobBackend } from './gaussian-blob-backend.js';
import type { MotionSupervisor } from './motion-supervisor.js';
import type { PointTracker } from './point-tracker.js';
import type { Mask } from './types.js';

const stayTracker: PointTracker = { name: 'stay', init: () => {}, track: (_f, current) => current.map((point) => ({ point, confidence: 1 })) };

/** Records the mask init gets; loss 1 with a constant gradient, so every step moves the latent. */
function recordingSupervisor(): MotionSupervisor & { masks: (Mask | undefined)[] } {
  const masks: (Mask | undefined)[] = [];
  return {
    name: 'rec',
    masks,
    init: (_f, _h, mask) => void masks.push(mask),
    compute: ({ features, handles }) => ({ loss: 1, grad: new Float32Array(features.data.length).fill(1e-3), branches: handles.map(() => 'motion' as const) }),
  };
}

/**
 * The reference backend with a stand-in native term w·Σ z² (gradient 2w·z), so the test can tell
 * whether DragSession asked for the term, added its value to the loss and let its gradient through.
 */
function nativeBackend(reportLoss = true): DragBackend & { calls: ForwardOptions[] } {
  const inner = new GaussianBlobBackend();
  const calls: ForwardOptions[] = [];
  return {
    specificationVersion: 'v1',
    info: { ...inner.info, fixedRegionTerm: { kind: 'native', defaultWeight: 0.25, description: 'test: w·Σz²' } },
    calls,
    createLatent: (s) => inner.createLatent(s),
    render: (l) => inner.render(l),
    dispose: () => inner.dispose(),
    forward: async (latent, options = {}) => {
      calls.push(options);
      const pass = await inner.forward(latent, options);
      const region = options.fixedRegion;
      if (!region) return pass;
      const z = new Float32Array(latent.optimized);
      const term = region.weight * z.reduce((a, v) => a + v * v, 0);
      return {
        features: pass.features,
        ...(reportLoss ? { fixedRegionLoss: term } : {}),
        release: () => pass.release(),
        vjp: async (c) => (await pass.vjp(c)).map((g, i) => g + 2 * region.weight * z[i]!),
      };
    },
  };
}

const mask: Mask = { data: new Uint8Array(64 * 64).fill(1).fill(0, 0, 64 * 32), width: 64, height: 64 };

async function setup(backend: DragBackend, over: Partial<DragSessionOptions> = {}): Promise<DragSessionOptions> {
  const latent = await backend.createLatent({ type: 'seed', seed: 3 });
  return { backend, latent, tracker: stayTracker, supervisor: recordingSupervisor(), pairs: [{ handle: { x: 20, y: 20 }, target: { x: 40, y: 20 } }], maxSteps: 3, ...over };
}

describe('DragSession with a backend-native fixed-region term', () => {
  it('hands the mask to the backend with its default weight, not to the supervisor, and adds the term to the loss', async () => {
    const backend = nativeBackend();
    const supervisor = recordingSupervisor();
    const opts = await setup(backend, { supervisor, mask });
    const result = await new DragSession(opts).run();
    expect(supervisor.masks).toEqual([undefined]);
    expect(backend.calls).toHaveLength(3);
    for (const c of backend.calls) expect(c.fixedRegion).toEqual({ mask, weight: 0.25 });
    // Step 1 runs on the start latent: its term is 0.25·Σz² of that latent.
    const z = opts.latent.optimized;
    const expected = 0.25 * z.reduce((a, v) => a + v * v, 0);
    const first = result.history[0]!;
    expect(first.fixedRegionLoss).toBeCloseTo(expected, 5);
    expect(first.loss).toBeCloseTo(1 + expected, 5);
    expect(result.history.every((e) => e.fixedRegionLoss !== undefined && e.fixedRegionLoss > 0)).toBe(true);
  });

  it('lets the term\'s gradient reach Adam (the latent differs from the unmasked drag) and takes fixedRegionWeight', async () => {
    const backend = nativeBackend();
    const masked = await new DragSession(await setup(backend, { mask, fixedRegionWeight: 2 })).run();
    expect(backend.calls[0]!.fixedRegion!.weight).toBe(2);
    const plain = await new DragSession(await setup(nativeBackend())).run();
    expect(plain.history[0]!.fixedRegionLoss).toBeUndefined();
    expect(masked.latent.optimized).not.toEqual(plain.latent.optimized);
  });

  it('asks for nothing without a mask or with weight 0, and never gives the supervisor the mask of a native backend', async () => {
    for (const over of [{}, { mask, fixedRegionWeight: 0 }]) {
      const backend = nativeBackend();
      const supervisor = recordingSupervisor();
      const result = await new DragSession(await setup(backend, { supervisor, ...over })).run();
      expect(backend.calls.every((c) => c.fixedRegion === undefined)).toBe(true);
      expect(supervisor.masks).toEqual([undefined]);
      expect(result.history[0]!.loss).toBe(1);
    }
  });

  it('keeps the feature-space term for backends without one (the supervisor gets the mask, forward no fixedRegion)', async () => {
    const inner = new GaussianBlobBackend();
    const calls: ForwardOptions[] = [];
    const plain: DragBackend = { specificationVersion: 'v1', info: inner.info, createLatent: (s) => inner.createLatent(s), render: (l) => inner.render(l), dispose: () => inner.dispose(), forward: (l, o = {}) => (calls.push(o), inner.forward(l, o)) };
    const supervisor = recordingSupervisor();
    const result = await new DragSession(await setup(plain, { supervisor, mask })).run();
    expect(supervisor.masks).toEqual([mask]);
    expect(calls.every((c) => c.fixedRegion === undefined)).toBe(true);
    expect(result.history[0]!.fixedRegionLoss).toBeUndefined();
  });

  it('the conformance suite checks a native term: passes the right one, fails one whose vjp leaves the term out', async () => {
    expect((await runConformance(() => nativeBackend())).checks.filter((c) => !c.passed)).toEqual([]);
    const wrong = async (): Promise<DragBackend> => {
      const b = nativeBackend();
      return { ...b, forward: async (l, o) => {
        const p = await b.forward(l, o);
        const plain = await b.forward(l, { ...o, fixedRegion: undefined });
        return { ...p, vjp: (c) => plain.vjp(c), release: () => (p.release(), plain.release()) };
      } };
    };
    const failed = (await runConformance(wrong)).checks.filter((c) => !c.passed).map((c) => c.name);
    expect(failed).toEqual(['seed 0: vjp(0) of a fixedRegion pass matches central differences of fixedRegionLoss', 'seed 1: vjp(0) of a fixedRegion pass matches central differences of fixedRegionLoss']);
  });

  it('rejects a bad weight and a backend that declares the term but does not report it', async () => {
    const opts = await setup(nativeBackend(), { mask });
    expect(() => new DragSession({ ...opts, fixedRegionWeight: -1 })).toThrow(/fixedRegionWeight must be a non-negative number/);
    expect(() => new DragSession({ ...opts, fixedRegionWeight: Number.NaN })).toThrow(/fixedRegionWeight/);
    await expect(new DragSession(await setup(nativeBackend(false), { mask })).run()).rejects.toThrow(/declares info.fixedRegionTerm but its forward pass reported fixedRegionLoss = undefined/);
  });
});
