import { attrFloat, attrInt, attrInts, attrString, attrTensor, describeNode } from './attributes';
import { gemmEval, matmulEval } from './eval-matmul';
import type { OnnxGraph, OnnxNode } from './model';
import {
  broadcastShapes,
  convOutShape,
  convParams,
  convTransposeOutShape,
  convTransposeParams,
  normAxis,
  resolveSlice,
  stridesOf,
} from './shape-utils';
import { DataType, numel, type Tensor } from './tensor';

/** Static type of a tensor: element type and fixed shape. */
export interface TensorInfo {
  dtype: number;
  shape: number[];
}

export interface GraphAnalysis {
  /** Type and shape of every tensor of the graph. */
  info: Map<string, TensorInfo>;
  /** Every tensor whose value is known without running the model (initializers, Constant, folded). */
  constants: Map<string, Tensor>;
  /** The nodes that were not folded, in topological order. */
  nodes: OnnxNode[];
  /** Nodes whose output shapes could not be inferred, with the reason (their outputs have no info). */
  failures: Map<OnnxNode, string>;
}

/** Constant folding is limited to results of this many elements (shape arithmetic, small tables). */
const FOLD_LIMIT = 1 << 22;

/**
 * Shape inference at fixed input shapes and constant folding of everything that does not depend
 * on a graph input (exporter shape chains: Shape/Gather/Unsqueeze/Concat/Cast/...). `inputShapes`
 * overrides the graph's declared input shapes (needed when they are symbolic).
 */
export function analyzeGraph(graph: OnnxGraph, opset: number, inputShapes: Record<string, readonly number[]> = {}): GraphAnalysis {
  const info = new Map<string, TensorInfo>();
  const constants = new Map<string, Tensor>();
  for (const [name, t] of graph.initializers) {
    constants.set(name, t);
    info.set(name, { dtype: t.dtype, shape: [...t.dims] });
  }
  for (const v of graph.inputs) {
    const override = inputShapes[v.name];
    const shape = override ? [...override] : v.shape;
    if (!shape || shape.some((d) => typeof d !== 'number' || d < 0)) {
      throw new Error(`input '${v.name}' has no fixed shape; pass inputShapes`);
    }
    info.set(v.name, { dtype: v.dtype, shape: shape as number[] });
  }
  const declared = new Map<string, TensorInfo>();
  for (const v of [...graph.valueInfo, ...graph.outputs]) {
    if (v.shape && v.shape.every((d) => typeof d === 'number')) declared.set(v.name, { dtype: v.dtype, shape: v.shape as number[] });
  }
  const nodes: OnnxNode[] = [];
  const failures = new Map<OnnxNode, string>();
  const produced = new Set<string>([...info.keys(), ...graph.nodes.flatMap((n) => n.outputs)]);
  for (const node of topoSort(graph)) {
    const ins = node.inputs.map((n) => (n ? info.get(n) : undefined));
    const cins = node.inputs.map((n) => (n ? constants.get(n) : undefined));
    for (let i = 0; i < node.inputs.length; i++) {
      const n = node.inputs[i];
      if (n && !produced.has(n)) throw new Error(`${describeNode(node)}: input '${n}' is not produced by any node`);
    }
    const unknownInput = node.inputs.find((n) => n && !info.has(n));
    if (unknownInput) {
      // Downstream of a node we could not infer (e.g. a control-flow op off the gradient path).
      failures.set(node, `input '${unknownInput}' has no inferred shape`);
      nodes.push(node);
      continue;
    }
    let folded: Tensor[] | undefined;
    const allConst = node.inputs.every((n, i) => !n || cins[i] !== undefined);
    if (node.opType === 'Shape' && ins[0]) folded = [evalShape(node, ins[0].shape)];
    else if (node.opType === 'Size' && ins[0]) folded = [{ dtype: DataType.INT64, dims: [], data: Float64Array.of(numel(ins[0].shape)) }];
    else if (allConst && (node.domain === '' || node.domain === 'ai.onnx')) {
      try {
        folded = evalNode(node, cins, opset);
      } catch {
        folded = undefined;
      }
      if (folded && folded.some((t) => numel(t.dims) > FOLD_LIMIT)) folded = undefined;
    }
    if (folded) {
      node.outputs.forEach((o, i) => {
        const t = folded[i];
        if (!o || !t) return;
        constants.set(o, t);
        info.set(o, { dtype: t.dtype, shape: [...t.dims] });
      });
      continue;
    }
    let outs: TensorInfo[] | undefined;
    try {
      outs = inferNode(node, ins, cins, opset);
    } catch (e) {
      if (node.outputs.every((o) => !o || declared.has(o))) outs = node.outputs.map((o) => declared.get(o) as TensorInfo);
      else failures.set(node, `shape inference failed at ${describeNode(node)}: ${(e as Error).message}`);
    }
    node.outputs.forEach((o, i) => {
      const t = outs?.[i];
      if (o && t) info.set(o, t);
    });
    nodes.push(node);
  }
  return { info, constants, nodes, failures };
}

export function topoSort(graph: OnnxGraph): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const done = new Set<OnnxNode>();
  const onStack = new Set<OnnxNode>();
  const order: OnnxNode[] = [];
  const visit = (root: OnnxNode): void => {
    // Iterative DFS: generator graphs can be deep chains.
    const stack: [OnnxNode, number][] = [[root, 0]];
    onStack.add(root);
    while (stack.length) {
      const top = stack[stack.length - 1] as [OnnxNode, number];
      const [n, i] = top;
      if (i < n.inputs.length) {
        top[1]++;
        const p = producer.get(n.inputs[i] as string);
        if (p && !done.has(p)) {
          if (onStack.has(p)) throw new Error(`graph has a cycle at ${describeNode(p)}`);
          onStack.add(p);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        onStack.delete(n);
        done.add(n);
        order.push(n);
      }
    }
  };
  for (const n of graph.nodes) if (!done.has(n)) visit(n);
  return order;
}

// ---------------------------------------------------------------------------------------------
// Constant evaluation (small CPU interpreter for folding)
// ---------------------------------------------------------------------------------------------

function intsOf(t: Tensor | undefined): number[] | undefined {
  return t ? Array.from(t.data, Number) : undefined;
}

function mk(dtype: number, dims: number[], data: ArrayLike<number>): Tensor {
  return { dtype, dims, data: dtype === DataType.FLOAT ? Float32Array.from(data) : Float64Array.from(data) };
}

function evalShape(node: OnnxNode, shape: readonly number[]): Tensor {
  const r = shape.length;
  let start = attrInt(node, 'start', 0);
  let end = attrInt(node, 'end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = Math.min(Math.max(start, 0), r);
  end = Math.min(Math.max(end, 0), r);
  const s = shape.slice(start, Math.max(start, end));
  return mk(DataType.INT64, [s.length], s);
}

/** Reads a tensor at broadcast positions: returns an index map from output flat index to input flat index. */
function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = numel(outShape);
  const idx = new Int32Array(n);
  const r = outShape.length;
  const inSt = stridesOf(inShape);
  const off = r - inShape.length;
  const coord = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let j = 0;
    for (let a = off; a < r; a++) {
      const d = inShape[a - off] as number;
      if (d !== 1) j += (coord[a] as number) * (inSt[a - off] as number);
    }
    idx[k] = j;
    for (let a = r - 1; a >= 0; a--) {
      coord[a] = (coord[a] as number) + 1;
      if ((coord[a] as number) < (outShape[a] as number)) break;
      coord[a] = 0;
    }
  }
  return idx;
}

function elementwise(tensors: Tensor[], dtype: number, fn: (...v: number[]) => number): Tensor {
  const shape = broadcastShapes(...tensors.map((t) => t.dims));
  const maps = tensors.map((t) => broadcastIndex(t.dims, shape));
  const n = numel(shape);
  const out = dtype === DataType.FLOAT ? new Float32Array(n) : new Float64Array(n);
  const vals = new Array<number>(tensors.length);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < tensors.length; i++) vals[i] = (tensors[i] as Tensor).data[(maps[i] as Int32Array)[k] as number] as number;
    out[k] = fn(...vals);
  }
  return { dtype, dims: shape, data: out };
}

function castValue(v: number, to: number): number {
  switch (to) {
    case DataType.BOOL: return v ? 1 : 0;
    case DataType.FLOAT: return Math.fround(v);
    case DataType.DOUBLE:
    case DataType.FLOAT16: return v;
    default: return Math.trunc(v);
  }
}

const isInt = (dtype: number): boolean => dtype !== DataType.FLOAT && dtype !== DataType.DOUBLE && dtype !== DataType.FLOAT16;

const unaryEval: Record<string, (x: number) => number> = {
  Neg: (x) => -x,
  Abs: Math.abs,
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Exp: Math.exp,
  Log: Math.log,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Relu: (x) => Math.max(x, 0),
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  Tanh: Math.tanh,
  Sin: Math.sin,
  Cos: Math.cos,
  Identity: (x) => x,
  Not: (x) => (x ? 0 : 1),
};

const binaryEval: Record<string, (a: number, b: number, int: boolean) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b, int) => (int ? Math.trunc(a / b) : a / b),
  Pow: (a, b) => Math.pow(a, b),
  Mod: (a, b) => a - Math.floor(a / b) * b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
};

const compareEval: Record<string, (a: number, b: number) => boolean> = {
  Equal: (a, b) => a === b,
  Less: (a, b) => a < b,
  Greater: (a, b) => a > b,
  LessOrEqual: (a, b) => a <= b,
  GreaterOrEqual: (a, b) => a >= b,
  And: (a, b) => !!a && !!b,
  Or: (a, b) => !!a || !!b,
};

export function transposeTensor(t: Tensor, perm: readonly number[]): Tensor {
  const outShape = perm.map((p) => t.dims[p] as number);
  const inSt = stridesOf(t.dims);
  const n = numel(outShape);
  const out = t.data instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  const r = outShape.length;
  const coord = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let j = 0;
    for (let a = 0; a < r; a++) j += (coord[a] as number) * (inSt[perm[a] as number] as number);
    out[k] = t.data[j] as number;
    for (let a = r - 1; a >= 0; a--) {
      coord[a] = (coord[a] as number) + 1;
      if ((coord[a] as number) < (outShape[a] as number)) break;
      coord[a] = 0;
    }
  }
  return { dtype: t.dtype, dims: outShape, data: out };
}

function reshapeTarget(inShape: readonly number[], target: readonly number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? (inShape[i] as number) : d));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const known = out.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    out[neg] = numel(inShape) / known;
  }
  if (numel(out) !== numel(inShape)) throw new Error(`cannot reshape [${inShape.join(',')}] to [${target.join(',')}]`);
  return out;
}

function reduceAxes(node: OnnxNode, rank: number, axesInput: Tensor | undefined, opset: number): number[] | undefined {
  const fromInput = node.opType === 'ReduceSum' ? opset >= 13 : opset >= 18;
  const axes = fromInput ? intsOf(axesInput) : attrInts(node, 'axes');
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0)) return undefined;
    return Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
}

function squeezeAxes(node: OnnxNode, shape: readonly number[], axesInput: Tensor | undefined, opset: number): number[] {
  const axes = opset >= 13 ? intsOf(axesInput) : attrInts(node, 'axes');
  if (!axes) return shape.flatMap((d, i) => (d === 1 ? [i] : []));
  return axes.map((a) => normAxis(a, shape.length));
}

function unsqueezeShape(node: OnnxNode, shape: readonly number[], axesInput: Tensor | undefined, opset: number): number[] {
  const axes = (opset >= 13 ? intsOf(axesInput) : attrInts(node, 'axes')) ?? [];
  const r = shape.length + axes.length;
  const norm = new Set(axes.map((a) => normAxis(a, r)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(norm.has(i) ? 1 : (shape[j++] as number));
  return out;
}

function splitSizes(node: OnnxNode, dim: number, splitInput: Tensor | undefined, opset: number, nOut: number): number[] {
  const split = opset >= 13 ? intsOf(splitInput) : attrInts(node, 'split');
  if (split) return split;
  const parts = opset >= 18 ? attrInt(node, 'num_outputs', nOut) : nOut;
  const size = Math.ceil(dim / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(size, dim - i * size)));
}

export interface PadSpec { pads: number[]; mode: string }

export function padSpec(node: OnnxNode, rank: number, padsInput: Tensor | undefined, axesInput: Tensor | undefined, opset: number): PadSpec {
  const mode = attrString(node, 'mode', 'constant');
  const raw = opset >= 11 ? intsOf(padsInput) : attrInts(node, 'pads');
  if (!raw) throw new Error('Pad without constant pads');
  const axes = intsOf(axesInput);
  if (!axes) return { pads: raw, mode };
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((a, i) => {
    const ax = normAxis(a, rank);
    pads[ax] = raw[i] as number;
    pads[ax + rank] = raw[i + axes.length] as number;
  });
  return { pads, mode };
}

function gatherEval(data: Tensor, idx: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, data.dims.length);
  const outer = numel(data.dims.slice(0, ax));
  const inner = numel(data.dims.slice(ax + 1));
  const d = data.dims[ax] as number;
  const m = idx.data.length;
  const dims = [...data.dims.slice(0, ax), ...idx.dims, ...data.dims.slice(ax + 1)];
  const out = new Float64Array(numel(dims));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      let i = idx.data[j] as number;
      if (i < 0) i += d;
      for (let k = 0; k < inner; k++) out[(o * m + j) * inner + k] = data.data[(o * d + i) * inner + k] as number;
    }
  }
  return mk(data.dtype, dims, out);
}

function sliceEval(t: Tensor, axes: ReturnType<typeof resolveSlice>): Tensor {
  const dims = [...t.dims];
  for (const a of axes) dims[a.axis] = a.count;
  const st = stridesOf(t.dims);
  const n = numel(dims);
  const out = new Float64Array(n);
  const r = dims.length;
  const start = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  for (const a of axes) { start[a.axis] = a.start; step[a.axis] = a.step; }
  const coord = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let j = 0;
    for (let a = 0; a < r; a++) j += ((start[a] as number) + (coord[a] as number) * (step[a] as number)) * (st[a] as number);
    out[k] = t.data[j] as number;
    for (let a = r - 1; a >= 0; a--) {
      coord[a] = (coord[a] as number) + 1;
      if ((coord[a] as number) < (dims[a] as number)) break;
      coord[a] = 0;
    }
  }
  return mk(t.dtype, dims, out);
}

function concatEval(ts: Tensor[], axis: number): Tensor {
  const first = ts[0] as Tensor;
  const ax = normAxis(axis, first.dims.length);
  const outer = numel(first.dims.slice(0, ax));
  const dims = [...first.dims];
  dims[ax] = ts.reduce((s, t) => s + (t.dims[ax] as number), 0);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const t of ts) {
      const chunk = numel(t.dims.slice(ax));
      for (let k = 0; k < chunk; k++) out.push(t.data[o * chunk + k] as number);
    }
  }
  return mk(first.dtype, dims, out);
}

/** Evaluates one node on constant inputs; throws for ops it does not implement. */
export function evalNode(node: OnnxNode, ins: (Tensor | undefined)[], opset: number): Tensor[] {
  const x = ins[0];
  const op = node.opType;
  const need = (t: Tensor | undefined): Tensor => {
    if (!t) throw new Error(`${op}: missing input`);
    if (t.raw) throw new Error(`${op}: non-numeric input`);
    return t;
  };
  if (op === 'Constant') {
    const t = attrTensor(node, 'value');
    if (t) return [t];
    const a = node.attributes;
    if (a.value_float?.type === 'float') return [mk(DataType.FLOAT, [], [a.value_float.value])];
    if (a.value_floats?.type === 'floats') return [mk(DataType.FLOAT, [a.value_floats.value.length], a.value_floats.value)];
    if (a.value_int?.type === 'int') return [mk(DataType.INT64, [], [a.value_int.value])];
    if (a.value_ints?.type === 'ints') return [mk(DataType.INT64, [a.value_ints.value.length], a.value_ints.value)];
    throw new Error('Constant: unsupported value attribute');
  }
  if (op in unaryEval) {
    const t = need(x);
    return [elementwise([t], t.dtype, unaryEval[op] as (v: number) => number)];
  }
  if (op in binaryEval) {
    const a = need(x);
    const b = need(ins[1]);
    const int = isInt(a.dtype);
    const f = binaryEval[op] as (a: number, b: number, i: boolean) => number;
    return [elementwise([a, b], a.dtype, (u, v) => castValue(f(u, v, int), a.dtype))];
  }
  if (op in compareEval) {
    const f = compareEval[op] as (a: number, b: number) => boolean;
    return [elementwise([need(x), need(ins[1])], DataType.BOOL, (u, v) => (f(u, v) ? 1 : 0))];
  }
  switch (op) {
    case 'MatMul':
      return [matmulEval(need(x), need(ins[1]))];
    case 'Gemm':
      return [gemmEval(need(x), need(ins[1]), ins[2], attrInt(node, 'transA', 0) === 1, attrInt(node, 'transB', 0) === 1, attrFloat(node, 'alpha', 1), attrFloat(node, 'beta', 1))];
    case 'Cast': {
      const to = attrInt(node, 'to', DataType.FLOAT);
      const t = need(x);
      return [mk(to, [...t.dims], Array.from(t.data, (v) => castValue(v, to)))];
    }
    case 'Where':
      return [elementwise([need(x), need(ins[1]), need(ins[2])], need(ins[1]).dtype, (c, a, b) => (c ? a : b))];
    case 'Gather':
      return [gatherEval(need(x), need(ins[1]), attrInt(node, 'axis', 0))];
    case 'Unsqueeze': {
      const t = need(x);
      return [{ ...t, dims: unsqueezeShape(node, t.dims, ins[1], opset) }];
    }
    case 'Squeeze': {
      const t = need(x);
      const axes = new Set(squeezeAxes(node, t.dims, ins[1], opset));
      return [{ ...t, dims: t.dims.filter((_, i) => !axes.has(i)) }];
    }
    case 'Reshape': {
      const t = need(x);
      return [{ ...t, dims: reshapeTarget(t.dims, intsOf(need(ins[1])) ?? [], attrInt(node, 'allowzero', 0) === 1) }];
    }
    case 'Flatten': {
      const t = need(x);
      const ax = attrInt(node, 'axis', 1);
      const a = ax < 0 ? ax + t.dims.length : ax;
      return [{ ...t, dims: [numel(t.dims.slice(0, a)), numel(t.dims.slice(a))] }];
    }
    case 'Concat':
      return [concatEval(ins.map(need), attrInt(node, 'axis', 0))];
    case 'Slice': {
      const t = need(x);
      const axes = resolveSlice(t.dims, intsOf(need(ins[1])) ?? [], intsOf(need(ins[2])) ?? [], intsOf(ins[3]), intsOf(ins[4]));
      return [sliceEval(t, axes)];
    }
    case 'Transpose': {
      const t = need(x);
      const perm = attrInts(node, 'perm') ?? t.dims.map((_, i) => t.dims.length - 1 - i);
      return [transposeTensor(t, perm)];
    }
    case 'ConstantOfShape': {
      const shape = intsOf(need(x)) ?? [];
      const v = attrTensor(node, 'value') ?? mk(DataType.FLOAT, [1], [0]);
      return [mk(v.dtype, shape, new Array<number>(numel(shape)).fill(v.data[0] ?? 0))];
    }
    case 'Range': {
      const [s, l, d] = [need(x).data[0] as number, need(ins[1]).data[0] as number, need(ins[2]).data[0] as number];
      const n = Math.max(Math.ceil((l - s) / d), 0);
      return [mk(need(x).dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
    }
    case 'Expand': {
      const t = need(x);
      const shape = broadcastShapes(t.dims, intsOf(need(ins[1])) ?? []);
      return [elementwise([t, mk(t.dtype, shape, new Array<number>(numel(shape)).fill(0))], t.dtype, (v) => v)];
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceProd':
    case 'ReduceMax':
    case 'ReduceMin': {
      const t = need(x);
      const axes = reduceAxes(node, t.dims.length, ins[1], opset);
      if (!axes) return [t];
      const keep = attrInt(node, 'keepdims', 1) === 1;
      const kdims = t.dims.map((d, i) => (axes.includes(i) ? 1 : d));
      const idx = broadcastIndex(kdims, t.dims);
      const n = numel(kdims);
      const init = op === 'ReduceProd' ? 1 : op === 'ReduceMax' ? -Infinity : op === 'ReduceMin' ? Infinity : 0;
      const acc = new Float64Array(n).fill(init);
      for (let k = 0; k < t.data.length; k++) {
        const j = idx[k] as number;
        const v = t.data[k] as number;
        const a = acc[j] as number;
        acc[j] = op === 'ReduceProd' ? a * v : op === 'ReduceMax' ? Math.max(a, v) : op === 'ReduceMin' ? Math.min(a, v) : a + v;
      }
      if (op === 'ReduceMean') {
        const cnt = t.data.length / n;
        for (let j = 0; j < n; j++) acc[j] = (acc[j] as number) / cnt;
      }
      return [mk(t.dtype, keep ? kdims : t.dims.filter((_, i) => !axes.includes(i)), acc)];
    }
    case 'Tile': {
      const t = need(x);
      const reps = intsOf(need(ins[1])) ?? [];
      const dims = t.dims.map((d, i) => d * (reps[i] as number));
      const st = stridesOf(t.dims);
      const n = numel(dims);
      const out = new Float64Array(n);
      const coord = new Array<number>(dims.length).fill(0);
      for (let k = 0; k < n; k++) {
        let j = 0;
        for (let a = 0; a < dims.length; a++) j += ((coord[a] as number) % (t.dims[a] as number)) * (st[a] as number);
        out[k] = t.data[j] as number;
        for (let a = dims.length - 1; a >= 0; a--) {
          coord[a] = (coord[a] as number) + 1;
          if ((coord[a] as number) < (dims[a] as number)) break;
          coord[a] = 0;
        }
      }
      return [mk(t.dtype, dims, out)];
    }
    default:
      throw new Error(`no constant evaluator for ${op}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Shape inference
// ---------------------------------------------------------------------------------------------

const sameShapeOps = new Set([
  'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Erf', 'Softmax',
  'LogSoftmax', 'Identity', 'Clip', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Elu', 'Selu', 'HardSigmoid',
  'Softplus', 'Softsign', 'Gelu', 'InstanceNormalization', 'GroupNormalization', 'BatchNormalization', 'Dropout', 'RandomNormalLike',
  'RandomUniformLike', 'Not', 'IsNaN', 'Sign', 'Mish', 'HardSwish', 'PRelu', 'CumSum',
]);
const broadcastOps = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'PRelu']);
const compareOps = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

export function matmulShape(a: readonly number[], b: readonly number[]): number[] {
  const a2 = a.length === 1 ? [1, a[0] as number] : [...a];
  const b2 = b.length === 1 ? [b[0] as number, 1] : [...b];
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  const out = [...batch, a2[a2.length - 2] as number, b2[b2.length - 1] as number];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

export function resizeOutShape(node: OnnxNode, x: readonly number[], scalesT: Tensor | undefined, sizesT: Tensor | undefined): number[] {
  const sizes = sizesT && sizesT.data.length ? intsOf(sizesT) : undefined;
  const axes = attrInts(node, 'axes');
  const out = [...x];
  if (sizes) {
    sizes.forEach((s, i) => { out[axes ? normAxis(axes[i] as number, x.length) : i] = s; });
    return out;
  }
  const scales = scalesT ? Array.from(scalesT.data) : undefined;
  if (!scales || !scales.length) throw new Error('Resize needs constant scales or sizes');
  scales.forEach((s, i) => {
    const ax = axes ? normAxis(axes[i] as number, x.length) : i;
    out[ax] = Math.floor((x[ax] as number) * s);
  });
  return out;
}

export function inferNode(node: OnnxNode, ins: (TensorInfo | undefined)[], cins: (Tensor | undefined)[], opset: number): TensorInfo[] {
  const op = node.opType;
  const x = ins[0];
  const req = (i: number): TensorInfo => {
    const t = ins[i];
    if (!t) throw new Error(`input ${i} missing`);
    return t;
  };
  const reqConst = (i: number): number[] => {
    const t = cins[i];
    if (!t) throw new Error(`input ${i} ('${node.inputs[i]}') must be constant`);
    return Array.from(t.data);
  };
  const X = (): TensorInfo => req(0);
  if (node.domain !== '' && node.domain !== 'ai.onnx') throw new Error(`domain ${node.domain}`);
  if (sameShapeOps.has(op)) {
    const outs: TensorInfo[] = [{ dtype: X().dtype, shape: [...X().shape] }];
    if (op === 'Dropout') outs.push({ dtype: DataType.BOOL, shape: [...X().shape] });
    if (op === 'RandomNormalLike' || op === 'RandomUniformLike') (outs[0] as TensorInfo).dtype = attrInt(node, 'dtype', X().dtype);
    if (op === 'BatchNormalization') return outs.slice(0, 1);
    return outs;
  }
  if (broadcastOps.has(op)) {
    return [{ dtype: X().dtype, shape: broadcastShapes(...ins.filter((t): t is TensorInfo => !!t).map((t) => t.shape)) }];
  }
  if (compareOps.has(op)) return [{ dtype: DataType.BOOL, shape: broadcastShapes(X().shape, req(1).shape) }];
  switch (op) {
    case 'Where':
      return [{ dtype: req(1).dtype, shape: broadcastShapes(X().shape, req(1).shape, req(2).shape) }];
    case 'Cast':
      return [{ dtype: attrInt(node, 'to', DataType.FLOAT), shape: [...X().shape] }];
    case 'CastLike':
      return [{ dtype: req(1).dtype, shape: [...X().shape] }];
    case 'MatMul':
      return [{ dtype: X().dtype, shape: matmulShape(X().shape, req(1).shape) }];
    case 'Gemm': {
      const a = X().shape;
      const b = req(1).shape;
      const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
      const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
      return [{ dtype: X().dtype, shape: [m as number, n as number] }];
    }
    case 'Conv': {
      const p = convParams(node, X().shape, req(1).shape);
      return [{ dtype: X().dtype, shape: convOutShape(X().shape, req(1).shape, p) }];
    }
    case 'ConvTranspose': {
      const p = convTransposeParams(node, X().shape, req(1).shape);
      return [{ dtype: X().dtype, shape: convTransposeOutShape(X().shape, req(1).shape, p) }];
    }
    case 'Reshape':
      return [{ dtype: X().dtype, shape: reshapeTarget(X().shape, reqConst(1), attrInt(node, 'allowzero', 0) === 1) }];
    case 'Flatten': {
      const ax = attrInt(node, 'axis', 1);
      const a = ax < 0 ? ax + X().shape.length : ax;
      return [{ dtype: X().dtype, shape: [numel(X().shape.slice(0, a)), numel(X().shape.slice(a))] }];
    }
    case 'Transpose': {
      const s = X().shape;
      const perm = attrInts(node, 'perm') ?? s.map((_, i) => s.length - 1 - i);
      return [{ dtype: X().dtype, shape: perm.map((p) => s[p] as number) }];
    }
    case 'Squeeze': {
      const axes = new Set(squeezeAxes(node, X().shape, cins[1], opset));
      if (opset >= 13 && node.inputs[1] && !cins[1]) throw new Error('non-constant axes');
      return [{ dtype: X().dtype, shape: X().shape.filter((_, i) => !axes.has(i)) }];
    }
    case 'Unsqueeze':
      if (opset >= 13 && !cins[1]) throw new Error('non-constant axes');
      return [{ dtype: X().dtype, shape: unsqueezeShape(node, X().shape, cins[1], opset) }];
    case 'Concat': {
      const ax = normAxis(attrInt(node, 'axis', 0), X().shape.length);
      const shape = [...X().shape];
      shape[ax] = ins.reduce((s, t) => s + ((t as TensorInfo).shape[ax] as number), 0);
      return [{ dtype: X().dtype, shape }];
    }
    case 'Split': {
      const ax = normAxis(attrInt(node, 'axis', 0), X().shape.length);
      const sizes = splitSizes(node, X().shape[ax] as number, cins[1], opset, node.outputs.length);
      return sizes.map((s) => {
        const shape = [...X().shape];
        shape[ax] = s;
        return { dtype: X().dtype, shape };
      });
    }
    case 'Slice': {
      const axes = resolveSlice(X().shape, reqConst(1), reqConst(2), cins[3] ? reqConst(3) : undefined, cins[4] ? reqConst(4) : undefined);
      const shape = [...X().shape];
      for (const a of axes) shape[a.axis] = a.count;
      return [{ dtype: X().dtype, shape }];
    }
    case 'Pad': {
      const r = X().shape.length;
      const { pads } = padSpec(node, r, cins[1], cins[3], opset);
      return [{ dtype: X().dtype, shape: X().shape.map((d, i) => d + (pads[i] as number) + (pads[i + r] as number)) }];
    }
    case 'Expand':
      return [{ dtype: X().dtype, shape: broadcastShapes(X().shape, reqConst(1)) }];
    case 'Tile': {
      const reps = reqConst(1);
      return [{ dtype: X().dtype, shape: X().shape.map((d, i) => d * (reps[i] as number)) }];
    }
    case 'Gather': {
      const ax = normAxis(attrInt(node, 'axis', 0), X().shape.length);
      const s = X().shape;
      return [{ dtype: X().dtype, shape: [...s.slice(0, ax), ...req(1).shape, ...s.slice(ax + 1)] }];
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2':
    case 'ReduceSumSquare': {
      const s = X().shape;
      const axes = reduceAxes(node, s.length, cins[1], opset);
      if (!axes) return [{ dtype: X().dtype, shape: [...s] }];
      const keep = attrInt(node, 'keepdims', 1) === 1;
      return [{ dtype: X().dtype, shape: keep ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((_, i) => !axes.includes(i)) }];
    }
    case 'Resize':
      return [{ dtype: X().dtype, shape: resizeOutShape(node, X().shape, cins[2], cins[3]) }];
    case 'LayerNormalization': {
      const s = X().shape;
      const ax = normAxis(attrInt(node, 'axis', -1), s.length);
      const stat = s.map((d, i) => (i < ax ? d : 1));
      return [{ dtype: X().dtype, shape: [...s] }, { dtype: DataType.FLOAT, shape: stat }, { dtype: DataType.FLOAT, shape: [...stat] }];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return [{ dtype: X().dtype, shape: X().shape.map((d, i) => (i < 2 ? d : 1)) }];
    case 'ConstantOfShape': {
      const v = attrTensor(node, 'value');
      return [{ dtype: v?.dtype ?? DataType.FLOAT, shape: reqConst(0) }];
    }
    case 'Shape':
      return [{ dtype: DataType.INT64, shape: [X().shape.length] }];
    default:
      void attrFloat;
      throw new Error(`no shape inference for ${op}`);
  }
}
