import { describe, expect, it } from 'vitest';
import { buildVjp } from './build-vjp';
import { f32 } from './tensor';
import { gradCheck, makeModel, rng, randomArray, Runner } from './testing/harness';

// A modulated-conv-like chain: Conv → scale → bias → LeakyReLU → bilinear ×2 → times an input.
// d/dg of the last Mul needs the upsampled map u (4× the size of its source) and LeakyReLU's VJP
// needs its input p; without rematerialization the split forward hands over both, with it only p
// and the backward recomputes u = Resize(LeakyRelu(p)).
const r = rng(7);
const model = makeModel({
  inputs: { x: [1, 2, 4, 4], g: [1, 3, 8, 8] },
  outputs: ['y'],
  nodes: [
    { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Mul', inputs: ['c', 'k'], outputs: ['m'] },
    { op: 'Add', inputs: ['m', 'bias'], outputs: ['p'] },
    { op: 'LeakyRelu', inputs: ['p'], outputs: ['a'], attrs: { alpha: { f: 0.2 } } },
    { op: 'Resize', inputs: ['a', 'roi', 'sc'], outputs: ['u'], attrs: { mode: 'linear', coordinate_transformation_mode: 'half_pixel' } },
    { op: 'Mul', inputs: ['u', 'g'], outputs: ['y'] },
  ],
  initializers: {
    W: f32([3, 2, 3, 3], randomArray(54, r)),
    k: f32([1, 3, 1, 1], [0.7, -1.3, 1.1]),
    bias: f32([1, 3, 1, 1], [0.05, -0.1, 0.2]),
    roi: f32([0], []),
    sc: f32([4], [1, 1, 2, 2]),
  },
});
const opts = { wrt: ['x', 'g'], of: ['y'], mode: 'split' as const };
const FLOATS = { c: 48, p: 48, a: 48, u: 192 };

describe('rematerialization in split mode', () => {
  it('hands over fewer bytes: the backward recomputes the upsampled map', () => {
    const plain = buildVjp(model, { ...opts, rematerialize: false });
    const remat = buildVjp(model, opts);
    const floats = (names: string[]): number => names.reduce((s, n) => s + (FLOATS[n as keyof typeof FLOATS] ?? Number.NaN), 0);
    expect(plain.forward.residuals.sort()).toEqual(['p', 'u']);
    expect(remat.forward.residuals).toEqual(['p']);
    expect(floats(remat.forward.residuals)).toBeLessThan(floats(plain.forward.residuals));
    // The recomputed forward ops lead the backward graph, in forward order.
    expect(remat.backward.model.graph.nodes.slice(0, 2).map((n) => n.opType)).toEqual(['LeakyRelu', 'Resize']);
  });

  it('gives the same gradients as the plain split VJP, and both pass finite differences', async () => {
    const rand = rng(3);
    const x = randomArray(32, rand);
    const g = randomArray(192, rand);
    const cot = randomArray(192, rand);
    const grads: Float32Array[][] = [];
    for (const rematerialize of [false, true]) {
      const v = buildVjp(model, { ...opts, rematerialize });
      const fwd = await Runner.create(v.forward.model);
      const bwd = await Runner.create(v.backward.model);
      const out = await fwd.run({ x: { data: x, dims: [1, 2, 4, 4] }, g: { data: g, dims: [1, 3, 8, 8] } });
      const feeds: Record<string, { data: Float32Array; dims: number[] }> = {
        x: { data: x, dims: [1, 2, 4, 4] },
        g: { data: g, dims: [1, 3, 8, 8] },
        [v.backward.cotangents.y as string]: { data: cot, dims: [1, 3, 8, 8] },
      };
      for (const name of v.backward.residuals) feeds[name] = out[name] as { data: Float32Array; dims: number[] };
      const res = await bwd.run(Object.fromEntries(v.backward.inputs.map((n) => [n, feeds[n]!])));
      grads.push([res[v.backward.gradients.x as string]!.data, res[v.backward.gradients.g as string]!.data]);
    }
    // Same float32 ops in the same order: equal up to rounding.
    for (let i = 0; i < 2; i++) {
      const [a, b] = [grads[0]![i]!, grads[1]![i]!];
      for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - b[j]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(a[j]!)));
    }
    await gradCheck(model, { wrt: ['x', 'g'], of: ['y'], modes: ['split'], metric: 'relative-norm', rtol: 1e-2 });
  });
});
