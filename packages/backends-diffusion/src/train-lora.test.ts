import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '@stabledrag/core/conformance';
import { DiffusionBackend } from './diffusion-backend.js';
import { layoutModelDir, loadDiffusionBackend, readDiffusionModelFiles } from './node.js';
import type { OrtRuntime } from './ort-runtime.js';
import { applyLora, trainLora } from './train-lora.js';

const runtime = ort as unknown as OrtRuntime;
const files = () => readDiffusionModelFiles(async (p) => new Uint8Array(readFileSync(join(layoutModelDir, p))), layoutModelDir, 'x');

function photo(): { data: Uint8ClampedArray; width: number; height: number } {
  const data = new Uint8ClampedArray(64 * 64 * 4);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.set([4 * x, 4 * y, x > 32 ? 200 : 40, 255], 4 * (64 * y + x));
  return { data, width: 64, height: 64 };
}

describe('LoRA fine-tuning on the input image (DragDiffusion: rank 16, AdamW 5e-4, batch 4)', () => {
  it('lowers the noise-prediction loss against an untrained run on the same batches, seeded, with progress', async () => {
    const f = await files();
    const seen: number[] = [];
    // Same seed → same initial adapters, timesteps and noise in both runs, so their losses differ
    // only by what training did (single batches of a random-weight UNet are too noisy to compare).
    const opts = { rank: 4, steps: 24, batch: 4, seed: 5 } as const;
    const trained = await trainLora({ runtime, files: f }, photo(), { ...opts, learningRate: 5e-2, onProgress: (p) => seen.push(p.step) });
    const frozen = await trainLora({ runtime, files: f }, photo(), { ...opts, learningRate: 1e-9 });
    expect(seen).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(trained.losses[0]).toBe(frozen.losses[0]);
    const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(trained.losses.slice(-12))).toBeLessThan(0.97 * mean(frozen.losses.slice(-12)));
    // to_q, to_k, to_v and to_out.0 of the model's 14 attention modules (self and cross).
    expect(trained.adapters).toHaveLength(4 * 14);
  });

  it('starts from B = 0, so untrained adapters merge into the same UNet', async () => {
    const f = await files();
    const lora = await trainLora({ runtime, files: f }, photo(), { rank: 2, steps: 0, batch: 1 });
    const plain = await DiffusionBackend.create({ runtime, files: f });
    const merged = await DiffusionBackend.create({ runtime, files: applyLora(f, lora) });
    const latent = await plain.createLatent({ type: 'seed', seed: 1 });
    expectAllClose((await merged.forward(latent)).features.data, (await plain.forward(latent)).features.data, { atol: 1e-6, rtol: 1e-6 });
    await Promise.all([plain.dispose(), merged.dispose()]);
  });

  it('changes the model once trained, and stops on abort', async () => {
    const f = await files();
    const lora = await trainLora({ runtime, files: f }, photo(), { rank: 2, steps: 3, batch: 2, learningRate: 1e-2 });
    const plain = await DiffusionBackend.create({ runtime, files: f });
    // The Node entry's `lora: { weights }` path merges the same adapters.
    const tuned = await loadDiffusionBackend({ modelDir: layoutModelDir, lora: { weights: lora } });
    const latent = await plain.createLatent({ type: 'seed', seed: 1 });
    const d = await tuned.predictNoise(latent.optimized, 681);
    const e = await plain.predictNoise(latent.optimized, 681);
    expect(d.some((v, i) => Math.abs(v - e[i]!) > 1e-4)).toBe(true);
    await Promise.all([plain.dispose(), tuned.dispose()]);
    const ac = new AbortController();
    const p = trainLora({ runtime, files: f }, photo(), { rank: 2, steps: 50, batch: 1, signal: ac.signal, onProgress: (s) => s.step === 2 && ac.abort(new Error('stop LoRA')) });
    await expect(p).rejects.toThrow('stop LoRA');
    await expect(trainLora({ runtime, files: f }, photo(), { rank: 0 })).rejects.toThrow(/LoRA rank must be a positive integer, got 0/);
  });
});
