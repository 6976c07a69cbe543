import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ortWeb from 'onnxruntime-web';
import { describe, it } from 'vitest';
import { buildVjp } from './build-vjp';
import { loadModel, type OnnxModel } from './model';
import { f32, i64 } from './tensor';
import { expectAllClose, gradCheck, makeModel, randomArray, rng, Runner, type Ort, type Value } from './testing/harness';

// onnxruntime-web's WASM backend in Node, single-threaded (no worker/SharedArrayBuffer setup).
ortWeb.env.wasm.numThreads = 1;
const web = ortWeb as unknown as Ort;
// CPU kernels differ between the two builds (MLAS vs WASM SIMD); per-EP tolerance.
const EP_TOL = { atol: 1e-4, rtol: 1e-4 };

async function runBoth(model: OnnxModel, feeds: Record<string, Value>): Promise<[Record<string, Value>, Record<string, Value>]> {
  const a = await Runner.create(model);
  const b = await Runner.create(model, web);
  const ra = await a.run(feeds);
  const rb = await b.run(feeds);
  await a.release();
  await b.release();
  return [ra, rb];
}

const dir = fileURLToPath(new URL('../../backends-gan/models/tiny/', import.meta.url));

describe('VJP models under onnxruntime-web (WASM) in Node', () => {
  it('grouped strided Conv + Resize + LeakyRelu: WASM gradients pass finite differences', async () => {
    const model = makeModel({
      inputs: { x: [1, 4, 4, 4], w: [4, 2, 3, 3] },
      outputs: ['y'],
      initializers: { sc: f32([4], [1, 1, 2, 2]), sh: i64([1, 4, 4, 4]) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] } },
        { op: 'Resize', inputs: ['c', '', 'sc'], outputs: ['r'], attrs: { mode: 'linear' } },
        { op: 'LeakyRelu', inputs: ['r'], outputs: ['y'], attrs: { alpha: { f: 0.2 } } },
      ],
    });
    await gradCheck(model, { wrt: ['x', 'w'], of: ['y'], ort: web, eps: 1e-3, rtol: 1e-2, metric: 'relative-norm', maxElements: 80 });
  });

  it.skipIf(!existsSync(`${dir}synthesis_fused.onnx`))('tiny fused generator: split VJP equals onnxruntime-node', async () => {
    const model = loadModel(readFileSync(`${dir}synthesis_fused.onnx`));
    const vjp = buildVjp(model, { wrt: ['ws'], of: ['features'], mode: 'split', keepOutputs: ['image'] });
    const ws: Value = { data: randomArray(128, rng(5)), dims: [1, 8, 16] };
    const [fa, fb] = await runBoth(vjp.forward.model, { ws });
    for (const o of vjp.forward.outputs) expectAllClose(fb[o]?.data ?? [], fa[o]?.data ?? [], EP_TOL);
    const cot: Value = { data: randomArray(512, rng(6)), dims: [1, 8, 8, 8] };
    const avail: Record<string, Value> = { ws, ...fa, [vjp.backward.cotangents.features as string]: cot };
    const feeds = Object.fromEntries(vjp.backward.inputs.map((n) => [n, avail[n] as Value]));
    const [ba, bb] = await runBoth(vjp.backward.model, feeds);
    const g = vjp.backward.gradients.ws as string;
    expectAllClose(bb[g]?.data ?? [], ba[g]?.data ?? [], { atol: 1e-4, rtol: 1e-3 });
  });
});
