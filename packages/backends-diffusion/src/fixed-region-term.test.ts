import { describe, expect, it } from 'vitest';
import { DragSession, createNormalRng } from '@stabledrag/core';
import type { DragLatent, Mask, MotionSupervisor } from '@stabledrag/core';
import { expectAllClose } from '@stabledrag/core/conformance';
import { MotionSupervision } from '@stabledrag/motion';
import { NearestNeighbourTracker } from '@stabledrag/tracker';
import { DdimScheduler } from './ddim-scheduler.js';
import { fixedRegionL1 } from './fixed-region-l1.js';
import { latentKeepMask } from './latent-keep-mask.js';
import { layoutModelDir, loadDiffusionBackend } from './node.js';

/** Editable left half of the 64² image; the right half (latent columns 8…15) must stay. */
const mask: Mask = { width: 64, height: 64, data: Uint8Array.from({ length: 64 * 64 }, (_, i) => (i % 64 < 32 ? 1 : 0)) };

function noisy(latent: DragLatent, seed: number, scale: number): DragLatent {
  const n = createNormalRng(seed);
  return { ...latent, optimized: latent.optimized.map((v) => v + scale * n()) };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('the mask term\'s pieces', () => {
  it('resizes the mask as PyTorch\'s legacy nearest does: the top-left pixel of each block, not its majority', () => {
    // 8×8 mask, 2×2 latent: block (0, 1) is editable except its top-left pixel (0, 4).
    const data = new Uint8Array(64);
    for (let y = 0; y < 4; y++) for (let x = 4; x < 8; x++) data[y * 8 + x] = 1;
    data[4] = 0;
    data[4 * 8 + 0] = 1; // block (1, 0): only its top-left pixel is editable
    expect(Array.from(latentKeepMask({ width: 8, height: 8, data }, 2, 2))).toEqual([1, 1, 0, 1]);
  });

  it('sums λ·keep·|ẑ − ẑ⁰| over channels and pixels, with gradient λ·keep·sign (0 at a tie)', () => {
    const zHat = Float32Array.from([1, -2, 3, 4, 0.5, 0.5, -1, 2]);
    const zHat0 = Float32Array.from([0, 0, 0, 0, 1, 0.5, 1, 1]);
    const keep = Float32Array.from([1, 0, 1, 1]); // 2 channels × 4 pixels
    const grad = new Float32Array(8);
    const loss = fixedRegionL1(zHat, zHat0, keep, 0.1, grad);
    expect(loss).toBeCloseTo(0.1 * (1 + 3 + 4 + 0.5 + 2 + 1), 6);
    expectAllClose(grad, [0.1, 0, 0.1, 0.1, -0.1, 0, -0.1, 0.1], { atol: 1e-7, rtol: 0 });
  });

  it('writes the DDIM step as a·x + b·ε (the coefficients the backward uses)', () => {
    const s = new DdimScheduler();
    const { a, b } = s.stepCoefficients(681);
    const x = Float32Array.from([0.3, -1.2, 2]);
    const e = Float32Array.from([1, 0.5, -0.7]);
    expectAllClose(s.step(e, 681, x).latent, x.map((v, i) => a * v + b * e[i]!), { atol: 1e-6, rtol: 1e-6 });
    expect(a).toBeGreaterThan(1); // ᾱ_{t−Δ} > ᾱ_t
  });
});

describe('DragDiffusion\'s mask term on the layout model', () => {
  it('declares the native term with model.json\'s maskLambda, and its value matches ẑ_{t−1} from the full UNet\'s ε', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    expect(b.info.fixedRegionTerm).toMatchObject({ kind: 'native', defaultWeight: 0.1 });
    const source = await b.createLatent({ type: 'seed', seed: 5 });
    const latent = noisy(source, 11, 0.1);
    const pass = await b.forward(latent, { fixedRegion: { mask, weight: 0.1 } });
    const t = b.editTimestep;
    // Independently: ε of the full UNet for both latents, the scheduler's DDIM step, and the right half kept.
    const zPrev = b.scheduler.step(await b.predictNoise(latent.optimized, t), t, latent.optimized).latent;
    const zPrev0 = b.scheduler.step(await b.predictNoise(source.optimized, t), t, source.optimized).latent;
    let expected = 0;
    for (let i = 0; i < zPrev.length; i++) if (i % 16 >= 8) expected += Math.abs(zPrev[i]! - zPrev0[i]!);
    expected *= 0.1;
    expect(expected).toBeGreaterThan(0.5);
    expect(Math.abs(pass.fixedRegionLoss! - expected)).toBeLessThanOrEqual(1e-4 * expected);
    // The features are those of the plain graph.
    const plain = await b.forward(latent);
    expectAllClose(pass.features.data, plain.features.data, { atol: 1e-5, rtol: 1e-5 });
    expect(plain.fixedRegionLoss).toBeUndefined();
    // At the source itself the term is exactly 0 (ẑ⁰ comes from the same graph).
    expect((await b.forward(source, { fixedRegion: { mask, weight: 0.1 } })).fixedRegionLoss).toBe(0);
    await expect(b.forward(latent, { fixedRegion: { mask: { ...mask, width: 32 }, weight: 0.1 } })).rejects.toThrow(/must be 64×64/);
    await expect(b.forward({ ...latent, frozen: new Float32Array(0) }, { fixedRegion: { mask, weight: 0.1 } })).rejects.toThrow(/latent.frozen/);
    await b.dispose();
  });

  it('vjp returns the gradient of ⟨F, c⟩ + term: central differences along 3 directions (ε = 1e-3), |Δ| ≤ 1e-4 + 1e-2·|fd| for the term alone, 2e-3 + 2e-2·|fd| with c', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const source = await b.createLatent({ type: 'seed', seed: 6 });
    const latent = noisy(source, 12, 0.1);
    const region = { mask, weight: 0.1 };
    // The term is an L1 sum: differences across a kink do not measure the gradient. A step of 1e-3
    // along a unit direction moves each ẑ_{t−1} element by < 1e-3; the directions leave alone the
    // few kept elements that close to ẑ⁰ (a ≈ 1.07 and the ε path is small on this model).
    const t = b.editTimestep;
    const zPrev = b.scheduler.step(await b.predictNoise(latent.optimized, t), t, latent.optimized).latent;
    const zPrev0 = b.scheduler.step(await b.predictNoise(source.optimized, t), t, source.optimized).latent;
    const nearKink = new Set(Array.from(zPrev.keys()).filter((i) => i % 16 >= 8 && Math.abs(zPrev[i]! - zPrev0[i]!) < 1e-3));
    expect(nearKink.size).toBeLessThan(10);
    const n = createNormalRng(13);
    const c = Float32Array.from({ length: 16 * 32 * 32 }, () => 0.01 * n());
    const zero = new Float32Array(c.length);
    const lossAt = async (z: Float32Array, cot: Float32Array): Promise<number> => {
      const p = await b.forward({ ...latent, optimized: z }, { fixedRegion: region, withVjp: false });
      return dot(p.features.data, cot) + p.fixedRegionLoss!;
    };
    const pass = await b.forward(latent, { fixedRegion: region });
    const eps = 1e-3;
    for (const cot of [zero, c]) {
      const grad = await pass.vjp(cot);
      for (let k = 0; k < 3; k++) {
        const v = Float32Array.from({ length: 1024 }, (_, i) => (nearKink.has(i) ? (n(), 0) : n()));
        const norm = Math.sqrt(dot(v, v));
        v.forEach((x, i) => (v[i] = x / norm));
        const plus = await lossAt(latent.optimized.map((x, i) => x + eps * v[i]!), cot);
        const minus = await lossAt(latent.optimized.map((x, i) => x - eps * v[i]!), cot);
        const fd = (plus - minus) / (2 * eps);
        const analytic = dot(grad, v);
        // With c the float32 features' own difference noise at this step sets the bound (the
        // conformance suite's VJP tolerance for this model); the term alone is checked 20× tighter.
        const [atol, rtol] = cot === zero ? [1e-4, 1e-2] : [2e-3, 2e-2];
        expect(Math.abs(analytic - fd), `cotangent ${cot === zero ? '0' : 'c'}, direction ${k}: ${analytic} vs ${fd}`).toBeLessThanOrEqual(atol + rtol * Math.abs(fd));
      }
    }
    pass.release();
    await b.dispose();
  });
});

describe('the mask term\'s path through ε (small beside a·g on this random model, so checked alone)', () => {
  it('vjp(0) − a·g equals central differences of b·⟨g, ε(z)⟩ with ε of the full UNet, |Δ| ≤ 1e-5 + 2e-2·|fd|', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const source = await b.createLatent({ type: 'seed', seed: 6 });
    const latent = noisy(source, 12, 0.1);
    const t = b.editTimestep;
    const { a, b: bCoef } = b.scheduler.stepCoefficients(t);
    const zPrev = b.scheduler.step(await b.predictNoise(latent.optimized, t), t, latent.optimized).latent;
    const zPrev0 = b.scheduler.step(await b.predictNoise(source.optimized, t), t, source.optimized).latent;
    // g = dterm/dẑ_{t−1} = λ·keep·sign(ẑ − ẑ⁰), the right half kept.
    const g = Float32Array.from(zPrev, (v, i) => (i % 16 >= 8 ? 0.1 * Math.sign(v - zPrev0[i]!) : 0));
    const pass = await b.forward(latent, { fixedRegion: { mask, weight: 0.1 } });
    const viaEps = (await pass.vjp(new Float32Array(16 * 32 * 32))).map((x, i) => x - a * g[i]!);
    const norm = Math.sqrt(dot(viaEps, viaEps));
    expect(norm).toBeGreaterThan(1e-3);
    const n = createNormalRng(14);
    const directions = [viaEps.map((x) => x / norm), ...[0, 1].map(() => {
      const v = Float32Array.from({ length: 1024 }, () => n());
      const s = Math.sqrt(dot(v, v));
      return v.map((x) => x / s);
    })];
    const h = 1e-2;
    for (const [k, v] of directions.entries()) {
      const at = async (sign: number): Promise<number> => bCoef * dot(g, await b.predictNoise(latent.optimized.map((x, i) => x + sign * h * v[i]!), t));
      const fd = ((await at(1)) - (await at(-1))) / (2 * h);
      const analytic = dot(viaEps, v);
      expect(Math.abs(analytic - fd), `direction ${k}: ${analytic} vs ${fd}`).toBeLessThanOrEqual(1e-5 + 2e-2 * Math.abs(fd));
    }
    pass.release();
    await b.dispose();
  });
});

describe('DragSession with a mask on the diffusion backend', () => {
  it('uses the backend\'s term (the supervisor gets no mask, the loss includes it) and keeps the fixed half closer to the source', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const { imageRadii } = b.dragDefaults;
    const latent = await b.createLatent({ type: 'seed', seed: 3 });
    const masks: (Mask | undefined)[] = [];
    const supervisor = (): MotionSupervisor => {
      const inner = new MotionSupervision({ radius: imageRadii.motion });
      return { name: inner.name, init: (f, h, m) => (masks.push(m), inner.init(f, h, m)), compute: (input) => inner.compute(input) };
    };
    const run = (withMask: boolean) => new DragSession({
      backend: b, latent, tracker: new NearestNeighbourTracker({ radius: imageRadii.tracking }), supervisor: supervisor(),
      pairs: [{ handle: { x: 12, y: 30 }, target: { x: 24, y: 30 } }], maxSteps: 8, fixedRegionWeight: 1, ...(withMask ? { mask } : {}),
    }).run();
    const masked = await run(true);
    const free = await run(false);
    expect(masks).toEqual([undefined, undefined]);
    const h = masked.history;
    expect(h[0]!.fixedRegionLoss).toBe(0);
    expect(h.slice(1).every((e) => e.fixedRegionLoss! > 0)).toBe(true);
    expect(free.history.every((e) => e.fixedRegionLoss === undefined)).toBe(true);
    // The step-event loss is the supervision loss plus the term: step 1 (term 0) equals the free run's.
    expect(h[0]!.loss).toBeCloseTo(free.history[0]!.loss, 5);
    const term = async (r: typeof masked): Promise<number> => (await b.forward(r.latent, { fixedRegion: { mask, weight: 1 }, withVjp: false })).fixedRegionLoss!;
    expect(await term(masked)).toBeLessThan(0.5 * (await term(free)));
    await b.dispose();
  });
});
