import { attrInt, attrInts, attrString, describeNode } from './attributes';
import type { OnnxNode } from './model';

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy-style broadcast of several shapes. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new Error(`shapes [${shapes.map((x) => x.join(',')).join('] [')}] do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

export function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) st[i] = (st[i + 1] as number) * (shape[i + 1] as number);
  return st;
}

export interface SliceAxis { axis: number; start: number; step: number; count: number }

/** Resolves Slice's starts/ends/axes/steps (clamped as in the ONNX spec) to per-axis start, step, count. */
export function resolveSlice(
  shape: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): SliceAxis[] {
  const out: SliceAxis[] = [];
  const rank = shape.length;
  for (let i = 0; i < starts.length; i++) {
    const axis = normAxis(axes?.[i] ?? i, rank);
    const dim = shape[axis] as number;
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new Error('Slice step 0');
    let s = starts[i] as number;
    let e = ends[i] as number;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    const count = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
    out.push({ axis, start: s, step, count });
  }
  return out;
}

export interface ConvParams {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [b0, b1, ..., e0, e1, ...] as in ONNX. */
  pads: number[];
  group: number;
}

/** Conv attributes with auto_pad resolved to explicit pads. */
export function convParams(node: OnnxNode, xShape: readonly number[], wShape: readonly number[]): ConvParams {
  const r = xShape.length - 2;
  const kernel = attrInts(node, 'kernel_shape') ?? wShape.slice(2);
  const strides = attrInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  let pads = attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0);
  const group = attrInt(node, 'group', 1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') pads = new Array<number>(2 * r).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const inp = xShape[i + 2] as number;
      const s = strides[i] as number;
      const out = Math.ceil(inp / s);
      const total = Math.max(0, (out - 1) * s + ((kernel[i] as number) - 1) * (dilations[i] as number) + 1 - inp);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - (pads[i] as number);
    }
  } else if (autoPad !== 'NOTSET') throw new Error(`${describeNode(node)}: auto_pad ${autoPad}`);
  return { kernel, strides, dilations, pads, group };
}

export function convOutShape(x: readonly number[], w: readonly number[], p: ConvParams): number[] {
  const r = x.length - 2;
  const out = [x[0] as number, w[0] as number];
  for (let i = 0; i < r; i++) {
    const eff = ((p.kernel[i] as number) - 1) * (p.dilations[i] as number) + 1;
    out.push(Math.floor(((x[i + 2] as number) + (p.pads[i] as number) + (p.pads[i + r] as number) - eff) / (p.strides[i] as number)) + 1);
  }
  return out;
}

export interface ConvTransposeParams extends ConvParams { outputPadding: number[] }

export function convTransposeParams(node: OnnxNode, xShape: readonly number[], wShape: readonly number[]): ConvTransposeParams {
  const r = xShape.length - 2;
  const kernel = attrInts(node, 'kernel_shape') ?? wShape.slice(2);
  const strides = attrInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  const outputPadding = attrInts(node, 'output_padding') ?? new Array<number>(r).fill(0);
  let pads = attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0);
  const group = attrInt(node, 'group', 1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const outputShape = attrInts(node, 'output_shape');
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const inp = xShape[i + 2] as number;
      const s = strides[i] as number;
      const target = outputShape ? (outputShape[outputShape.length - r + i] as number) : inp * s;
      const full = s * (inp - 1) + (outputPadding[i] as number) + ((kernel[i] as number) - 1) * (dilations[i] as number) + 1;
      const total = Math.max(0, full - target);
      const half = Math.floor(total / 2);
      if (autoPad === 'SAME_UPPER') { pads[i] = half; pads[i + r] = total - half; }
      else { pads[i] = total - half; pads[i + r] = half; }
    }
  } else if (autoPad === 'VALID') pads = new Array<number>(2 * r).fill(0);
  return { kernel, strides, dilations, pads, group, outputPadding };
}

export function convTransposeOutShape(x: readonly number[], w: readonly number[], p: ConvTransposeParams): number[] {
  const r = x.length - 2;
  const out = [x[0] as number, (w[1] as number) * p.group];
  for (let i = 0; i < r; i++) {
    out.push(
      (p.strides[i] as number) * ((x[i + 2] as number) - 1) + (p.outputPadding[i] as number) +
        ((p.kernel[i] as number) - 1) * (p.dilations[i] as number) + 1 - (p.pads[i] as number) - (p.pads[i + r] as number),
    );
  }
  return out;
}
