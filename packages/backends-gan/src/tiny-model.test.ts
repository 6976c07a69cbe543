import { mkdtempSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertConformance, expectAllClose } from '@stabledrag/core/conformance';
import { checkAgainstGolden } from './golden.js';
import { loadGanBackend, tinyModelDir } from './node.js';

describe('tiny exported generator', () => {
  for (const file of ['synthesis.onnx', 'synthesis_fused.onnx']) {
    it(`${file} and mapping.onnx in onnxruntime-node reproduce the outputs PyTorch recorded at export`, async () => {
      await checkAgainstGolden(tinyModelDir, 'tiny-golden.json', file);
    });
  }
});

describe('GanBackend on the tiny model', () => {
  it('passes the conformance suite (non-fused modulated conv)', async () => {
    await assertConformance(() => loadGanBackend({ modelDir: tinyModelDir }), { epsilon: 1e-2, vjpTolerance: { atol: 2e-3, rtol: 2e-2 } });
  });

  it('passes the conformance suite on the fused export (conv weights computed from w)', async () => {
    await assertConformance(() => loadGanBackend({ modelDir: tinyModelDir, synthesisFile: 'synthesis_fused.onnx' }), {
      epsilon: 1e-2,
      vjpTolerance: { atol: 2e-3, rtol: 2e-2 },
    });
  });

  it('fused and non-fused exports give the same features and gradients', async () => {
    const a = await loadGanBackend({ modelDir: tinyModelDir });
    const b = await loadGanBackend({ modelDir: tinyModelDir, synthesisFile: 'synthesis_fused.onnx' });
    const latent = await a.createLatent({ type: 'seed', seed: 5 });
    const pa = await a.forward(latent);
    const pb = await b.forward(latent);
    expectAllClose(pb.features.data, pa.features.data, { atol: 1e-5, rtol: 1e-4 });
    const u = Float32Array.from(pa.features.data, (_, i) => Math.sin(i));
    expectAllClose(await pb.vjp(u), await pa.vjp(u), { atol: 1e-4, rtol: 1e-3 });
    expect(a.info.optimizedSize).toBe(4 * 16);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('a pass without the image (the pruned split forward) gives the same features and gradients as one with it', async () => {
    const backend = await loadGanBackend({ modelDir: tinyModelDir });
    const latent = await backend.createLatent({ type: 'seed', seed: 7 });
    const lean = await backend.forward(latent);
    const full = await backend.forward(latent, { withImage: true });
    expect(lean.image).toBeUndefined();
    expect(full.image?.width).toBe(32);
    expect(Array.from(lean.features.data)).toEqual(Array.from(full.features.data));
    const u = Float32Array.from(lean.features.data, (_, i) => Math.cos(0.3 * i));
    expect(Array.from(await lean.vjp(u))).toEqual(Array.from(await full.vjp(u)));
    await backend.dispose();
  });

  it('makes W+ from a seed with truncation towards w_avg, all rows equal', async () => {
    const backend = await loadGanBackend({ modelDir: tinyModelDir });
    const l0 = await backend.createLatent({ type: 'seed', seed: 3, truncation: 0 });
    const raw = readFileSync(join(tinyModelDir, 'w_avg.bin'));
    const wAvg = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    expectAllClose(l0.optimized.subarray(0, 16), wAvg, { atol: 1e-6, rtol: 0 });
    const l1 = await backend.createLatent({ type: 'seed', seed: 3, truncation: 1 });
    expectAllClose(l1.frozen.subarray(0, 16), l1.optimized.subarray(0, 16), { atol: 0, rtol: 0 });
    expect(l1.meta).toMatchObject({ seed: 3, truncation: 1 });
    await backend.dispose();
  });

  it('refuses a missing folder, a model.json naming a missing tensor, and a latent of another model', async () => {
    await expect(loadGanBackend({ modelDir: '/nonexistent/model' })).rejects.toThrow(/No model folder at \/nonexistent\/model: model.json is missing/);
    const dir = mkdtempSync(join(tmpdir(), 'sd-tiny-'));
    cpSync(tinyModelDir, dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...cfg, tensors: { ...(cfg.tensors as object), features: 'block7_out' }, feature: { name: 'block7_out', scale: 4 } }));
    await expect(loadGanBackend({ modelDir: dir })).rejects.toThrow(/names the tensor "block7_out" but synthesis.onnx has no tensor of that name/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...cfg, drag_stop_distance: 0 }));
    await expect(loadGanBackend({ modelDir: dir })).rejects.toThrow(/"drag_stop_distance" must be positive, got 0/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...cfg, drag_stop_distance: 0.75 }));
    const stated = await loadGanBackend({ modelDir: dir });
    expect(stated.info.defaultStopDistance).toBe(0.75);
    await stated.dispose();
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...cfg, files: { ...(cfg.files as object), mapping: 'gone.onnx' } }));
    await expect(loadGanBackend({ modelDir: dir })).rejects.toThrow(/names "gone.onnx" but .* cannot be read/);
    const backend = await loadGanBackend({ modelDir: tinyModelDir });
    await expect(
      backend.createLatent({ type: 'latent', latent: { optimized: new Float32Array(5), frozen: new Float32Array(0), meta: {} } }),
    ).rejects.toThrow(/takes W\+ of 8×16 = 128/);
    await backend.dispose();
  });
});
