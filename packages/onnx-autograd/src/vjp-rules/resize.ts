import { transposeTensor } from '../analysis';
import { attrInt, attrInts, attrString, describeNode } from '../attributes';
import type { OnnxNode } from '../model';
import { normAxis } from '../shape-utils';
import { f32 } from '../tensor';
import { out0, shapeOf, yShape, type VjpRule } from './context';

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

export const resize: VjpRule = (c) => {
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
