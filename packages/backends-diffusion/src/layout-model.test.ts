import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { assertConformance, expectAllClose } from '@stabledrag/core/conformance';
import { loadModel, serializeModel } from '@stabledrag/onnx-autograd';
import { buildDragGraphs } from './build-drag-graphs.js';
import { layoutModelDir, loadDiffusionBackend, readDiffusionModelFiles } from './node.js';
import type { DiffusionProgress } from './diffusion-backend.js';
import { emptyPromptIds } from './prompt.js';
import { describeUnet } from './unet-io.js';
import { mutualAttentionLayers } from './mutual-attention.js';

// PyTorch float64 golden data of the layout models (tools/diffusion/make_tiny.py).
function goldenOf(folder: string): (name: string) => Float32Array | Int32Array {
  const goldenDir = new URL(`../models/${folder}-golden/`, import.meta.url);
  const index = JSON.parse(readFileSync(new URL('golden.json', goldenDir), 'utf8')) as { tensors: Record<string, { dtype: string; offset: number; length: number }> };
  const bin = readFileSync(new URL('golden.bin', goldenDir));
  return (name) => {
    const t = index.tensors[name];
    if (!t) throw new Error(`no golden tensor ${name}`);
    const bytes = bin.buffer.slice(bin.byteOffset + t.offset, bin.byteOffset + t.offset + 4 * t.length);
    return t.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  };
}
/** The second layout folder: SD 1.5's VAE factor 8 and its attention pattern (128² images). */
const f8Dir = fileURLToPath(new URL('../models/sd15-layout-tiny-f8/', import.meta.url));
const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const read = async (p: string): Promise<Uint8Array> => new Uint8Array(readFileSync(join(layoutModelDir, p)));

describe('the SD-1.5-layout model folder', () => {
  it('is read with its model.json: sizes, feature tensor, self-attention layers and DragDiffusion defaults', async () => {
    const { config } = await readDiffusionModelFiles(read, layoutModelDir, 'x');
    expect(config).toMatchObject({
      name: 'sd15-layout-tiny', resolution: 64, vaeScaleFactor: 4, latentChannels: 4, scalingFactor: 0.18215, inferenceSteps: 50, inversionStrength: 0.7,
      featureTensor: '/up_blocks.2/upsamplers.0/conv/Conv_output_0', featureDownscale: 2, dragLearningRate: 0.01, radii: { motion: 1, tracking: 3 },
      mutualSelfAttention: { layers: [5, 6], startStep: 0 },
    });
    expect(config.selfAttention).toHaveLength(7);
    expect(config.selfAttention[5]?.key).toBe('/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_k/MatMul_output_0');
  });

  for (const [folder, dir] of [['sd15-layout-tiny', layoutModelDir], ['sd15-layout-tiny-f8', f8Dir]] as const) {
    it(`${folder}: drag graphs reproduce PyTorch's features and d⟨F, c⟩/dz_t at t = 681 (tolerance 1e-4 × max |golden|)`, async () => {
      const golden = goldenOf(folder);
      const files = await readDiffusionModelFiles(async (p) => new Uint8Array(readFileSync(join(dir, p))), dir, 'x');
      expect(Array.from(golden('input_ids'))).toEqual(emptyPromptIds(77, files.tokens));
      const context = golden('encoder_hidden_states') as Float32Array;
      // featureSize 16 = the block's own size: the half_pixel bilinear resize is then the identity.
      const g = buildDragGraphs(files.unet, {
        io: describeUnet(files.unet, 'unet/model.onnx'), featureTensor: files.config.featureTensor!, sampleShape: [1, 4, 16, 16],
        timestep: 681, context, contextShape: [1, 77, 16], featureSize: 16, file: 'unet/model.onnx',
      });
      const fwd = await ort.InferenceSession.create(serializeModel(g.forward));
      const bwd = await ort.InferenceSession.create(serializeModel(g.backward));
      const sample = new ort.Tensor('float32', golden('sample') as Float32Array, [1, 4, 16, 16]);
      const out = await fwd.run({ sample }, g.forwardOutputs as string[]);
      const expF = golden('features');
      expectAllClose(out[g.featureOutput]!.data as Float32Array, expF, { atol: 1e-4 * maxAbs(expF), rtol: 0 });
      const feeds: Record<string, ort.Tensor> = { sample, [g.cotangent]: new ort.Tensor('float32', golden('cotangent') as Float32Array, [1, 16, 16, 16]) };
      for (const n of g.backwardInputs) if (!feeds[n]) feeds[n] = out[n]!;
      const grad = (await bwd.run(feeds))[g.gradient]!.data as Float32Array;
      const expG = golden('grad_sample');
      expectAllClose(grad, expG, { atol: 1e-4 * maxAbs(expG), rtol: 0 });
      await Promise.all([fwd.release(), bwd.release()]);
    });
  }
});

describe('DiffusionBackend on the VAE-factor-8 layout model', () => {
  it('passes the conformance suite, with 128² images, 64² features and SD 1.5\'s mutual-attention layers', async () => {
    await assertConformance(() => loadDiffusionBackend({ modelDir: f8Dir }), { seeds: [0], epsilon: 3e-2, vjpTolerance: { atol: 2e-3, rtol: 2e-2 } });
    const b = await loadDiffusionBackend({ modelDir: f8Dir });
    expect(b.info).toMatchObject({ imageWidth: 128, featureWidth: 64, featureScale: 2, optimizedSize: 1024 });
    await b.dispose();
    const files = await readDiffusionModelFiles(async (p) => new Uint8Array(readFileSync(join(f8Dir, p))), f8Dir, 'x');
    const byDefault = mutualAttentionLayers(files.unet, { ...files.config, selfAttention: [], mutualSelfAttention: { layers: [], startStep: 0 } }, 'u');
    expect(byDefault.map((l) => l.module)).toEqual(mutualAttentionLayers(files.unet, files.config, 'u').map((l) => l.module));
    expect(byDefault).toHaveLength(4);
  });
});

describe('DiffusionBackend on the layout model', () => {
  it('passes the conformance suite', async () => {
    // Central differences of a float32 UNet are noisy at small steps: eps 3e-2 along unit directions.
    await assertConformance(() => loadDiffusionBackend({ modelDir: layoutModelDir }), { epsilon: 3e-2, vjpTolerance: { atol: 2e-3, rtol: 2e-2 } });
  });

  it('exposes DragDiffusion\'s defaults: lr 0.01, r_m 1 and r_p 3 feature px = 2 and 6 image px, features at half size', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    expect(b.info).toMatchObject({ kind: 'diffusion', imageWidth: 64, featureWidth: 32, featureHeight: 32, featureChannels: 16, featureScale: 2, optimizedSize: 1024, defaultLearningRate: 0.01 });
    expect(b.dragDefaults).toEqual({ learningRate: 0.01, featureRadii: { motion: 1, tracking: 3 }, imageRadii: { motion: 2, tracking: 6 } });
    expect(b.editTimestep).toBe(681);
    await b.dispose();
  });

  it('a seed\'s z_t lies on its 50-step DDIM trajectory: sampling 15 steps then rendering 35 equals sampling all 50', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const events: DiffusionProgress[] = [];
    const latent = await b.createLatent({ type: 'seed', seed: 4 }, { onProgress: (p) => events.push(p) });
    expect(events.map((e) => `${e.stage}${e.step}/${e.total}`).slice(-1)).toEqual(['sample15/15']);
    expect(latent.meta).toMatchObject({ source: 'seed', seed: 4, timestep: 681 });
    expectAllClose(latent.frozen, latent.optimized, { atol: 0, rtol: 0 });
    const z0 = await b.denoise(latent);
    // Independent loop over the whole table from the same z_T.
    const { createNormalRng } = await import('@stabledrag/core');
    const n = createNormalRng(4);
    let z: Float32Array = Float32Array.from({ length: 1024 }, () => n());
    for (const t of b.scheduler.timesteps) z = b.scheduler.step(await b.predictNoise(z, t), t, z).latent;
    expectAllClose(z0, z, { atol: 1e-5, rtol: 1e-5 });
    const img = await b.render(latent);
    expect(img.width).toBe(64);
    await b.dispose();
  });

  it('inverts an image in 35 steps with progress, fitting a non-square image with notices', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const w = 96;
    const h = 64;
    const data = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([(i * 7) % 256, (i * 3) % 256, 128, 255], 4 * i);
    const events: DiffusionProgress[] = [];
    const latent = await b.createLatent({ type: 'image', image: { data, width: w, height: h } }, { onProgress: (p) => events.push(p) });
    expect(events.filter((e) => e.stage === 'encode')).toHaveLength(1);
    expect(events.filter((e) => e.stage === 'invert').map((e) => e.step)).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    expect(latent.meta.notices).toEqual(['The 96×64 image was cropped to its centred 64×64 square.']);
    // Inversion moves z_0 towards noise: z_t = √ᾱ x̂_0 + √(1−ᾱ) ε̂ has a different scale from z_0.
    const { z0 } = await b.encodeImage({ data: data.slice(0, 64 * 64 * 4), width: 64, height: 64 });
    expect(latent.optimized.some((v, i) => Math.abs(v - z0[i]!) > 1e-3)).toBe(true);
    expect(latent.optimized.every(Number.isFinite)).toBe(true);
    // A second drag of the same image reuses the inversion (no UNet call, no progress) and gets its own copy.
    events.length = 0;
    const again = await b.createLatent({ type: 'image', image: { data, width: w, height: h } }, { onProgress: (p) => events.push(p) });
    expect(events).toEqual([]);
    expectAllClose(again.optimized, latent.optimized, { atol: 0, rtol: 0 });
    again.optimized[0] = 99;
    expect((await b.createLatent({ type: 'image', image: { data, width: w, height: h } })).optimized[0]).toBe(latent.optimized[0]);
    await b.dispose();
  });

  it('stops a long call when its AbortSignal fires, with the signal\'s reason', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const ac = new AbortController();
    let steps = 0;
    const p = b.createLatent({ type: 'seed', seed: 1 }, {
      signal: ac.signal,
      onProgress: () => {
        if (++steps === 3) ac.abort(new Error('user cancelled'));
      },
    });
    await expect(p).rejects.toThrow('user cancelled');
    expect(steps).toBe(3);
    const latent = await b.createLatent({ type: 'seed', seed: 1 });
    await expect(b.render(latent, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    await b.dispose();
  });

  it('refuses a missing folder, an incomplete one, an optimized export and a latent from elsewhere, in one line each', async () => {
    await expect(loadDiffusionBackend({ modelDir: '/nonexistent/sd' })).rejects.toThrow(/^No model folder at \/nonexistent\/sd: pass a Stable Diffusion ONNX folder/);
    const dir = mkdtempSync(join(tmpdir(), 'sd-layout-'));
    cpSync(layoutModelDir, dir, { recursive: true });
    writeFileSync(join(dir, 'vae_decoder/model.onnx'), new Uint8Array(0));
    const unet = loadModel(readFileSync(join(dir, 'unet/model.onnx')), { externalData: (loc) => readFileSync(join(dir, 'unet', loc)) });
    const first = unet.graph.nodes.findIndex((n) => n.opType === 'Softmax');
    unet.graph.nodes[first] = { ...unet.graph.nodes[first]!, opType: 'MultiHeadAttention', domain: 'com.microsoft', name: '/down_blocks.1/attentions.0/Attention' };
    writeFileSync(join(dir, 'unet/model.onnx'), serializeModel(unet));
    await expect(loadDiffusionBackend({ modelDir: dir })).rejects.toThrow(/vae_decoder\/model.onnx is not a readable ONNX model|uses the com.microsoft op/);
    cpSync(join(layoutModelDir, 'vae_decoder'), join(dir, 'vae_decoder'), { recursive: true });
    await expect(loadDiffusionBackend({ modelDir: dir })).rejects.toThrow(/^unet\/model.onnx uses the com.microsoft op MultiHeadAttention \(node "\/down_blocks.1\/attentions.0\/Attention"\).*without optimisation/);
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    await expect(b.createLatent({ type: 'latent', latent: { optimized: new Float32Array(5), frozen: new Float32Array(0), meta: {} } })).rejects.toThrow(/takes z_t of 4×16×16 = 1024/);
    await expect(b.createLatent({ type: 'latent', latent: { optimized: new Float32Array(1024), frozen: new Float32Array(0), meta: { timestep: 501 } } })).rejects.toThrow(/z_t at t = 501, but the backend edits at t = 681/);
    await b.dispose();
  });
});
