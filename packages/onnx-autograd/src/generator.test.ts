import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildVjp } from './build-vjp';
import { loadModel } from './model';
import { foldConstants, exposeOutputs } from './surgery';
import { expectAllClose, gradCheck, randomArray, rng, Runner, type Value } from './testing/harness';

// The teammate's tiny random StyleGAN2-style generator (packages/backends-gan/models/tiny).
// Central differences per ws element (128 of them), eps 1e-3. The graph has thousands of
// LeakyReLU kinks, so a perturbation occasionally crosses one: compare the whole gradient by its
// relative L2 error (features: 3e-2 at eps 1e-2, 1.2e-2 at 1e-3, 1.7e-3 at 3e-4: shrinking with eps as a correct
// gradient should), not element by element.
const dir = fileURLToPath(new URL('../../backends-gan/models/tiny/', import.meta.url));
const have = existsSync(`${dir}synthesis.onnx`);

describe.skipIf(!have)('tiny generator (backends-gan/models/tiny)', () => {
  for (const file of ['synthesis.onnx', 'synthesis_fused.onnx']) {
    for (const of of [['features'], ['image'], ['features', 'image']]) {
      it(`${file}: d<cot, ${of.join('+')}>/d ws matches finite differences`, async () => {
        const model = loadModel(readFileSync(`${dir}${file}`));
        await gradCheck(model, { wrt: ['ws'], of, eps: 3e-4, rtol: 1e-2, seed: 11, maxElements: 128, metric: 'relative-norm' });
      });
    }
  }

  it('foldConstants and exposeOutputs keep the generator runnable with identical outputs', async () => {
    const model = loadModel(readFileSync(`${dir}synthesis.onnx`));
    const folded = foldConstants(model);
    expect(folded.graph.nodes.some((n) => n.opType === 'Constant' || n.opType === 'Shape')).toBe(false);
    const inner = model.graph.nodes.find((n) => n.opType === 'Resize')?.outputs[0] as string;
    const exposed = exposeOutputs(folded, [inner]);
    const ws: Value = { data: randomArray(128, rng(3)), dims: [1, 8, 16] };
    const a = await Runner.create(model);
    const b = await Runner.create(exposed);
    const ra = await a.run({ ws });
    const rb = await b.run({ ws });
    expectAllClose(rb.image?.data ?? [], ra.image?.data ?? [], { atol: 1e-6, rtol: 1e-6 });
    expect(rb[inner]?.dims).toEqual(exposed.graph.outputs.find((o) => o.name === inner)?.shape);
    await a.release();
    await b.release();
  });

  it('split mode keeps the image as an extra forward output and names residuals', () => {
    const model = loadModel(readFileSync(`${dir}synthesis.onnx`));
    const vjp = buildVjp(model, { wrt: ['ws'], of: ['features'], mode: 'split', keepOutputs: ['image'] });
    expect(vjp.forward.outputs.slice(0, 2)).toEqual(['features', 'image']);
    expect(vjp.forward.outputs.slice(2)).toEqual(vjp.forward.residuals);
    expect(vjp.backward.cotangents).toEqual({ features: 'features_grad' });
    expect(vjp.backward.gradients).toEqual({ ws: 'ws_grad' });
    expect(vjp.backward.outputs).toEqual(['ws_grad']);
  });
});

// onnxruntime-web's WebGPU EP has no kernels for these (they would fall back to CPU).
const NOT_ON_WEBGPU = ['ScatterElements', 'ScatterND', 'Sign', 'Max', 'Min', 'And', 'ConstantOfShape', 'GroupNormalization'];

describe('generated backward graphs are WebGPU-friendly', () => {
  const models = [
    fileURLToPath(new URL('./__fixtures__/golden-plain.onnx', import.meta.url)),
    fileURLToPath(new URL('./__fixtures__/golden-fused.onnx', import.meta.url)),
  ];
  for (const path of models) {
    it(`${path.split('/').pop()}: standard domain only, no ops without WebGPU kernels`, () => {
      const model = loadModel(readFileSync(path));
      const vjp = buildVjp(model, { wrt: ['ws'], of: ['features', 'image'], mode: 'split' });
      for (const m of [vjp.forward.model, vjp.backward.model]) {
        expect(m.opsetImports).toEqual([{ domain: '', version: 17 }]);
        const ops = new Set(m.graph.nodes.map((n) => n.opType));
        expect(m.graph.nodes.every((n) => n.domain === '')).toBe(true);
        for (const op of NOT_ON_WEBGPU) expect(ops.has(op), op).toBe(false);
      }
      const backOps = new Set(vjp.backward.model.graph.nodes.map((n) => n.opType));
      expect(backOps.has('Conv')).toBe(true);
    });
  }
});
