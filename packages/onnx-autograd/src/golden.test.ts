import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildVjp, feedsFor } from './build-vjp';
import { loadModel } from './model';
import { expectAllClose, Runner, type Value } from './testing/harness';

// Fixtures from tools/golden/make_autograd_golden.py: PyTorch 1.13 autograd in float64 on a small
// StyleGAN2-like generator, plain and fused modulated convolutions, exported to ONNX opset 17.
const fixture = (name: string): string => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

interface Arr { dims: number[]; data: number[] }
interface Golden {
  ws: Arr; image: Arr; features: Arr; cot_image: Arr; cot_features: Arr;
  grad_ws: Record<'features' | 'image' | 'both', Arr>;
}

const val = (a: Arr): Value => ({ data: Float32Array.from(a.data), dims: a.dims });

// ONNX Runtime runs float32; the reference is float64. Errors scale with the gradient's magnitude.
function tol(ref: number[]): { atol: number; rtol: number } {
  const max = Math.max(...ref.map(Math.abs));
  return { atol: 2e-5 * max, rtol: 1e-3 };
}

describe('gradients match PyTorch autograd (golden fixtures)', () => {
  for (const form of ['plain', 'fused'] as const) {
    const g = JSON.parse(readFileSync(fixture(`golden-${form}.json`), 'utf8')) as Golden;
    const model = loadModel(readFileSync(fixture(`golden-${form}.onnx`)));
    for (const key of ['features', 'image', 'both'] as const) {
      const of = key === 'both' ? ['features', 'image'] : [key];
      for (const mode of ['recompute', 'split'] as const) {
        it(`${form} modconv, d<cot, ${of.join('+')}>/d ws, ${mode}`, async () => {
          const cots: Record<string, Value> = { features: val(g.cot_features), image: val(g.cot_image) };
          const ws = val(g.ws);
          let grad: Float32Array;
          let outs: Record<string, Value>;
          if (mode === 'recompute') {
            const vjp = buildVjp(model, { wrt: ['ws'], of, mode, keepOutputs: ['image', 'features'] });
            const r = await Runner.create(vjp.model);
            const feeds: Record<string, Value> = { ws };
            for (const o of of) feeds[vjp.cotangents[o] as string] = cots[o] as Value;
            outs = await r.run(feeds);
            grad = (outs[vjp.gradients.ws as string] as Value).data;
            await r.release();
          } else {
            const vjp = buildVjp(model, { wrt: ['ws'], of, mode, keepOutputs: ['image', 'features'] });
            const f = await Runner.create(vjp.forward.model);
            const b = await Runner.create(vjp.backward.model);
            outs = await f.run({ ws });
            const avail: Record<string, Value> = { ws, ...outs };
            for (const o of of) avail[vjp.backward.cotangents[o] as string] = cots[o] as Value;
            const res = await b.run(feedsFor(vjp.backward, avail));
            grad = (res[vjp.backward.gradients.ws as string] as Value).data;
            await f.release();
            await b.release();
          }
          expectAllClose(outs.image?.data ?? [], g.image.data, { atol: 1e-4, rtol: 1e-3 });
          expectAllClose(outs.features?.data ?? [], g.features.data, { atol: 1e-4, rtol: 1e-3 });
          const ref = g.grad_ws[key].data;
          expect(Math.max(...ref.map(Math.abs))).toBeGreaterThan(0.01);
          expectAllClose(grad, ref, tol(ref));
        });
      }
    }
  }
});
