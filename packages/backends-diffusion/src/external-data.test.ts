import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { DragLatent, Mask } from '@stabledrag/core';
import { expectAllClose } from '@stabledrag/core/conformance';
import { DiffusionBackend } from './diffusion-backend.js';
import type { ExternalWeightsFactory } from './external-weights.js';
import { layoutModelDir, loadDiffusionBackend, readDiffusionModelDir, tempFileWeights } from './node.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';
import { trainLora } from './train-lora.js';

// The same graphs on the same runtime: only where the weights come from differs.
const close = { atol: 1e-5, rtol: 1e-5 };
const runtime = ort as unknown as OrtRuntime;
const mask: Mask = { width: 64, height: 64, data: Uint8Array.from({ length: 64 * 64 }, (_, i) => (i % 64 < 24 ? 1 : 0)) };

/** tempFileWeights under `root`, recording what each open found in the batch's folder. */
function watched(root: string): { factory: ExternalWeightsFactory; opened: { files: string[]; weightsBytes: number }[] } {
  const opened: { files: string[]; weightsBytes: number }[] = [];
  const factory: ExternalWeightsFactory = (rt) => {
    const inner = tempFileWeights({ root })(rt);
    return {
      open: async (model, options) => {
        const session = await inner.open(model, options);
        const [dir, ...others] = readdirSync(root);
        expect(others).toEqual([]);
        opened.push({ files: readdirSync(join(root, dir!)).sort(), weightsBytes: statSync(join(root, dir!, 'weights.bin')).size });
        return session;
      },
      close: () => inner.close(),
    };
  };
  return { factory, opened };
}

/** Batch folders' parents, removed after each test even when it fails. */
const roots: string[] = [];
function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'sd-external-'));
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const nudged = (latent: DragLatent): DragLatent => ({ ...latent, optimized: Float32Array.from(latent.optimized, (v, i) => v + 0.1 * Math.sin(i)) });

async function expectSameDrag(external: DiffusionBackend, inline: DiffusionBackend, latent: DragLatent, masked: boolean): Promise<void> {
  const options = masked ? { fixedRegion: { mask, weight: 0.1 } } : {};
  const [pe, pi] = [await external.forward(latent, options), await inline.forward(latent, options)];
  expectAllClose(pe.features.data, pi.features.data, close);
  if (masked) expect(Math.abs(pe.fixedRegionLoss! - pi.fixedRegionLoss!)).toBeLessThanOrEqual(1e-5 * pi.fixedRegionLoss!);
  const u = Float32Array.from(pi.features.data, (_, i) => Math.cos(0.7 * i));
  expectAllClose(await pe.vjp(u), await pi.vjp(u), close);
}

describe('graphs over the inline limit (threshold forced to 0 on the layout model)', () => {
  it('node entry: every graph opens from one batch folder of temporary files, deleted once the sessions exist; same latents, features, gradients, mask term and renders as inline', async () => {
    const root = tempRoot();
    const { factory, opened } = watched(root);
    const external = await loadDiffusionBackend({ modelDir: layoutModelDir, externalData: { threshold: 0, weights: factory } });
    const inline = await loadDiffusionBackend({ modelDir: layoutModelDir });
    // Text encoder, UNet, UNet with mutual self-attention, features, forward, backward, VAE encoder and decoder.
    expect(opened).toHaveLength(8);
    expect(opened[7]!.files).toEqual([...Array.from({ length: 8 }, (_, i) => `graph-${i}.onnx`), 'weights.bin'].sort());
    // The UNet graphs share one copy of its weights: the file hardly grows after the first (the
    // backward graph's transposed and flipped kernels are new tensors, so it is not compared).
    const [afterText, afterUnet, , , afterForward] = opened.map((o) => o.weightsBytes);
    expect(afterUnet! - afterText!).toBeGreaterThan(500_000);
    expect(afterForward! - afterUnet!).toBeLessThan(0.2 * (afterUnet! - afterText!));
    expect(readdirSync(root)).toEqual([]);

    const latent = await inline.createLatent({ type: 'seed', seed: 3 });
    expectAllClose((await external.createLatent({ type: 'seed', seed: 3 })).optimized, latent.optimized, close);
    await expectSameDrag(external, inline, nudged(latent), false);
    // The masked graphs open on first use: a second batch, deleted likewise.
    await expectSameDrag(external, inline, nudged(latent), true);
    expect(opened).toHaveLength(10);
    expect(readdirSync(root)).toEqual([]);
    expectAllClose((await external.render(nudged(latent))).data, (await inline.render(nudged(latent))).data, { atol: 1, rtol: 0 });
    await Promise.all([external.dispose(), inline.dispose()]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('DiffusionBackend.create without a weights factory hands them over in memory (onnxruntime-node takes the externalData option)', async () => {
    const files = await readDiffusionModelDir(layoutModelDir);
    const external: boolean[] = [];
    const recording = {
      ...runtime,
      InferenceSession: {
        create: (model: Uint8Array | string, options?: OrtSessionOptions) => {
          external.push(options?.externalData?.[0]?.path === 'weights.bin' && typeof model !== 'string');
          return runtime.InferenceSession.create(model, options);
        },
      },
    };
    const parts = { files, mutualSelfAttention: false, fixedRegionTerm: false } as const;
    const b = await DiffusionBackend.create({ ...parts, runtime: recording, externalData: { threshold: 0 } });
    const inline = await DiffusionBackend.create({ ...parts, runtime });
    expect(external).toEqual(Array<boolean>(7).fill(true));
    const latent = await inline.createLatent({ type: 'seed', seed: 4 });
    await expectSameDrag(b, inline, nudged(latent), false);
    await Promise.all([b.dispose(), inline.dispose()]);
  });

  it('trains the same LoRA adapters from temporary files as inline, and deletes them', async () => {
    const files = await readDiffusionModelDir(layoutModelDir);
    const root = tempRoot();
    const { factory, opened } = watched(root);
    const image = { width: 64, height: 64, data: Uint8ClampedArray.from({ length: 64 * 64 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256)) };
    const options = { rank: 2, steps: 2, batch: 2, seed: 3, learningRate: 1e-2 };
    const a = await trainLora({ runtime, files, externalData: { threshold: 0, weights: factory } }, image, options);
    const b = await trainLora({ runtime, files }, image, options);
    expect(opened).toHaveLength(4);
    expectAllClose(a.losses, b.losses, close);
    // Adam divides by √v: where an adapter's gradient is near zero, the last-bit differences of
    // float32 kernels (inline and file-backed initialisers can take different MLAS paths; seen on one
    // 2-core VM: 1.3e-5 after two steps of lr 1e-2) come out at ~1e-5. A wrong weight would move the
    // adapters by the steps themselves (~1e-2), far beyond this.
    for (const [name, v] of Object.entries(b.values)) expectAllClose(a.values[name]!, v, { atol: 1e-4, rtol: 1e-4 });
    expect(readdirSync(root)).toEqual([]);
  });

  it('a graph that fails to open: one-line MODEL_ERROR, the opened sessions released, no temporary files left', async () => {
    const files = await readDiffusionModelDir(layoutModelDir);
    const root = tempRoot();
    let released = 0;
    const failing: OrtRuntime = {
      ...runtime,
      InferenceSession: {
        create: async (model, options) => {
          if (typeof model === 'string' && model.endsWith('graph-3.onnx')) throw new Error('Load model failed:\nout of memory');
          const s = await runtime.InferenceSession.create(model, options);
          return { ...s, inputNames: s.inputNames, outputNames: s.outputNames, run: s.run.bind(s), release: async () => { released++; await s.release(); } };
        },
      },
    };
    const error: Error & { code?: string } = await DiffusionBackend.create({ runtime: failing, files, externalData: { threshold: 0, weights: tempFileWeights({ root }) } }).then(() => new Error('loaded'), (e: unknown) => e as Error);
    expect(error.code).toBe('MODEL_ERROR');
    // Text encoder (released after the prompt), UNet, its mutual-attention twin: graph-3 is the feature graph.
    expect(error.message).toBe('ONNX Runtime could not load the feature graph of model "sd15-layout-tiny": Load model failed: out of memory');
    expect(released).toBe(3);
    expect(readdirSync(root)).toEqual([]);
  });
});
