import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataType } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import type { OrtRuntime, OrtSession, OrtSessionOptions } from './ort-runtime.js';
import { sharingWeights, tempFileWeights } from './temp-file-weights.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A runtime that records each create() and what the folder held at that moment. */
function recordingRuntime(root: string) {
  const created: { path: string; options?: OrtSessionOptions; files: string[] }[] = [];
  const runtime = {
    InferenceSession: {
      async create(model: Uint8Array | string, options?: OrtSessionOptions): Promise<OrtSession> {
        const path = String(model);
        const [dir] = readdirSync(root);
        created.push({ path, ...(options ? { options } : {}), files: readdirSync(join(root, dir!)).sort() });
        return { inputNames: [], outputNames: [], run: async () => ({}), release: async () => {} };
      },
    },
    Tensor: class {},
  } as unknown as OrtRuntime;
  return { runtime, created };
}

const weight = { dtype: DataType.FLOAT, dims: [4096], data: new Float32Array(4096).fill(1) };
const withWeight = (name: string): OnnxModel => ({
  irVersion: 8,
  opsetImports: [{ domain: '', version: 17 }],
  producerName: 'test',
  producerVersion: '',
  graph: { name, nodes: [], inputs: [], outputs: [], initializers: new Map([['w', weight]]), valueInfo: [] },
});

describe('tempFileWeights', () => {
  it('opens each graph from its file beside one shared weights file, with the sharing options, and deletes the folder on close', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sd-weights-'));
    roots.push(root);
    const { runtime, created } = recordingRuntime(root);
    const batch = tempFileWeights({ root })(runtime);
    await batch.open(withWeight('a'), { graphOptimizationLevel: 'all' });
    await batch.open(withWeight('b'), { graphOptimizationLevel: 'all' });
    expect(created.map((c) => c.files)).toEqual([['graph-0.onnx', 'weights.bin'], ['graph-0.onnx', 'graph-1.onnx', 'weights.bin']]);
    expect(created[1]!.path.startsWith(root)).toBe(true);
    expect(created[1]!.path.endsWith('graph-1.onnx')).toBe(true);
    expect(created[0]!.options).toEqual({ graphOptimizationLevel: 'extended', extra: { session: { disable_prepacking: '1' } } });
    const dir = readdirSync(root)[0]!;
    // The weight both graphs hold is written once: 16 KiB, not 32.
    expect(statSync(join(root, dir, 'weights.bin')).size).toBe(16384);
    await batch.close();
    expect(existsSync(join(root, dir))).toBe(false);
    await batch.close();
  });

  it('shareWeights: false passes the session options through', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sd-weights-'));
    roots.push(root);
    const { runtime, created } = recordingRuntime(root);
    const batch = tempFileWeights({ root, shareWeights: false })(runtime);
    await batch.open(withWeight('a'), { graphOptimizationLevel: 'all' });
    expect(created[0]!.options).toEqual({ graphOptimizationLevel: 'all' });
    await batch.close();
  });

  it('sharingWeights lowers only the "all" level and keeps the caller\'s session entries', () => {
    expect(sharingWeights({})).toEqual({ graphOptimizationLevel: 'extended', extra: { session: { disable_prepacking: '1' } } });
    expect(sharingWeights({ graphOptimizationLevel: 'basic', intraOpNumThreads: 2 })).toMatchObject({ graphOptimizationLevel: 'basic', intraOpNumThreads: 2 });
    const mine = sharingWeights({ extra: { session: { disable_prepacking: '0', x: '1' }, optimization: { y: '2' } } });
    expect(mine.extra).toEqual({ session: { disable_prepacking: '0', x: '1' }, optimization: { y: '2' } });
  });
});
