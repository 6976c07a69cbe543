import { padSpec, type TensorInfo } from './analysis';
import { attrFloat, attrInt, attrInts, attrString, describeNode } from './attributes';
import type { GradBuilder } from './grad-builder';
import type { OnnxNode } from './model';
import {
  convParams,
  convTransposeParams,
  normAxis,
  resolveSlice,
  type ConvParams,
} from './shape-utils';
import { transposeTensor } from './analysis';
import { DataType, f32, isFloatType, numel, type Tensor } from './tensor';

export interface RuleContext {
  node: OnnxNode;
  b: GradBuilder;
  opset: number;
  /** Incoming gradient per output (undefined: that output does not reach the differentiated outputs). */
  dY: (string | undefined)[];
  /** Whether input i needs a gradient. */
  needs: boolean[];
  /** Static type of the i-th input / output. */
  inInfo(i: number): TensorInfo;
  outInfo(i: number): TensorInfo;
  /** Value of input i when it is constant. */
  constIn(i: number): Tensor | undefined;
}

/** Returns one gradient name per input (undefined where none). */
export type VjpRule = (c: RuleContext) => (string | undefined)[];

const out0 = (c: RuleContext): string => {
  const g = c.dY[0];
  if (!g) throw new Error(`${describeNode(c.node)}: no gradient for output 0`);
  return g;
};

const shapeOf = (c: RuleContext, i: number): number[] => c.inInfo(i).shape;
const yShape = (c: RuleContext): number[] => c.outInfo(0).shape;

function unary(f: (c: RuleContext, g: string) => string): VjpRule {
  return (c) => [c.needs[0] ? f(c, out0(c)) : undefined];
}

const X = (c: RuleContext): string => c.node.inputs[0] as string;
const Y = (c: RuleContext): string => c.node.outputs[0] as string;

function constScalar(t: Tensor | undefined): number | undefined {
  return t && !t.raw && t.data.length === 1 ? (t.data[0] as number) : undefined;
}

function intsConst(c: RuleContext, i: number): number[] | undefined {
  const t = c.constIn(i);
  return t ? Array.from(t.data) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Conv family
// ---------------------------------------------------------------------------------------------

/**
 * dW of Y = Conv(X, W) (also used for ConvTranspose with roles swapped): correlate X with dY,
 * with strides and dilations swapped; groups travel in the channel axis of a grouped Conv whose
 * batch is the per-group input channel. Returns a tensor of shape [Co, Ci/g, k...].
 */
function convWeightGrad(b: GradBuilder, x: string, xs: number[], gy: string, ys: number[], kernel: number[], p: ConvParams): string {
  const r = xs.length - 2;
  const n = xs[0] as number;
  const ci = xs[1] as number;
  const co = ys[1] as number;
  const g = p.group;
  const sp = xs.slice(2);
  const spatialIdx = Array.from({ length: r }, (_, i) => i + 2);
  let xg: string;
  if (g === 1 && n === 1) xg = b.reshape(x, [ci, 1, ...sp]);
  else if (g === 1) xg = b.transpose(x, [1, 0, ...spatialIdx]);
  else {
    const xr = b.reshape(x, [n, g, ci / g, ...sp]);
    const xt = b.transpose(xr, [2, 1, 0, ...spatialIdx.map((i) => i + 1)]);
    xg = b.reshape(xt, [ci / g, g * n, ...sp]);
  }
  const gyt = n === 1 ? b.reshape(gy, [co, 1, ...ys.slice(2)]) : b.transpose(gy, [1, 0, ...spatialIdx]);
  let dw = b.op('Conv', [xg, gyt], {
    group: g,
    strides: p.dilations,
    dilations: p.strides,
    pads: p.pads,
    kernel_shape: ys.slice(2),
  });
  // Output spatial size can exceed the kernel when the stride does not divide evenly: crop.
  const full = sp.map((s, i) => Math.floor((s + (p.pads[i] as number) + (p.pads[i + r] as number) - (((ys[i + 2] as number) - 1) * (p.strides[i] as number) + 1)) / (p.dilations[i] as number)) + 1);
  if (full.some((f, i) => f !== kernel[i])) dw = b.slice(dw, kernel.map(() => 0), kernel, spatialIdx);
  return b.transpose(dw, [1, 0, ...spatialIdx]);
}

/** W [Co, Ci/g, k...] -> W' [Ci, Co/g, k...] with spatial axes reversed, per group. */
function flippedKernel(c: RuleContext, ws: number[], g: number): string {
  const r = ws.length - 2;
  const co = ws[0] as number;
  const cig = ws[1] as number;
  const k = ws.slice(2);
  const spatial = Array.from({ length: r }, (_, i) => i + 2);
  const W = c.constIn(1);
  if (W && !W.raw) {
    const out = new Float32Array(W.data.length);
    const kn = numel(k);
    const cog = co / g;
    const kst = k.map((_, i) => numel(k.slice(i + 1)));
    for (let o = 0; o < co; o++) {
      const gi = Math.floor(o / cog);
      const ol = o % cog;
      for (let i = 0; i < cig; i++) {
        const src = (o * cig + i) * kn;
        const dst = ((gi * cig + i) * cog + ol) * kn;
        for (let q = 0; q < kn; q++) {
          // flip every spatial axis: index q -> sum (k_a - 1 - coord_a) * stride_a
          let rem = q;
          let fq = 0;
          for (let a = 0; a < r; a++) {
            const st = kst[a] as number;
            const coord = Math.floor(rem / st);
            rem -= coord * st;
            fq += ((k[a] as number) - 1 - coord) * st;
          }
          out[dst + fq] = W.data[src + q] as number;
        }
      }
    }
    return c.b.constant(f32([cig * g, cog, ...k], out), 'flipped_kernel');
  }
  const w = c.node.inputs[1] as string;
  const flipped = c.b.slice(w, k.map(() => -1), k.map(() => -(2 ** 62)), spatial, k.map(() => -1));
  if (g === 1) return c.b.transpose(flipped, [1, 0, ...spatial]);
  const grouped = c.b.reshape(flipped, [g, co / g, cig, ...k]);
  const t = c.b.transpose(grouped, [0, 2, 1, ...spatial.map((a) => a + 1)]);
  return c.b.reshape(t, [g * cig, co / g, ...k]);
}

const conv: VjpRule = (c) => {
  const xs = shapeOf(c, 0);
  const ws = shapeOf(c, 1);
  const ys = yShape(c);
  const p = convParams(c.node, xs, ws);
  const gy = out0(c);
  const r = xs.length - 2;
  const grads: (string | undefined)[] = [undefined, undefined, undefined];
  if (c.needs[0]) {
    const flipPads = p.pads.map((pd, i) => ((p.kernel[i % r] as number) - 1) * (p.dilations[i % r] as number) - pd);
    if (p.strides.every((s) => s === 1) && flipPads.every((pd) => pd >= 0)) {
      // Stride 1: dX is a plain Conv of dY with the flipped, in/out-swapped kernel (faster than
      // ConvTranspose in onnxruntime; constant kernels are flipped at build time).
      const wT = flippedKernel(c, ws, p.group);
      grads[0] = c.b.op('Conv', [gy, wT], { group: p.group, dilations: p.dilations, pads: flipPads, kernel_shape: p.kernel });
    } else {
      const outputPadding = xs.slice(2).map((h, i) => {
        const full = (p.strides[i] as number) * ((ys[i + 2] as number) - 1) + ((p.kernel[i] as number) - 1) * (p.dilations[i] as number) + 1 - (p.pads[i] as number) - (p.pads[i + r] as number);
        return h - full;
      });
      grads[0] = c.b.op('ConvTranspose', [gy, c.node.inputs[1] as string], {
        group: p.group,
        strides: p.strides,
        dilations: p.dilations,
        pads: p.pads,
        kernel_shape: p.kernel,
        output_padding: outputPadding,
      });
    }
  }
  if (c.needs[1]) grads[1] = convWeightGrad(c.b, X(c), xs, gy, ys, p.kernel, p);
  if (c.needs[2]) grads[2] = c.b.reduceSum(gy, [0, ...Array.from({ length: r }, (_, i) => i + 2)], false);
  return grads;
};

const convTranspose: VjpRule = (c) => {
  const xs = shapeOf(c, 0);
  const ws = shapeOf(c, 1);
  const ys = yShape(c);
  const p = convTransposeParams(c.node, xs, ws);
  const gy = out0(c);
  const r = xs.length - 2;
  const grads: (string | undefined)[] = [undefined, undefined, undefined];
  if (c.needs[0]) {
    grads[0] = c.b.op('Conv', [gy, c.node.inputs[1] as string], {
      group: p.group,
      strides: p.strides,
      dilations: p.dilations,
      pads: p.pads,
      kernel_shape: p.kernel,
    });
  }
  if (c.needs[1]) grads[1] = convWeightGrad(c.b, gy, ys, X(c), xs, p.kernel, p);
  if (c.needs[2]) grads[2] = c.b.reduceSum(gy, [0, ...Array.from({ length: r }, (_, i) => i + 2)], false);
  return grads;
};

// ---------------------------------------------------------------------------------------------
// Matrix products
// ---------------------------------------------------------------------------------------------

function swapLast(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  p[rank - 1] = rank - 2;
  p[rank - 2] = rank - 1;
  return p;
}

/** Transposes the last two axes; constant operands are transposed at build time. */
function transposeLast(c: RuleContext, name: string, shape: number[], constant: Tensor | undefined): string {
  if (constant && !constant.raw && constant.dims.length === shape.length) {
    return c.b.constant(transposeTensor(constant, swapLast(shape.length)), 'transposed');
  }
  return c.b.transpose(name, swapLast(shape.length));
}

const matmul: VjpRule = (c) => {
  const as = shapeOf(c, 0);
  const bs = shapeOf(c, 1);
  const a2 = as.length === 1 ? [1, as[0] as number] : as;
  const b2 = bs.length === 1 ? [bs[0] as number, 1] : bs;
  const batch = yShape(c).slice(0, Math.max(a2.length, b2.length) - 2);
  const y2 = [...batch, a2[a2.length - 2] as number, b2[b2.length - 1] as number];
  const gy = c.b.reshape(out0(c), y2);
  const A = as.length === 1 ? c.b.reshape(c.node.inputs[0] as string, a2) : (c.node.inputs[0] as string);
  const B = bs.length === 1 ? c.b.reshape(c.node.inputs[1] as string, b2) : (c.node.inputs[1] as string);
  const grads: (string | undefined)[] = [undefined, undefined];
  if (c.needs[0]) {
    const bt = transposeLast(c, B, b2, bs.length === 1 ? undefined : c.constIn(1));
    const ga = c.b.op('MatMul', [gy, bt]);
    const full = [...batch, a2[a2.length - 2] as number, a2[a2.length - 1] as number];
    grads[0] = c.b.reshape(c.b.unbroadcast(ga, full, a2), as);
  }
  if (c.needs[1]) {
    const at = transposeLast(c, A, a2, as.length === 1 ? undefined : c.constIn(0));
    const gb = c.b.op('MatMul', [at, gy]);
    const full = [...batch, b2[b2.length - 2] as number, b2[b2.length - 1] as number];
    grads[1] = c.b.reshape(c.b.unbroadcast(gb, full, b2), bs);
  }
  return grads;
};

const gemm: VjpRule = (c) => {
  const ta = attrInt(c.node, 'transA', 0);
  const tb = attrInt(c.node, 'transB', 0);
  const alpha = attrFloat(c.node, 'alpha', 1);
  const beta = attrFloat(c.node, 'beta', 1);
  const gy = out0(c);
  const [A, B] = [c.node.inputs[0] as string, c.node.inputs[1] as string];
  const grads: (string | undefined)[] = [undefined, undefined, undefined];
  const f = { float: alpha };
  if (c.needs[0]) {
    grads[0] = ta
      ? c.b.op('Gemm', [B, gy], { transA: tb, transB: 1, alpha: f })
      : c.b.op('Gemm', [gy, B], { transA: 0, transB: tb ? 0 : 1, alpha: f });
  }
  if (c.needs[1]) {
    grads[1] = tb
      ? c.b.op('Gemm', [gy, A], { transA: 1, transB: ta, alpha: f })
      : c.b.op('Gemm', [A, gy], { transA: ta ? 0 : 1, transB: 0, alpha: f });
  }
  if (c.needs[2] && c.node.inputs[2]) {
    const scaled = beta === 1 ? gy : c.b.mul(gy, c.b.scalar(beta));
    grads[2] = c.b.unbroadcast(scaled, yShape(c), shapeOf(c, 2));
  }
  return grads;
};

// ---------------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------------

const add: VjpRule = (c) => {
  const gy = out0(c);
  return [0, 1].map((i) => (c.needs[i] ? c.b.unbroadcast(gy, yShape(c), shapeOf(c, i)) : undefined));
};

const sub: VjpRule = (c) => {
  const gy = out0(c);
  return [
    c.needs[0] ? c.b.unbroadcast(gy, yShape(c), shapeOf(c, 0)) : undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.neg(gy), yShape(c), shapeOf(c, 1)) : undefined,
  ];
};

const mul: VjpRule = (c) => {
  const gy = out0(c);
  const [A, B] = [c.node.inputs[0] as string, c.node.inputs[1] as string];
  return [
    c.needs[0] ? c.b.unbroadcast(c.b.mul(gy, B), yShape(c), shapeOf(c, 0)) : undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.mul(gy, A), yShape(c), shapeOf(c, 1)) : undefined,
  ];
};

const div: VjpRule = (c) => {
  const gy = out0(c);
  const B = c.node.inputs[1] as string;
  return [
    c.needs[0] ? c.b.unbroadcast(c.b.div(gy, B), yShape(c), shapeOf(c, 0)) : undefined,
    // d(A/B)/dB = -Y/B
    c.needs[1] ? c.b.unbroadcast(c.b.neg(c.b.div(c.b.mul(gy, Y(c)), B)), yShape(c), shapeOf(c, 1)) : undefined,
  ];
};

const pow: VjpRule = (c) => {
  const gy = out0(c);
  const [A, P] = [c.node.inputs[0] as string, c.node.inputs[1] as string];
  const grads: (string | undefined)[] = [undefined, undefined];
  if (c.needs[0]) {
    const pc = c.constIn(1);
    const p = constScalar(pc);
    let d: string;
    if (p === 2) d = c.b.mul(A, c.b.scalar(2));
    else if (p === 1) d = c.b.op('Identity', [gy]);
    else if (p !== undefined) d = c.b.mul(c.b.op('Pow', [A, c.b.scalar(p - 1)]), c.b.scalar(p));
    else if (pc) {
      const pm1 = f32(pc.dims, Array.from(pc.data, (v) => v - 1));
      d = c.b.mul(c.b.op('Pow', [A, c.b.constant(pm1)]), c.b.constant(f32(pc.dims, pc.data)));
    } else {
      const pf = c.inInfo(1).dtype === DataType.FLOAT ? P : c.b.op('Cast', [P], { to: DataType.FLOAT });
      d = c.b.mul(c.b.op('Pow', [A, c.b.sub(pf, c.b.scalar(1))]), pf);
    }
    grads[0] = c.b.unbroadcast(p === 1 ? d : c.b.mul(gy, d), yShape(c), shapeOf(c, 0));
  }
  if (c.needs[1]) grads[1] = c.b.unbroadcast(c.b.mul(c.b.mul(gy, Y(c)), c.b.op('Log', [A])), yShape(c), shapeOf(c, 1));
  return grads;
};

const where: VjpRule = (c) => {
  const gy = out0(c);
  const cond = c.node.inputs[0] as string;
  const zero = c.b.scalar(0);
  return [
    undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.op('Where', [cond, gy, zero]), yShape(c), shapeOf(c, 1)) : undefined,
    c.needs[2] ? c.b.unbroadcast(c.b.op('Where', [cond, zero, gy]), yShape(c), shapeOf(c, 2)) : undefined,
  ];
};

const clip: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  let g = out0(c);
  const zero = c.b.scalar(0);
  let lo: string | undefined;
  let hi: string | undefined;
  if (c.opset >= 11) {
    lo = c.node.inputs[1] || undefined;
    hi = c.node.inputs[2] || undefined;
  } else {
    if (c.node.attributes.min) lo = c.b.scalar(attrFloat(c.node, 'min', 0));
    if (c.node.attributes.max) hi = c.b.scalar(attrFloat(c.node, 'max', 0));
  }
  // Gradient passes where lo <= x <= hi (PyTorch's clamp convention), without And.
  if (lo) g = c.b.op('Where', [c.b.op('Less', [X(c), lo]), zero, g]);
  if (hi) g = c.b.op('Where', [c.b.op('Greater', [X(c), hi]), zero, g]);
  return [g];
};

const unaryRules: Record<string, VjpRule> = {
  Identity: unary((_c, g) => g),
  Dropout: unary((_c, g) => g),
  Neg: unary((c, g) => c.b.neg(g)),
  Sqrt: unary((c, g) => c.b.div(c.b.mul(g, c.b.scalar(0.5)), Y(c))),
  Reciprocal: unary((c, g) => c.b.neg(c.b.mul(g, c.b.mul(Y(c), Y(c))))),
  Exp: unary((c, g) => c.b.mul(g, Y(c))),
  Log: unary((c, g) => c.b.div(g, X(c))),
  Relu: unary((c, g) => c.b.op('Where', [c.b.op('Greater', [X(c), c.b.scalar(0)]), g, c.b.scalar(0)])),
  LeakyRelu: unary((c, g) => {
    const alpha = attrFloat(c.node, 'alpha', 0.01);
    return c.b.op('Where', [c.b.op('Greater', [X(c), c.b.scalar(0)]), g, c.b.mul(g, c.b.scalar(alpha))]);
  }),
  Sigmoid: unary((c, g) => c.b.mul(g, c.b.mul(Y(c), c.b.sub(c.b.scalar(1), Y(c))))),
  Tanh: unary((c, g) => c.b.mul(g, c.b.sub(c.b.scalar(1), c.b.mul(Y(c), Y(c))))),
  Erf: unary((c, g) => {
    const e = c.b.op('Exp', [c.b.neg(c.b.mul(X(c), X(c)))]);
    return c.b.mul(g, c.b.mul(e, c.b.scalar(2 / Math.sqrt(Math.PI))));
  }),
  Cast: unary((c, g) => {
    const from = c.inInfo(0).dtype;
    return from === c.outInfo(0).dtype ? g : c.b.op('Cast', [g], { to: from });
  }),
  Sin: unary((c, g) => c.b.mul(g, c.b.op('Cos', [X(c)]))),
  Cos: unary((c, g) => c.b.neg(c.b.mul(g, c.b.op('Sin', [X(c)])))),
  Abs: unary((c, g) => {
    const pos = c.b.op('Greater', [X(c), c.b.scalar(0)]);
    const negm = c.b.op('Less', [X(c), c.b.scalar(0)]);
    return c.b.op('Where', [pos, g, c.b.op('Where', [negm, c.b.neg(g), c.b.scalar(0)])]);
  }),
};

// ---------------------------------------------------------------------------------------------
// Shape and data movement
// ---------------------------------------------------------------------------------------------

const reshapeBack: VjpRule = (c) => [c.needs[0] ? c.b.reshape(out0(c), shapeOf(c, 0)) : undefined];

const transpose: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const r = shapeOf(c, 0).length;
  const perm = attrInts(c.node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const inv = new Array<number>(r);
  perm.forEach((p, i) => { inv[p] = i; });
  return [c.b.transpose(out0(c), inv)];
};

const concat: VjpRule = (c) => {
  const gy = out0(c);
  const r = yShape(c).length;
  const ax = normAxis(attrInt(c.node, 'axis', 0), r);
  let off = 0;
  return c.node.inputs.map((_, i) => {
    const len = shapeOf(c, i)[ax] as number;
    const start = off;
    off += len;
    return c.needs[i] ? c.b.slice(gy, [start], [start + len], [ax]) : undefined;
  });
};

const split: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const r = shapeOf(c, 0).length;
  const ax = normAxis(attrInt(c.node, 'axis', 0), r);
  const parts = c.node.outputs.map((_, i) => c.dY[i] ?? c.b.zeros(c.outInfo(i).shape));
  return [parts.length === 1 ? parts[0] : c.b.op('Concat', parts, { axis: ax })];
};

const slice: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const xs = shapeOf(c, 0);
  const starts = intsConst(c, 1);
  const ends = intsConst(c, 2);
  if (!starts || !ends) throw new Error(`${describeNode(c.node)}: starts/ends must be constant`);
  const axes = resolveSlice(xs, starts, ends, c.node.inputs[3] ? intsConst(c, 3) : undefined, c.node.inputs[4] ? intsConst(c, 4) : undefined);
  let g = out0(c);
  const cur = [...yShape(c)];
  for (const a of axes) {
    const dim = xs[a.axis] as number;
    let start = a.start;
    let step = a.step;
    if (a.count === 0) {
      cur[a.axis] = dim;
      g = c.b.zeros(cur);
      continue;
    }
    if (step < 0) {
      // Reverse the selected elements so they run forwards from the lowest index.
      g = c.b.slice(g, [-1], [-(2 ** 62)], [a.axis], [-1]);
      start = a.start + (a.count - 1) * step;
      step = -step;
    }
    if (step > 1) {
      // Interleave step-1 zeros after each element: [.., n, ..] -> [.., n, step, ..] -> [.., n*step, ..].
      const inner = [...cur.slice(0, a.axis + 1), 1, ...cur.slice(a.axis + 1)];
      const padded = c.b.pad(c.b.reshape(g, inner), inner.map((_, i) => 0).concat(inner.map((_, i) => (i === a.axis + 1 ? step - 1 : 0))));
      const flat = [...cur];
      flat[a.axis] = a.count * step;
      g = c.b.reshape(padded, flat);
      const len = (a.count - 1) * step + 1;
      g = c.b.slice(g, [0], [len], [a.axis]);
      cur[a.axis] = len;
    }
    const len = cur[a.axis] as number;
    const pads = new Array<number>(2 * cur.length).fill(0);
    pads[a.axis] = start;
    pads[a.axis + cur.length] = dim - start - len;
    g = c.b.pad(g, pads);
    cur[a.axis] = dim;
  }
  return [g];
};

const pad: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const xs = shapeOf(c, 0);
  const r = xs.length;
  const spec = padSpec(c.node, r, c.constIn(1), c.node.inputs[3] ? c.constIn(3) : undefined, c.opset);
  if (spec.mode !== 'constant') throw new Error(`${describeNode(c.node)}: Pad mode '${spec.mode}' is not differentiable here (only constant)`);
  const starts: number[] = [];
  const ends: number[] = [];
  const back = new Array<number>(2 * r).fill(0);
  for (let i = 0; i < r; i++) {
    const pb = spec.pads[i] as number;
    const pe = spec.pads[i + r] as number;
    const s = Math.max(pb, 0);
    starts.push(s);
    ends.push(s + (xs[i] as number) - Math.max(-pb, 0) - Math.max(-pe, 0));
    back[i] = Math.max(-pb, 0);
    back[i + r] = Math.max(-pe, 0);
  }
  const sliced = c.b.slice(out0(c), starts, ends, xs.map((_, i) => i));
  return [c.b.pad(sliced, back)];
};

const expand: VjpRule = (c) => [c.needs[0] ? c.b.unbroadcast(out0(c), yShape(c), shapeOf(c, 0)) : undefined];

const tile: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const xs = shapeOf(c, 0);
  const reps = intsConst(c, 1);
  if (!reps) throw new Error(`${describeNode(c.node)}: repeats must be constant`);
  const inter = xs.flatMap((d, i) => [reps[i] as number, d]);
  const g = c.b.reshape(out0(c), inter);
  return [c.b.reshape(c.b.reduceSum(g, xs.map((_, i) => 2 * i), false), xs)];
};

const gather: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const idx = c.constIn(1);
  if (!idx) throw new Error(`${describeNode(c.node)}: Gather on the gradient path needs constant indices`);
  const xs = shapeOf(c, 0);
  const ax = normAxis(attrInt(c.node, 'axis', 0), xs.length);
  const d = xs[ax] as number;
  const pre = xs.slice(0, ax);
  const post = xs.slice(ax + 1);
  const ids = Array.from(idx.data, (v) => (v < 0 ? v + d : v));
  const m = ids.length;
  const gy = out0(c);
  if (m === 1) {
    // Scalar index: put the slice back in place with zero padding.
    const g = c.b.reshape(gy, [...pre, 1, ...post]);
    const pads = new Array<number>(2 * xs.length).fill(0);
    pads[ax] = ids[0] as number;
    pads[ax + xs.length] = d - (ids[0] as number) - 1;
    return [c.b.pad(g, pads)];
  }
  // General indices: one-hot [d, m] matrix product along the gathered axis (sums duplicates).
  const onehot = new Float32Array(d * m);
  ids.forEach((i, j) => { onehot[i * m + j] = (onehot[i * m + j] as number) + 1; });
  const P = numel(pre);
  const Q = numel(post);
  const g = c.b.reshape(gy, [P, m, Q]);
  const r = c.b.op('MatMul', [c.b.constant(f32([d, m], onehot), 'onehot'), g]);
  return [c.b.reshape(r, xs)];
};

function reduceRule(mean: boolean): VjpRule {
  return (c) => {
    if (!c.needs[0]) return [];
    const xs = shapeOf(c, 0);
    const r = xs.length;
    const fromInput = c.node.opType === 'ReduceSum' ? c.opset >= 13 : c.opset >= 18;
    let axes = fromInput ? (c.node.inputs[1] ? intsConst(c, 1) : undefined) : attrInts(c.node, 'axes');
    if (fromInput && c.node.inputs[1] && !axes) throw new Error(`${describeNode(c.node)}: axes must be constant`);
    if (!axes || axes.length === 0) {
      if (attrInt(c.node, 'noop_with_empty_axes', 0)) return [out0(c)];
      axes = xs.map((_, i) => i);
    }
    const ax = axes.map((a) => normAxis(a, r));
    const kd = xs.map((d, i) => (ax.includes(i) ? 1 : d));
    let g = c.b.reshape(out0(c), kd);
    if (mean) g = c.b.mul(g, c.b.scalar(1 / numel(ax.map((a) => xs[a] as number))));
    return [c.b.op('Expand', [g, c.b.ints(xs)])];
  };
}

const softmax: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  if (c.opset < 13) throw new Error(`${describeNode(c.node)}: Softmax VJP needs opset >= 13`);
  const ax = normAxis(attrInt(c.node, 'axis', -1), yShape(c).length);
  const gy = out0(c);
  const s = c.b.reduceSum(c.b.mul(gy, Y(c)), [ax], true);
  return [c.b.mul(Y(c), c.b.sub(gy, s))];
};

/**
 * Normalisation over `axes` (LayerNorm: trailing axes; InstanceNorm: spatial axes). With
 * g = dY·gamma and x̂ the normalised input: dX = invstd·(g − mean(g) − x̂·mean(g·x̂)).
 */
function normGrad(c: RuleContext, axes: number[], eps: number, gammaShape: number[] | undefined): { dx: string; xhat: string } {
  const b = c.b;
  const xs = shapeOf(c, 0);
  const n = numel(axes.map((a) => xs[a] as number));
  const inv = b.scalar(1 / n);
  const mean = b.mul(b.reduceSum(X(c), axes, true), inv);
  const xc = b.sub(X(c), mean);
  const variance = b.mul(b.reduceSum(b.mul(xc, xc), axes, true), inv);
  const invstd = b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, b.scalar(eps))])]);
  const xhat = b.mul(xc, invstd);
  const gy = out0(c);
  const g = gammaShape ? b.mul(gy, b.reshape(c.node.inputs[1] as string, gammaShape)) : gy;
  const mg = b.mul(b.reduceSum(g, axes, true), inv);
  const mgx = b.mul(b.reduceSum(b.mul(g, xhat), axes, true), inv);
  const dx = b.mul(invstd, b.sub(b.sub(g, mg), b.mul(xhat, mgx)));
  return { dx, xhat };
}

const layerNorm: VjpRule = (c) => {
  const xs = shapeOf(c, 0);
  const r = xs.length;
  const ax = normAxis(attrInt(c.node, 'axis', -1), r);
  const axes = Array.from({ length: r - ax }, (_, i) => ax + i);
  if (c.dY.slice(1).some((g) => g)) throw new Error(`${describeNode(c.node)}: gradients through Mean/InvStdDev outputs are not supported`);
  const scaleShape = shapeOf(c, 1);
  const { dx, xhat } = normGrad(c, axes, attrFloat(c.node, 'epsilon', 1e-5), scaleShape);
  const gy = out0(c);
  return [
    c.needs[0] ? dx : undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.mul(gy, xhat), xs, scaleShape) : undefined,
    c.needs[2] && c.node.inputs[2] ? c.b.unbroadcast(gy, xs, shapeOf(c, 2)) : undefined,
  ];
};

const instanceNorm: VjpRule = (c) => {
  const xs = shapeOf(c, 0);
  const r = xs.length;
  const axes = Array.from({ length: r - 2 }, (_, i) => i + 2);
  const cshape = [xs[1] as number, ...axes.map(() => 1)];
  const { dx, xhat } = normGrad(c, axes, attrFloat(c.node, 'epsilon', 1e-5), cshape);
  const gy = out0(c);
  const perChannel = (t: string): string => c.b.reduceSum(t, [0, ...axes], false);
  return [
    c.needs[0] ? dx : undefined,
    c.needs[1] ? perChannel(c.b.mul(gy, xhat)) : undefined,
    c.needs[2] ? perChannel(gy) : undefined,
  ];
};

// ---------------------------------------------------------------------------------------------
// Resize
// ---------------------------------------------------------------------------------------------

/** Interpolation matrix A [out, in] of one axis, so that y = A·x along that axis (ONNX Resize semantics). */
export function resizeMatrix(node: OnnxNode, inSize: number, outSize: number, scale: number): Float32Array {
  const mode = attrString(node, 'mode', 'nearest');
  const ctm = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearestMode = attrString(node, 'nearest_mode', 'round_prefer_floor');
  const A = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    let x: number;
    switch (ctm) {
      case 'half_pixel': x = (o + 0.5) / scale - 0.5; break;
      case 'pytorch_half_pixel': x = outSize > 1 ? (o + 0.5) / scale - 0.5 : 0; break;
      case 'align_corners': x = outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1); break;
      case 'asymmetric': x = o / scale; break;
      default: throw new Error(`${describeNode(node)}: coordinate_transformation_mode '${ctm}' not supported`);
    }
    if (mode === 'nearest') {
      let i: number;
      switch (nearestMode) {
        case 'round_prefer_floor': i = x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x); break;
        case 'round_prefer_ceil': i = Math.round(x); break;
        case 'floor': i = Math.floor(x); break;
        case 'ceil': i = Math.ceil(x); break;
        default: throw new Error(`nearest_mode ${nearestMode}`);
      }
      i = Math.min(Math.max(i, 0), inSize - 1);
      A[o * inSize + i] = (A[o * inSize + i] as number) + 1;
    } else if (mode === 'linear') {
      const xc = Math.min(Math.max(x, 0), inSize - 1);
      const i0 = Math.floor(xc);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const w1 = xc - i0;
      A[o * inSize + i0] = (A[o * inSize + i0] as number) + (1 - w1);
      A[o * inSize + i1] = (A[o * inSize + i1] as number) + w1;
    } else throw new Error(`${describeNode(node)}: Resize mode '${mode}' not supported`);
  }
  return A;
}

const resize: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const xs = shapeOf(c, 0);
  const ys = yShape(c);
  const r = xs.length;
  const scalesT = c.node.inputs[2] ? c.constIn(2) : undefined;
  const axesAttr = attrInts(c.node, 'axes');
  const scales = xs.map((d, i) => (ys[i] as number) / d);
  if (scalesT && scalesT.data.length) {
    Array.from(scalesT.data).forEach((s, i) => { scales[axesAttr ? normAxis(axesAttr[i] as number, r) : i] = s; });
  }
  const changed = xs.map((d, i) => d !== ys[i] || scales[i] !== 1);
  for (let i = 0; i < r - 2; i++) if (changed[i]) throw new Error(`${describeNode(c.node)}: resizing a leading axis is not supported`);
  if (attrInt(c.node, 'antialias', 0)) throw new Error(`${describeNode(c.node)}: antialias not supported`);
  let g = out0(c);
  // y = A_h · x · A_wᵀ  =>  dx = A_hᵀ · dy · A_w
  if (changed[r - 1]) {
    const A = resizeMatrix(c.node, xs[r - 1] as number, ys[r - 1] as number, scales[r - 1] as number);
    g = c.b.op('MatMul', [g, c.b.constant(f32([ys[r - 1] as number, xs[r - 1] as number], A), 'resize_w')]);
  }
  if (r >= 2 && changed[r - 2]) {
    const A = resizeMatrix(c.node, xs[r - 2] as number, ys[r - 2] as number, scales[r - 2] as number);
    const At = transposeTensor(f32([ys[r - 2] as number, xs[r - 2] as number], A), [1, 0]);
    g = c.b.op('MatMul', [c.b.constant(At, 'resize_ht'), g]);
  }
  return [g];
};

function variadic(mean: boolean): VjpRule {
  return (c) => {
    const gy = out0(c);
    const g = mean ? c.b.mul(gy, c.b.scalar(1 / c.node.inputs.length)) : gy;
    return c.node.inputs.map((_, i) => (c.needs[i] ? c.b.unbroadcast(g, yShape(c), shapeOf(c, i)) : undefined));
  };
}

/** Inference-mode BatchNormalization: y = (x − mean)·scale/√(var+eps) + B with given statistics. */
const batchNorm: VjpRule = (c) => {
  if (attrInt(c.node, 'training_mode', 0)) throw new Error(`${describeNode(c.node)}: training_mode BatchNormalization is not supported`);
  const xs = shapeOf(c, 0);
  const cs = [xs[1] as number, ...xs.slice(2).map(() => 1)];
  const b = c.b;
  const [x, scale, , mean, variance] = c.node.inputs as [string, string, string, string, string];
  const gy = out0(c);
  const invstd = b.reshape(b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, b.scalar(attrFloat(c.node, 'epsilon', 1e-5)))])]), cs);
  const axes = [0, ...xs.slice(2).map((_, i) => i + 2)];
  const grads: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  if (c.needs[0]) grads[0] = b.mul(gy, b.mul(b.reshape(scale, cs), invstd));
  const xhat = (): string => b.mul(b.sub(x, b.reshape(mean, cs)), invstd);
  if (c.needs[1]) grads[1] = b.reduceSum(b.mul(gy, xhat()), axes, false);
  if (c.needs[2]) grads[2] = b.reduceSum(gy, axes, false);
  if (c.needs[3]) grads[3] = b.neg(b.reduceSum(b.mul(gy, b.mul(b.reshape(scale, cs), invstd)), axes, false));
  if (c.needs[4]) {
    // dy/dvar = −½·(x − mean)·scale·invstd³
    const t = b.mul(b.mul(gy, b.sub(x, b.reshape(mean, cs))), b.mul(b.reshape(scale, cs), b.mul(invstd, b.mul(invstd, invstd))));
    grads[4] = b.mul(b.reduceSum(t, axes, false), b.scalar(-0.5));
  }
  return grads;
};

export const vjpRules: Record<string, VjpRule> = {
  Sum: variadic(false),
  Mean: variadic(true),
  BatchNormalization: batchNorm,
  ...unaryRules,
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Where: where,
  Clip: clip,
  MatMul: matmul,
  Gemm: gemm,
  Conv: conv,
  ConvTranspose: convTranspose,
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Expand: expand,
  Tile: tile,
  Gather: gather,
  ReduceSum: reduceRule(false),
  ReduceMean: reduceRule(true),
  Softmax: softmax,
  LayerNormalization: layerNorm,
  InstanceNormalization: instanceNorm,
  Resize: resize,
};

/** Inputs that never carry a gradient (indices, shapes, conditions, sizes). */
export const differentiableInputs: Record<string, (i: number) => boolean> = {
  Reshape: (i) => i === 0,
  Squeeze: (i) => i === 0,
  Unsqueeze: (i) => i === 0,
  Slice: (i) => i === 0,
  Pad: (i) => i === 0,
  Expand: (i) => i === 0,
  Tile: (i) => i === 0,
  Gather: (i) => i === 0,
  Split: (i) => i === 0,
  ReduceSum: (i) => i === 0,
  ReduceMean: (i) => i === 0,
  Resize: (i) => i === 0,
  Clip: (i) => i === 0,
  Where: (i) => i > 0,
};

/** Ops whose outputs never carry gradient (their float inputs only influence shapes or booleans). */
export const nonDifferentiableOps = new Set([
  'Shape', 'Size', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor',
  'ArgMax', 'ArgMin', 'NonZero', 'ConstantOfShape', 'RandomNormalLike', 'RandomUniformLike', 'IsNaN', 'IsInf',
  'Floor', 'Ceil', 'Round', 'Sign', 'EyeLike', 'Range',
]);

export { isFloatType };
