import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { buildVjp } from './build-vjp';
import { f32, i64 } from './tensor';
import { expectAllClose, gradCheck, makeModel, randomArray, rng, type ModelSpec, type NodeSpec, type Ort } from './testing/harness';

// The ops on the gradient path of Stable-Diffusion-style UNet/VAE exports (torch 1.13 at opset 17,
// newer exporters at 18/20/21), each against central finite differences in onnxruntime-node
// (recompute and split) and again under onnxruntime-web's WASM backend (split), whose gradients
// must also equal onnxruntime-node's.
// Tolerances as vjp-rules.test.ts: float32 forward, float64-accumulated differences, eps 1e-2
// (truncation O(eps²·f''')), |g − fd| ≤ 2e-3 + 1e-2·|fd|.
const TOL = { atol: 2e-3, rtol: 1e-2 };
// MLAS (node) vs WASM SIMD kernels sum in different orders.
const EP_TOL = { atol: 1e-4, rtol: 1e-3 };

ortWeb.env.wasm.numThreads = 1;
const web = ortWeb as unknown as Ort;

interface Case { name: string; spec: ModelSpec; wrt: string[]; inputs?: Record<string, Float32Array> }

function one(op: string, inputs: Record<string, number[]>, attrs: NodeSpec['attrs'] = {}, extra: Partial<ModelSpec> = {}, nodeInputs?: string[]): ModelSpec {
  return { inputs, outputs: ['y'], nodes: [{ op, inputs: nodeInputs ?? Object.keys(inputs), outputs: ['y'], attrs }], ...extra };
}

const pos = (n: number, seed = 3): Float32Array => randomArray(n, rng(seed), 0.5, 1.5);
const rand = (n: number, seed: number): Float32Array => randomArray(n, rng(seed));

export const diffusionCases: Case[] = [
  // Attention: Q·Kᵀ per head, broadcast batch dims, projection by a constant weight.
  { name: 'MatMul 4-D heads (Q·Kᵀ, both differentiated)', spec: one('MatMul', { q: [1, 2, 6, 4], k: [1, 2, 4, 5] }), wrt: ['q', 'k'] },
  { name: 'MatMul 4-D x 3-D broadcast batch', spec: one('MatMul', { a: [2, 1, 3, 4], b: [2, 4, 3] }), wrt: ['a', 'b'] },
  {
    name: 'MatMul 3-D x constant 2-D (to_q projection)',
    spec: one('MatMul', { x: [1, 6, 4] }, {}, { initializers: { w: f32([4, 3], rand(12, 31)) } }, ['x', 'w']),
    wrt: ['x'],
  },
  { name: 'Softmax axis -1, 4-D (attention scores)', spec: one('Softmax', { x: [1, 2, 3, 5] }, { axis: -1 }), wrt: ['x'] },
  { name: 'Softmax axis 0', spec: one('Softmax', { x: [3, 4] }, { axis: 0 }), wrt: ['x'] },
  {
    // torch 1.13 GroupNorm: Reshape [N, G, -1] → InstanceNormalization (unit scale) → Reshape → Mul γ → Add β.
    name: 'GroupNorm as exported by torch 1.13 (Reshape, InstanceNormalization, Mul, Add)',
    spec: {
      inputs: { x: [1, 4, 3, 3], gamma: [4, 1, 1], beta: [4, 1, 1] },
      outputs: ['y'],
      initializers: { g3: i64([1, 2, -1]), back: i64([1, 4, 3, 3]), ones: f32([2], [1, 1]), zeros: f32([2], [0, 0]) },
      nodes: [
        { op: 'Reshape', inputs: ['x', 'g3'], outputs: ['r'] },
        { op: 'InstanceNormalization', inputs: ['r', 'ones', 'zeros'], outputs: ['n'], attrs: { epsilon: { f: 1e-5 } } },
        { op: 'Reshape', inputs: ['n', 'back'], outputs: ['nb'] },
        { op: 'Mul', inputs: ['nb', 'gamma'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'beta'], outputs: ['y'] },
      ],
    },
    wrt: ['x', 'gamma', 'beta'],
  },
  { name: 'InstanceNormalization 3-D', spec: one('InstanceNormalization', { x: [2, 3, 5], s: [3], b: [3] }, { epsilon: { f: 1e-5 } }), wrt: ['x', 's', 'b'] },
  { name: 'LayerNormalization (transformer block, [1, tokens, C])', spec: one('LayerNormalization', { x: [1, 5, 6], s: [6], b: [6] }, { axis: -1 }), wrt: ['x', 's', 'b'] },
  {
    name: 'GroupNormalization opset 18 (scale per group)',
    spec: one('GroupNormalization', { x: [2, 4, 3, 2], s: [2], b: [2] }, { num_groups: 2, epsilon: { f: 1e-5 } }, { opset: 18 }),
    wrt: ['x', 's', 'b'],
  },
  {
    name: 'GroupNormalization opset 21 (scale per channel)',
    spec: one('GroupNormalization', { x: [1, 6, 2, 3], s: [6], b: [6] }, { num_groups: 3, epsilon: { f: 1e-5 } }, { opset: 21 }),
    wrt: ['x', 's', 'b'],
  },
  {
    name: 'SiLU as exported (x · Sigmoid(x))',
    spec: { inputs: { x: [8] }, outputs: ['y'], nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['s'] }, { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] }] },
    wrt: ['x'],
  },
  {
    // GEGLU: Slice the projection in two halves, gate = x2 · ½(1 + erf(x2/√2)), y = x1 · gate.
    name: 'GEGLU as exported (Slice, Div, Erf, Add, Mul)',
    spec: {
      inputs: { h: [1, 3, 8] },
      outputs: ['y'],
      initializers: { s0: i64([0]), s4: i64([4]), s8: i64([8]), ax: i64([-1]), r2: f32([], [Math.SQRT2]), one: f32([], [1]), half: f32([], [0.5]) },
      nodes: [
        { op: 'Slice', inputs: ['h', 's0', 's4', 'ax'], outputs: ['x1'] },
        { op: 'Slice', inputs: ['h', 's4', 's8', 'ax'], outputs: ['x2'] },
        { op: 'Div', inputs: ['x2', 'r2'], outputs: ['d'] },
        { op: 'Erf', inputs: ['d'], outputs: ['e'] },
        { op: 'Add', inputs: ['e', 'one'], outputs: ['e1'] },
        { op: 'Mul', inputs: ['x2', 'e1'], outputs: ['m'] },
        { op: 'Mul', inputs: ['m', 'half'], outputs: ['gate'] },
        { op: 'Mul', inputs: ['x1', 'gate'], outputs: ['y'] },
      ],
    },
    wrt: ['h'],
  },
  { name: 'Erf', spec: one('Erf', { x: [9] }), wrt: ['x'] },
  { name: 'Gelu opset 20 (exact)', spec: one('Gelu', { x: [9] }, {}, { opset: 20 }), wrt: ['x'], inputs: { x: randomArray(9, rng(41), -3, 3) } },
  { name: 'Gelu opset 20 (tanh)', spec: one('Gelu', { x: [9] }, { approximate: 'tanh' }, { opset: 20 }), wrt: ['x'], inputs: { x: randomArray(9, rng(42), -3, 3) } },
  {
    name: 'Pow 2 and 0.5 (decomposed norms)',
    spec: {
      inputs: { x: [6] },
      outputs: ['y'],
      initializers: { two: f32([], [2]), half: f32([], [0.5]), eps: f32([], [0.1]) },
      nodes: [
        { op: 'Pow', inputs: ['x', 'two'], outputs: ['sq'] },
        { op: 'Add', inputs: ['sq', 'eps'], outputs: ['v'] },
        { op: 'Pow', inputs: ['v', 'half'], outputs: ['y'] },
      ],
    },
    wrt: ['x'],
  },
  { name: 'Pow tensor exponent, broadcast', spec: one('Pow', { a: [2, 3], p: [1, 3] }), wrt: ['a', 'p'], inputs: { a: pos(6) } },
  { name: 'Sub broadcast both ways', spec: one('Sub', { a: [2, 1, 3], b: [4, 1] }), wrt: ['a', 'b'] },
  { name: 'Neg', spec: one('Neg', { x: [2, 3] }), wrt: ['x'] },
  { name: 'Exp', spec: one('Exp', { x: [2, 3] }), wrt: ['x'] },
  { name: 'Sigmoid', spec: one('Sigmoid', { x: [2, 3] }), wrt: ['x'] },
  {
    // nn.Upsample(scale_factor=2, mode='nearest') in torch 1.13.
    name: 'Resize nearest x2 (torch upsample: asymmetric, floor)',
    spec: one('Resize', { x: [1, 2, 3, 3] }, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { initializers: { roi: f32([0], []), sc: f32([4], [1, 1, 2, 2]) } }, ['x', 'roi', 'sc']),
    wrt: ['x'],
  },
  {
    // F.interpolate(..., mode='bilinear', align_corners=False) of the drag features.
    name: 'Resize linear (torch bilinear: pytorch_half_pixel, sizes)',
    spec: one('Resize', { x: [1, 2, 4, 4] }, { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, { initializers: { sz: i64([1, 2, 6, 7]) } }, ['x', '', '', 'sz']),
    wrt: ['x'],
  },
  {
    // Exporters mask with Where(Equal(mask, 0), x, -big) before a Softmax.
    name: 'Where(Equal(mask, 0)) then Softmax',
    spec: {
      inputs: { x: [2, 4] },
      outputs: ['y'],
      initializers: { mask: i64([1, 1, 0, 1, 0, 1, 1, 1], [2, 4]), zero: i64([0], []), big: f32([], [-1e4]) },
      nodes: [
        { op: 'Equal', inputs: ['mask', 'zero'], outputs: ['off'] },
        { op: 'Where', inputs: ['off', 'big', 'x'], outputs: ['s'] },
        { op: 'Softmax', inputs: ['s'], outputs: ['y'], attrs: { axis: -1 } },
      ],
    },
    wrt: ['x'],
  },
  {
    name: 'Where with a condition computed from the input (Equal is not differentiated)',
    spec: {
      inputs: { x: [6], z: [6] },
      outputs: ['y'],
      initializers: { zero: f32([], [0]) },
      nodes: [
        { op: 'Greater', inputs: ['z', 'zero'], outputs: ['gz'] },
        { op: 'Cast', inputs: ['gz'], outputs: ['gi'], attrs: { to: 7 } },
        { op: 'Equal', inputs: ['gi', 'gi'], outputs: ['eq'] },
        { op: 'Where', inputs: ['gz', 'x', 'z'], outputs: ['w'] },
        { op: 'Where', inputs: ['eq', 'w', 'zero'], outputs: ['y'] },
      ],
    },
    wrt: ['x', 'z'],
  },
];

function nonZero(gs: Record<string, Float32Array>): number {
  return Object.values(gs).reduce((s, g) => s + g.reduce((a, v) => a + Math.abs(v), 0), 0);
}

describe('diffusion ops: VJPs against finite differences, onnxruntime-node and onnxruntime-web (WASM)', () => {
  for (const c of diffusionCases) {
    it(c.name, async () => {
      const model = makeModel(c.spec);
      const node = await gradCheck(model, { wrt: c.wrt, of: ['y'], inputs: c.inputs, ...TOL });
      expect(nonZero(node.gradients)).toBeGreaterThan(1e-3);
      const wasm = await gradCheck(model, { wrt: c.wrt, of: ['y'], inputs: c.inputs, ...TOL, ort: web, modes: ['split'] });
      for (const w of c.wrt) expectAllClose(wasm.gradients[w] ?? [], node.gradients[w] ?? [], EP_TOL);
    });
  }
});

describe('backward graphs of the diffusion ops', () => {
  it('use the default domain only, and no op without a WebGPU kernel (GroupNormalization included)', () => {
    const forbidden = ['ScatterElements', 'ScatterND', 'Sign', 'Max', 'Min', 'And', 'ConstantOfShape', 'GroupNormalization'];
    for (const c of diffusionCases) {
      const vjp = buildVjp(makeModel(c.spec), { wrt: c.wrt, of: ['y'], mode: 'split' });
      const nodes = vjp.backward.model.graph.nodes;
      expect(nodes.every((n) => n.domain === ''), c.name).toBe(true);
      for (const op of forbidden) expect(nodes.some((n) => n.opType === op), `${c.name}: ${op}`).toBe(false);
    }
  });
});

describe('fused onnxruntime ops of "optimized" exports', () => {
  const fused: [string, string][] = [
    ['MultiHeadAttention', 'MatMul \\+ Softmax attention'],
    ['GroupNorm', 'InstanceNormalization or GroupNormalization'],
    ['BiasSplitGelu', 'Erf-based Gelu'],
    ['NhwcConv', 'Conv'],
  ];
  for (const [op, advice] of fused) {
    it(`refuses com.microsoft.${op} in one line naming the op, the node and what to export`, () => {
      const model = makeModel({
        inputs: { x: [1, 4] },
        outputs: ['y'],
        nodes: [
          { op: 'Neg', inputs: ['x'], outputs: ['h'] },
          { op, inputs: ['h'], outputs: ['f'] },
          { op: 'Neg', inputs: ['f'], outputs: ['y'] },
        ],
      });
      const n = model.graph.nodes[1]!;
      n.domain = 'com.microsoft';
      n.name = `/mid_block/attentions.0/${op}`;
      let message = '';
      try {
        buildVjp(model, { wrt: ['x'], of: ['y'] });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(new RegExp(`com\\.microsoft\\.${op} node '/mid_block/attentions\\.0/${op}'.*export.*${advice}`));
      expect(message.includes('\n')).toBe(false);
    });
  }

  it('accepts a fused op that does not depend on the differentiated input', () => {
    const model = makeModel({
      inputs: { x: [4], t: [4] },
      outputs: ['y', 'q'],
      nodes: [
        { op: 'FastGelu', inputs: ['t'], outputs: ['q'] },
        { op: 'Neg', inputs: ['x'], outputs: ['y'] },
      ],
    });
    model.graph.nodes[0]!.domain = 'com.microsoft';
    expect(buildVjp(model, { wrt: ['x'], of: ['y'], mode: 'split' }).backward.gradients).toEqual({ x: 'x_grad' });
  });
});
