import { describe, expect, it } from 'vitest';
import type { DragBackend } from './backend.js';
import { DragSession } from './drag-session.js';
import type { DragSessionOptions, DragStepEvent } from './drag-session.js';
import { GaussianBlobBackend } from './gaussian-blob-backend.js';
import type { MotionSupervisor } from './motion-supervisor.js';
import type { PointTracker } from './point-tracker.js';
import { sampleBilinear, scatterBilinear } from './bilinear.js';
import { stopDistanceFor } from './validate.js';

/** Test double: keeps the points where they are. */
const stayTracker: PointTracker = {
  name: 'stay',
  init: () => {},
  track: (_f, current) => current.map((point) => ({ point, confidence: 1 })),
};

/** Test double: loss = −Σ F(handle)·c for a fixed channel vector, so its gradient is never zero. */
const pullSupervisor: MotionSupervisor = {
  name: 'pull',
  init: () => {},
  compute: ({ features, handles }) => {
    const sample = sampleBilinear(features, handles);
    const g = new Float32Array(sample.length).fill(-1);
    const grad = scatterBilinear(features, handles, g, new Float32Array(features.data.length));
    return { loss: -sample.reduce((a, b) => a + b, 0), grad, branches: handles.map(() => 'motion' as const) };
  },
};

async function setup(over: Partial<DragSessionOptions> = {}): Promise<DragSessionOptions> {
  const backend = over.backend ?? new GaussianBlobBackend();
  const latent = await backend.createLatent({ type: 'seed', seed: 3 });
  return {
    backend,
    latent,
    tracker: stayTracker,
    supervisor: pullSupervisor,
    pairs: [{ handle: { x: 20, y: 20 }, target: { x: 40, y: 20 } }],
    maxSteps: 5,
    ...over,
  };
}

describe('DragSession', () => {
  it('with imageIntervalMs asks for an image only when that long has passed since the last one', async () => {
    const opts = await setup({ maxSteps: 12, withImages: true, imageIntervalMs: 40 });
    const asked: boolean[] = [];
    const backend = opts.backend;
    const spy: DragBackend = Object.assign(Object.create(backend) as DragBackend, {
      forward: (latent: Parameters<DragBackend['forward']>[0], o: Parameters<DragBackend['forward']>[1]) => {
        asked.push(o?.withImage ?? false);
        return backend.forward(latent, o);
      },
    });
    let t = 0;
    const images: boolean[] = [];
    await new DragSession({ ...opts, backend: spy, clock: () => (t += 2) }).run({ onStep: (e) => void images.push(e.image !== undefined) });
    // the clock advances 2 ms per reading, several readings a step: an image every few steps
    expect(asked[0]).toBe(true);
    expect(asked.filter(Boolean).length).toBeGreaterThan(1);
    expect(asked.filter(Boolean).length).toBeLessThan(asked.length / 2);
    expect(images).toEqual(asked.slice(0, images.length));
    let all = 0;
    await new DragSession({ ...opts, imageIntervalMs: undefined }).run({ onStep: (e) => void (all += e.image ? 1 : 0) });
    expect(all).toBe(12);
  });

  it('runs to maxSteps, emits one event per step with timings and branches, and never touches the input latent', async () => {
    const opts = await setup();
    const before = new Float32Array(opts.latent.optimized);
    const events: DragStepEvent[] = [];
    let t = 0;
    const result = await new DragSession({ ...opts, clock: () => (t += 1) }).run({ onStep: (e) => void events.push(e) });
    expect(result.stopReason).toBe('max-steps');
    expect(result.steps).toBe(5);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    expect(events[0]!.branches).toEqual(['motion']);
    expect(events[0]!.distances[0]).toBeCloseTo(20, 6);
    // The injected clock ticks once per reading: forward, track, supervise, backward and optimizer each take 1.
    expect(events[1]!.timings).toEqual({ forward: 1, track: 1, supervise: 1, backward: 1, optimizer: 1, total: 5 });
    expect(opts.latent.optimized).toEqual(before);
    expect(result.latent.optimized).not.toEqual(before);
  });

  it('is deterministic', async () => {
    const opts = await setup();
    const a = await new DragSession(opts).run();
    const b = await new DragSession(opts).run();
    expect(a.latent.optimized).toEqual(b.latent.optimized);
  });

  it('stops cleanly when aborted and returns the latent so far', async () => {
    const opts = await setup({ maxSteps: 50 });
    const controller = new AbortController();
    const result = await new DragSession(opts).run({
      signal: controller.signal,
      onStep: (e) => {
        if (e.step === 3) controller.abort();
      },
    });
    expect(result.stopReason).toBe('aborted');
    expect(result.steps).toBe(3);
    expect(result.history).toHaveLength(3);
  });

  it('converges when the tracker reports the targets reached, without a final update', async () => {
    const opts = await setup();
    const arrived: PointTracker = { name: 'arrived', init: () => {}, track: () => [{ point: { x: 39, y: 20 }, confidence: 1 }] };
    const result = await new DragSession({ ...opts, tracker: arrived }).run();
    expect(result.stopReason).toBe('converged');
    expect(result.steps).toBe(0);
    expect(result.history[0]!.converged).toBe(true);
  });

  it("stops at the backend's own stop distance when it states one, else at DragGAN's 2 px", async () => {
    // the tracker puts the handle 1 px from its target: inside 2 px, outside 0.5 px
    const near: PointTracker = { name: 'near', init: () => {}, track: () => [{ point: { x: 39, y: 20 }, confidence: 1 }] };
    const plain = new GaussianBlobBackend();
    expect((await new DragSession({ ...(await setup({ backend: plain })), tracker: near }).run()).stopReason).toBe('converged');
    const strict: DragBackend = Object.assign(Object.create(plain) as DragBackend, { info: { ...plain.info, defaultStopDistance: 0.5 } });
    const result = await new DragSession({ ...(await setup({ backend: strict })), tracker: near }).run();
    expect(result.stopReason).toBe('max-steps');
    expect(result.steps).toBe(5);
    expect(stopDistanceFor(strict.info)).toBe(0.5);
    expect(stopDistanceFor(plain.info)).toBe(2);
  });

  it('refuses bad input with messages that say what to fix', async () => {
    const opts = await setup();
    const bad = (over: Partial<DragSessionOptions>) => () => new DragSession({ ...opts, ...over });
    expect(bad({ pairs: [] })).toThrow(/No handle\/target pairs/);
    expect(bad({ pairs: [{ handle: { x: 70, y: 5 }, target: { x: 5, y: 5 } }] })).toThrow(/Handle 1 \(70, 5\) is outside the 64×64 image/);
    expect(bad({ pairs: [{ handle: { x: NaN, y: 5 }, target: { x: 5, y: 5 } }] })).toThrow(/not a finite/);
    expect(bad({ pairs: [{ handle: { x: 5, y: 5 }, target: { x: 5, y: 5 } }] })).toThrow(/already within the stop distance/);
    expect(bad({ mask: { data: new Uint8Array(16).fill(1), width: 4, height: 4 } })).toThrow(/mask is 4×4 but the image is 64×64/);
    expect(bad({ maxSteps: 0 })).toThrow(/maxSteps/);
    expect(bad({ latent: { ...opts.latent, optimized: new Float32Array(3) } })).toThrow(/expects 4/);
  });

  it('rejects a backend whose VJP returns the wrong length', async () => {
    const inner = new GaussianBlobBackend();
    const broken: DragBackend = {
      specificationVersion: 'v1',
      info: inner.info,
      createLatent: (s) => inner.createLatent(s),
      render: (l) => inner.render(l),
      dispose: () => inner.dispose(),
      forward: async (l, o) => ({ ...(await inner.forward(l, o)), vjp: async () => new Float32Array(3), release: () => {} }),
    };
    const opts = await setup({ backend: broken });
    await expect(new DragSession(opts).run()).rejects.toThrow(/returned a gradient of 3 floats.*optimizedSize is 4/);
  });

  it('rejects a backend of another specification version', async () => {
    const opts = await setup();
    const v2 = { ...opts.backend, specificationVersion: 'v2', info: opts.backend.info } as unknown as DragBackend;
    expect(() => new DragSession({ ...opts, backend: v2 })).toThrow(/specification 'v2'/);
  });
});
