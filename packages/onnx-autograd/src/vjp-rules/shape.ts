import { padSpec } from '../analysis';
import { attrInt, attrInts, describeNode } from '../attributes';
import { normAxis, resolveSlice } from '../shape-utils';
import { f32, numel } from '../tensor';
import { intsConst, out0, shapeOf, yShape, type VjpRule } from './context';

/* Views and data movement: gradients are the inverse view or a scatter written with Pad/MatMul. */

export const reshapeBack: VjpRule = (c) => [c.needs[0] ? c.b.reshape(out0(c), shapeOf(c, 0)) : undefined];

export const transpose: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const r = shapeOf(c, 0).length;
  const perm = attrInts(c.node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const inv = new Array<number>(r);
  perm.forEach((p, i) => { inv[p] = i; });
  return [c.b.transpose(out0(c), inv)];
};

export const concat: VjpRule = (c) => {
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

export const split: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const r = shapeOf(c, 0).length;
  const ax = normAxis(attrInt(c.node, 'axis', 0), r);
  const parts = c.node.outputs.map((_, i) => c.dY[i] ?? c.b.zeros(c.outInfo(i).shape));
  return [parts.length === 1 ? parts[0] : c.b.op('Concat', parts, { axis: ax })];
};

export const slice: VjpRule = (c) => {
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

export const pad: VjpRule = (c) => {
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

export const expand: VjpRule = (c) => [c.needs[0] ? c.b.unbroadcast(out0(c), yShape(c), shapeOf(c, 0)) : undefined];

export const tile: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  const xs = shapeOf(c, 0);
  const reps = intsConst(c, 1);
  if (!reps) throw new Error(`${describeNode(c.node)}: repeats must be constant`);
  const inter = xs.flatMap((d, i) => [reps[i] as number, d]);
  const g = c.b.reshape(out0(c), inter);
  return [c.b.reshape(c.b.reduceSum(g, xs.map((_, i) => 2 * i), false), xs)];
};

export const gather: VjpRule = (c) => {
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

export function reduceRule(mean: boolean): VjpRule {
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
