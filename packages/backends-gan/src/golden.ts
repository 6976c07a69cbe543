import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { expectAllClose } from '@stabledrag/core/conformance';

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
interface Golden { num_ws: number; w_dim: number; cases: GoldenCase[] }

/** Test helper: checks an exported model folder against the outputs PyTorch recorded at export. */
export async function checkAgainstGolden(modelDir: string, fixture: string, synthesisFile = 'synthesis.onnx'): Promise<void> {
  const golden = JSON.parse(readFileSync(new URL(`./__fixtures__/${fixture}`, import.meta.url), 'utf8')) as Golden;
  const session = await ort.InferenceSession.create(join(modelDir, synthesisFile));
  for (const c of golden.cases) {
    const ws = new Float32Array(golden.num_ws * golden.w_dim);
    c.ws_row_source.forEach((src, r) => ws.set(c.w_rows[src]!, r * golden.w_dim));
    const out = await session.run({ ws: new ort.Tensor('float32', ws, [1, golden.num_ws, golden.w_dim]) });
    for (const name of ['image', 'features'] as const) {
      const data = out[name]!.data as Float32Array;
      expect([...out[name]!.dims]).toEqual(c[name].shape);
      expectAllClose(c[name].indices.map((i) => data[i]!), c[name].values, { atol: 1e-4, rtol: 1e-4 });
      expectAllClose([data.reduce((a, b) => a + b, 0)], [c[name].sum], { atol: 2e-2, rtol: 1e-4 });
    }
  }
  await session.release();
  const mapping = await ort.InferenceSession.create(join(modelDir, 'mapping.onnx'));
  const withZ = golden.cases.filter((c) => c.z && c.w_untruncated);
  expect(withZ.length).toBeGreaterThan(0);
  for (const c of withZ) {
    const out = await mapping.run({ z: new ort.Tensor('float32', Float32Array.from(c.z!), [1, c.z!.length]) });
    expectAllClose(out.w!.data as Float32Array, c.w_untruncated!, { atol: 1e-4, rtol: 1e-4 });
  }
  await mapping.release();
}
