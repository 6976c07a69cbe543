import { mkdtempSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { assertConformance, expectAllClose } from '@stabledrag/core/conformance';
import { loadGanBackend, tinyModelDir } from './node.js';

interface GoldenOutput { shape: number[]; sum: number; indices: number[]; values: number[] }
interface GoldenCase {
  name: string;
  w_rows: number[][];
  ws_row_source: number[];
  image: GoldenOutput;
  features: GoldenOutput;
  z?: number[];
  w_untruncated?: number[];
}
const golden = JSON.parse(readFileSync(new URL('./__fixtures__/tiny-golden.json', import.meta.url), 'utf8')) as {
  num_ws: number;
  w_dim: number;
  cases: GoldenCase[];
};

function wsOf(c: GoldenCase): Float32Array {
  const ws = new Float32Array(golden.num_ws * golden.w_dim);
  c.ws_row_source.forEach((src, r) => ws.set(c.w_rows[src]!, r * golden.w_dim));
  return ws;
}

describe('tiny exported generator', () => {
  for (const file of ['synthesis.onnx', 'synthesis_fused.onnx']) {
    it(`${file} in onnxruntime-node reproduces the outputs PyTorch recorded at export`, async () => {
      const session = await ort.InferenceSession.create(join(tinyModelDir, file));
      for (const c of golden.cases) {
        const out = await session.run({ ws: new ort.Tensor('float32', wsOf(c), [1, golden.num_ws, golden.w_dim]) });
        for (const name of ['image', 'features'] as const) {
          const data = out[name]!.data as Float32Array;
          expect([...out[name]!.dims]).toEqual(c[name].shape);
          expectAllClose(c[name].indices.map((i) => data[i]!), c[name].values, { atol: 1e-4, rtol: 1e-4 });
          expectAllClose([data.reduce((a, b) => a + b, 0)], [c[name].sum], { atol: 1e-2, rtol: 1e-4 });
        }
      }
      await session.release();
    });
  }

  it('mapping.onnx reproduces PyTorch z → w', async () => {
    const session = await ort.InferenceSession.create(join(tinyModelDir, 'mapping.onnx'));
    const cases = golden.cases.filter((c) => c.z && c.w_untruncated);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const out = await session.run({ z: new ort.Tensor('float32', Float32Array.from(c.z!), [1, c.z!.length]) });
      expectAllClose(out.w!.data as Float32Array, c.w_untruncated!, { atol: 1e-5, rtol: 1e-4 });
    }
  });
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
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...cfg, feature: { name: 'block7_out', scale: 4 } }));
    await expect(loadGanBackend({ modelDir: dir })).rejects.toThrow(/names the tensor "block7_out" but synthesis.onnx has no tensor of that name/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...cfg, files: { ...(cfg.files as object), mapping: 'gone.onnx' } }));
    await expect(loadGanBackend({ modelDir: dir })).rejects.toThrow(/names "gone.onnx" but .* cannot be read/);
    const backend = await loadGanBackend({ modelDir: tinyModelDir });
    await expect(
      backend.createLatent({ type: 'latent', latent: { optimized: new Float32Array(5), frozen: new Float32Array(0), meta: {} } }),
    ).rejects.toThrow(/takes W\+ of 8×16 = 128/);
    await backend.dispose();
  });
});
