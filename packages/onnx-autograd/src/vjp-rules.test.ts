import { describe, expect, it } from 'vitest';
import { buildVjp } from './build-vjp';
import { f32, i64 } from './tensor';
import { gradCheck, makeModel, randomArray, rng, type ModelSpec, type NodeSpec } from './testing/harness';

// Tolerances: float32 forward, float64-accumulated central differences with eps = 1e-2.
// Truncation error is O(eps²·f'''), so rtol 1e-2 / atol 2e-3 holds for the smooth test functions;
// inputs of piecewise ops are kept at least 0.05 away from their kinks.
const TOL = { atol: 2e-3, rtol: 1e-2 };

type Case = {
  name: string;
  spec: ModelSpec;
  wrt: string[];
  of?: string[];
  inputs?: Record<string, Float32Array>;
  eps?: number;
};

function one(op: string, inputs: Record<string, number[]>, attrs: NodeSpec['attrs'] = {}, extra: Partial<ModelSpec> = {}, nodeInputs?: string[]): ModelSpec {
  return {
    inputs,
    outputs: ['y'],
    nodes: [{ op, inputs: nodeInputs ?? Object.keys(inputs), outputs: ['y'], attrs }],
    ...extra,
  };
}

/** Values in [lo, hi] at least `gap` away from every kink. */
function awayFrom(n: number, seed: number, kinks: number[], lo = -1, hi = 1, gap = 0.05): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = lo + (hi - lo) * r();
    while (kinks.some((k) => Math.abs(v - k) < gap));
    out[i] = v;
  }
  return out;
}

const pos = (n: number, seed = 3): Float32Array => randomArray(n, rng(seed), 0.5, 1.5);

const cases: Case[] = [
  { name: 'Add broadcast', spec: one('Add', { a: [2, 3, 4], b: [3, 1] }), wrt: ['a', 'b'] },
  { name: 'Sub broadcast', spec: one('Sub', { a: [2, 3], b: [3] }), wrt: ['a', 'b'] },
  { name: 'Mul broadcast', spec: one('Mul', { a: [2, 3, 4], b: [1, 3, 1] }), wrt: ['a', 'b'] },
  { name: 'Mul same input twice', spec: one('Mul', { a: [5] }, {}, {}, ['a', 'a']), wrt: ['a'] },
  { name: 'Div broadcast', spec: one('Div', { a: [2, 3], b: [3] }), wrt: ['a', 'b'], inputs: { b: pos(3) } },
  {
    name: 'Pow constant exponent 2',
    spec: one('Pow', { a: [6] }, {}, { initializers: { p: f32([], [2]) } }, ['a', 'p']),
    wrt: ['a'],
  },
  {
    name: 'Pow constant exponent -0.5',
    spec: one('Pow', { a: [6] }, {}, { initializers: { p: f32([], [-0.5]) } }, ['a', 'p']),
    wrt: ['a'],
    inputs: { a: pos(6) },
  },
  { name: 'Pow tensor exponent', spec: one('Pow', { a: [2, 3], p: [3] }), wrt: ['a', 'p'], inputs: { a: pos(6) } },
  { name: 'Sqrt', spec: one('Sqrt', { x: [7] }), wrt: ['x'], inputs: { x: pos(7) } },
  { name: 'Reciprocal', spec: one('Reciprocal', { x: [7] }), wrt: ['x'], inputs: { x: pos(7) } },
  { name: 'Exp', spec: one('Exp', { x: [7] }), wrt: ['x'] },
  { name: 'Log', spec: one('Log', { x: [7] }), wrt: ['x'], inputs: { x: pos(7) } },
  { name: 'Neg', spec: one('Neg', { x: [7] }), wrt: ['x'] },
  { name: 'Relu', spec: one('Relu', { x: [9] }), wrt: ['x'], inputs: { x: awayFrom(9, 4, [0]) } },
  { name: 'LeakyRelu', spec: one('LeakyRelu', { x: [9] }, { alpha: { f: 0.2 } }), wrt: ['x'], inputs: { x: awayFrom(9, 5, [0]) } },
  { name: 'Sigmoid', spec: one('Sigmoid', { x: [7] }), wrt: ['x'] },
  { name: 'Tanh', spec: one('Tanh', { x: [7] }), wrt: ['x'] },
  { name: 'Erf', spec: one('Erf', { x: [7] }), wrt: ['x'] },
  { name: 'Sin', spec: one('Sin', { x: [7] }), wrt: ['x'] },
  { name: 'Cos', spec: one('Cos', { x: [7] }), wrt: ['x'] },
  { name: 'Abs', spec: one('Abs', { x: [7] }), wrt: ['x'], inputs: { x: awayFrom(7, 6, [0]) } },
  {
    name: 'Clip with min and max inputs',
    spec: one('Clip', { x: [12] }, {}, { initializers: { lo: f32([], [-0.4]), hi: f32([], [0.3]) } }, ['x', 'lo', 'hi']),
    wrt: ['x'],
    inputs: { x: awayFrom(12, 7, [-0.4, 0.3]) },
  },
  { name: 'Sum (variadic, broadcast)', spec: one('Sum', { a: [2, 3], b: [3], c: [2, 1] }), wrt: ['a', 'b', 'c'] },
  { name: 'Mean (variadic)', spec: one('Mean', { a: [2, 3], b: [2, 3] }), wrt: ['a', 'b'] },
  {
    name: 'BatchNormalization (inference)',
    spec: one('BatchNormalization', { x: [2, 3, 2, 2], s: [3], b: [3], m: [3], v: [3] }, { epsilon: { f: 1e-3 } }),
    wrt: ['x', 's', 'b', 'm', 'v'],
    inputs: { v: pos(3, 8) },
  },
  { name: 'Identity', spec: one('Identity', { x: [3] }), wrt: ['x'] },
  {
    name: 'Cast float -> double -> float',
    spec: {
      inputs: { x: [4] },
      outputs: ['y'],
      nodes: [
        { op: 'Cast', inputs: ['x'], outputs: ['d'], attrs: { to: 11 } },
        { op: 'Cast', inputs: ['d'], outputs: ['y'], attrs: { to: 1 } },
      ],
    },
    wrt: ['x'],
  },
  {
    name: 'Where (broadcast, condition from another input)',
    spec: {
      inputs: { c: [2, 3], a: [3], b: [2, 1] },
      outputs: ['y'],
      initializers: { zero: f32([], [0]) },
      nodes: [
        { op: 'Greater', inputs: ['c', 'zero'], outputs: ['m'] },
        { op: 'Where', inputs: ['m', 'a', 'b'], outputs: ['y'] },
      ],
    },
    wrt: ['a', 'b', 'c'],
  },
  { name: 'MatMul batched x 2-D', spec: one('MatMul', { a: [2, 3, 4], b: [4, 5] }), wrt: ['a', 'b'] },
  { name: 'MatMul 1-D x 2-D', spec: one('MatMul', { a: [3], b: [3, 4] }), wrt: ['a', 'b'] },
  { name: 'MatMul 3-D x 1-D', spec: one('MatMul', { a: [2, 3, 4], b: [4] }), wrt: ['a', 'b'] },
  { name: 'MatMul broadcast batch', spec: one('MatMul', { a: [2, 1, 3, 4], b: [3, 4, 2] }), wrt: ['a', 'b'] },
  {
    name: 'MatMul with constant weight',
    spec: one('MatMul', { a: [2, 4] }, {}, { initializers: { w: f32([4, 3], randomArray(12, rng(9))) } }, ['a', 'w']),
    wrt: ['a'],
  },
  { name: 'Gemm', spec: one('Gemm', { a: [2, 3], b: [3, 4], c: [4] }, { alpha: { f: 0.7 }, beta: { f: 1.3 } }), wrt: ['a', 'b', 'c'] },
  { name: 'Gemm transA transB', spec: one('Gemm', { a: [3, 2], b: [4, 3], c: [2, 1] }, { transA: 1, transB: 1, alpha: { f: 0.5 } }), wrt: ['a', 'b', 'c'] },
  { name: 'Gemm transB (torch Linear)', spec: one('Gemm', { a: [1, 3], b: [4, 3], c: [4] }, { transB: 1 }), wrt: ['a', 'b', 'c'] },
  { name: 'Gemm transA', spec: one('Gemm', { a: [3, 2], b: [3, 4] }, { transA: 1 }), wrt: ['a', 'b'] },
  { name: 'Conv 3x3 pad 1', spec: one('Conv', { x: [1, 2, 5, 5], w: [3, 2, 3, 3], b: [3] }, { pads: [1, 1, 1, 1] }), wrt: ['x', 'w', 'b'] },
  {
    name: 'Conv stride 2, asymmetric pads, batch 2',
    spec: one('Conv', { x: [2, 2, 6, 5], w: [2, 2, 3, 2] }, { strides: [2, 2], pads: [1, 0, 0, 1] }),
    wrt: ['x', 'w'],
  },
  { name: 'Conv dilation 2', spec: one('Conv', { x: [1, 1, 7, 7], w: [2, 1, 3, 3] }, { dilations: [2, 2], pads: [2, 1, 2, 1] }), wrt: ['x', 'w'] },
  { name: 'Conv groups 2, batch 2', spec: one('Conv', { x: [2, 4, 5, 5], w: [6, 2, 3, 3], b: [6] }, { group: 2, pads: [1, 1, 1, 1] }), wrt: ['x', 'w', 'b'] },
  {
    name: 'Conv constant grouped kernel, stride 1 (flipped-kernel Conv path)',
    spec: one('Conv', { x: [1, 4, 5, 4] }, { group: 2, pads: [1, 0, 2, 1], dilations: [1, 2] }, { initializers: { w: f32([6, 2, 3, 2], randomArray(72, rng(21))) } }, ['x', 'w']),
    wrt: ['x'],
  },
  {
    name: 'Conv 3-D constant kernel',
    spec: one('Conv', { x: [1, 2, 3, 4, 3] }, { pads: [1, 1, 0, 1, 0, 1] }, { initializers: { w: f32([2, 2, 2, 3, 2], randomArray(48, rng(22))) } }, ['x', 'w']),
    wrt: ['x'],
  },
  { name: 'Conv depthwise stride 2', spec: one('Conv', { x: [1, 3, 6, 6], w: [3, 1, 3, 3] }, { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] }), wrt: ['x', 'w'] },
  { name: 'Conv auto_pad SAME_UPPER', spec: one('Conv', { x: [1, 2, 5, 5], w: [2, 2, 2, 2] }, { auto_pad: 'SAME_UPPER', strides: [2, 2] }), wrt: ['x', 'w'] },
  { name: 'Conv 1-D', spec: one('Conv', { x: [1, 2, 9], w: [3, 2, 3] }, { strides: [2], pads: [1, 1] }), wrt: ['x', 'w'] },
  {
    name: 'ConvTranspose stride 2, output_padding 1',
    spec: one('ConvTranspose', { x: [1, 2, 3, 3], w: [2, 3, 3, 3], b: [3] }, { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }),
    wrt: ['x', 'w', 'b'],
  },
  {
    name: 'ConvTranspose output_shape attribute',
    spec: one('ConvTranspose', { x: [1, 2, 3, 3], w: [2, 2, 3, 3] }, { strides: [2, 2], output_shape: [6, 7] }),
    wrt: ['x', 'w'],
  },
  { name: 'ConvTranspose 1-D dilation 2', spec: one('ConvTranspose', { x: [1, 2, 4], w: [2, 1, 3] }, { dilations: [2], pads: [1, 2] }), wrt: ['x', 'w'] },
  { name: 'ConvTranspose groups 2', spec: one('ConvTranspose', { x: [2, 4, 3, 3], w: [4, 1, 2, 2] }, { group: 2, strides: [2, 2] }), wrt: ['x', 'w'] },
  {
    name: 'Reshape / Flatten / Squeeze / Unsqueeze / Transpose chain',
    spec: {
      inputs: { x: [2, 3, 4] },
      outputs: ['y'],
      initializers: { shp: i64([4, 6]), ax0: i64([0]), axn: i64([-1]) },
      nodes: [
        { op: 'Reshape', inputs: ['x', 'shp'], outputs: ['r'] },
        { op: 'Transpose', inputs: ['r'], outputs: ['t'], attrs: { perm: [1, 0] } },
        { op: 'Unsqueeze', inputs: ['t', 'axn'], outputs: ['u'] },
        { op: 'Flatten', inputs: ['u'], outputs: ['f'], attrs: { axis: 2 } },
        { op: 'Unsqueeze', inputs: ['f', 'ax0'], outputs: ['v'] },
        { op: 'Squeeze', inputs: ['v', 'ax0'], outputs: ['s'] },
        { op: 'Transpose', inputs: ['s'], outputs: ['y'], attrs: { perm: [1, 0] } },
      ],
    },
    wrt: ['x'],
  },
  { name: 'Concat axis -1', spec: one('Concat', { a: [2, 2], b: [2, 3], c: [2, 1] }, { axis: -1 }), wrt: ['a', 'c'] },
  {
    name: 'Split with an unused output',
    spec: {
      inputs: { x: [2, 5] },
      outputs: ['y0', 'y2'],
      initializers: { sp: i64([1, 2, 2]) },
      nodes: [{ op: 'Split', inputs: ['x', 'sp'], outputs: ['y0', 'y1', 'y2'], attrs: { axis: 1 } }],
    },
    wrt: ['x'],
    of: ['y0', 'y2'],
  },
  {
    name: 'Split num_outputs (opset 18), uneven',
    spec: {
      inputs: { x: [7, 2] },
      outputs: ['y0', 'y1', 'y2'],
      opset: 18,
      nodes: [{ op: 'Split', inputs: ['x'], outputs: ['y0', 'y1', 'y2'], attrs: { axis: 0, num_outputs: 3 } }],
    },
    wrt: ['x'],
    of: ['y0', 'y1', 'y2'],
  },
  {
    name: 'Slice negative axes and steps',
    spec: one('Slice', { x: [4, 7] }, {}, { initializers: { st: i64([1, -2]), en: i64([100, 0]), ax: i64([0, -1]), sp: i64([2, -2]) } }, ['x', 'st', 'en', 'ax', 'sp']),
    wrt: ['x'],
  },
  {
    name: 'Slice step 1 (StyleGAN ws row)',
    spec: one('Slice', { x: [1, 6, 3] }, {}, { initializers: { st: i64([2]), en: i64([3]), ax: i64([1]) } }, ['x', 'st', 'en', 'ax']),
    wrt: ['x'],
  },
  {
    name: 'Pad constant, negative pads',
    spec: one('Pad', { x: [1, 2, 4, 4] }, { mode: 'constant' }, { initializers: { p: i64([0, 0, 1, -1, 0, 0, -2, 2]), v: f32([], [0.5]) } }, ['x', 'p', 'v']),
    wrt: ['x'],
  },
  { name: 'Expand', spec: one('Expand', { x: [3, 1] }, {}, { initializers: { s: i64([2, 3, 4]) } }, ['x', 's']), wrt: ['x'] },
  { name: 'Tile', spec: one('Tile', { x: [2, 3] }, {}, { initializers: { r: i64([2, 3]) } }, ['x', 'r']), wrt: ['x'] },
  {
    name: 'Gather scalar index, axis 1',
    spec: one('Gather', { x: [2, 4, 3] }, { axis: 1 }, { initializers: { i: i64([-2], []) } }, ['x', 'i']),
    wrt: ['x'],
  },
  {
    name: 'Gather repeated indices',
    spec: one('Gather', { x: [5, 3] }, { axis: 0 }, { initializers: { i: i64([1, 3, 1, -1], [2, 2]) } }, ['x', 'i']),
    wrt: ['x'],
  },
  {
    name: 'ReduceSum axes input, keepdims 0',
    spec: one('ReduceSum', { x: [2, 3, 4] }, { keepdims: 0 }, { initializers: { ax: i64([0, -1]) } }, ['x', 'ax']),
    wrt: ['x'],
  },
  { name: 'ReduceMean axes attribute (opset 17)', spec: one('ReduceMean', { x: [2, 3, 4] }, { axes: [1] }), wrt: ['x'] },
  {
    name: 'ReduceMean axes input (opset 18)',
    spec: one('ReduceMean', { x: [2, 3, 4] }, { keepdims: 0 }, { opset: 18, initializers: { ax: i64([2]) } }, ['x', 'ax']),
    wrt: ['x'],
  },
  { name: 'Softmax axis 1', spec: one('Softmax', { x: [2, 4, 3] }, { axis: 1 }), wrt: ['x'] },
  { name: 'LayerNormalization', spec: one('LayerNormalization', { x: [2, 3, 4], s: [4], b: [4] }, { axis: -1, epsilon: { f: 1e-5 } }), wrt: ['x', 's', 'b'] },
  { name: 'LayerNormalization over 2 axes', spec: one('LayerNormalization', { x: [2, 3, 4], s: [3, 4] }, { axis: 1 }), wrt: ['x', 's'] },
  { name: 'InstanceNormalization', spec: one('InstanceNormalization', { x: [2, 3, 4, 2], s: [3], b: [3] }, { epsilon: { f: 1e-5 } }), wrt: ['x', 's', 'b'] },
  {
    name: 'Resize linear half_pixel x2 (scales)',
    spec: one('Resize', { x: [1, 2, 3, 4] }, { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, { initializers: { roi: f32([0], []), sc: f32([4], [1, 1, 2, 2]) } }, ['x', 'roi', 'sc']),
    wrt: ['x'],
  },
  {
    name: 'Resize linear align_corners (sizes)',
    spec: one('Resize', { x: [1, 1, 3, 4] }, { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, { initializers: { sz: i64([1, 1, 5, 7]) } }, ['x', '', '', 'sz']),
    wrt: ['x'],
  },
  {
    name: 'Resize linear pytorch_half_pixel downsample',
    spec: one('Resize', { x: [1, 1, 6, 5] }, { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, { initializers: { sz: i64([1, 1, 4, 3]) } }, ['x', '', '', 'sz']),
    wrt: ['x'],
  },
  {
    name: 'Resize nearest asymmetric floor x2',
    spec: one('Resize', { x: [1, 2, 2, 3] }, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { initializers: { sc: f32([4], [1, 1, 2, 2]) } }, ['x', '', 'sc']),
    wrt: ['x'],
  },
  {
    name: 'Resize nearest half_pixel round_prefer_floor x1.5',
    spec: one('Resize', { x: [1, 1, 4, 4] }, { mode: 'nearest' }, { initializers: { sz: i64([1, 1, 6, 6]) } }, ['x', '', '', 'sz']),
    wrt: ['x'],
  },
];

describe('VJP rules against central finite differences (onnxruntime-node CPU)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const model = makeModel(c.spec);
      const res = await gradCheck(model, { wrt: c.wrt, of: c.of ?? c.spec.outputs, inputs: c.inputs, eps: c.eps, ...TOL });
      // The gradient must not be trivially zero (a test that cannot fail is no test).
      const norm = Object.values(res.gradients).reduce((s, g) => s + g.reduce((a, v) => a + Math.abs(v), 0), 0);
      expect(norm).toBeGreaterThan(1e-3);
    });
  }
});

describe('gradient path', () => {
  it('folds exporter shape chains (Shape/Gather/Unsqueeze/Concat) feeding Reshape', async () => {
    const model = makeModel({
      inputs: { x: [2, 3, 4] },
      outputs: ['y'],
      initializers: { i0: i64([0], []), m1: i64([-1]) },
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['n', 'i0'], outputs: ['n1'] },
        { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
        { op: 'Mul', inputs: ['r', 'r'], outputs: ['y'] },
      ],
    });
    await gradCheck(model, { wrt: ['x'], of: ['y'], ...TOL });
    const vjp = buildVjp(model, { wrt: ['x'], of: ['y'], mode: 'split' });
    expect(vjp.forward.model.graph.nodes.map((n) => n.opType)).toEqual(['Reshape', 'Mul']);
  });

  it('names the op and node when an op on the path has no VJP', () => {
    const model = makeModel(one('Softsign', { x: [3] }));
    expect(() => buildVjp(model, { wrt: ['x'], of: ['y'] })).toThrow(/Softsign.*n0_Softsign/);
    // An op whose shapes cannot be inferred is reported the same way when it is on the path.
    const custom = makeModel(one('Foo', { x: [3] }));
    custom.graph.nodes[0]!.domain = 'com.example';
    expect(() => buildVjp(custom, { wrt: ['x'], of: ['y'] })).toThrow(/Foo node 'n0_Foo'/);
  });

  it('tolerates ops it cannot infer off the gradient path', async () => {
    const model = makeModel({
      inputs: { x: [3], z: [3] },
      outputs: ['y'],
      nodes: [
        { op: 'Foo', inputs: ['z'], outputs: ['q'] },
        { op: 'Mul', inputs: ['x', 'x'], outputs: ['y'] },
      ],
    });
    model.graph.nodes[0]!.domain = 'com.example';
    const vjp = buildVjp(model, { wrt: ['x'], of: ['y'], mode: 'split' });
    expect(vjp.forward.model.graph.nodes.map((n) => n.opType)).toEqual(['Mul']);
  });

  it('ignores unsupported ops off the path and returns zeros for unreachable inputs', async () => {
    const model = makeModel({
      inputs: { x: [3], z: [3] },
      outputs: ['y', 'q'],
      nodes: [
        { op: 'Softsign', inputs: ['z'], outputs: ['cz'] },
        { op: 'Mul', inputs: ['x', 'cz'], outputs: ['y'] },
        { op: 'Softsign', inputs: ['z'], outputs: ['q'] },
      ],
    });
    const vjp = buildVjp(model, { wrt: ['x'], of: ['y'], mode: 'split' });
    expect(vjp.backward.residuals).toEqual(['cz']);
    await gradCheck(model, { wrt: ['x'], of: ['y'], ...TOL });
    const r = await gradCheck(model, { wrt: ['x'], of: ['q'], ...TOL, modes: ['recompute'] });
    expect(Array.from(r.gradients.x ?? [])).toEqual([0, 0, 0]);
  });
});
