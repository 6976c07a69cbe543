import { transposeTensor } from '../analysis';
import { attrFloat, attrInt, describeNode } from '../attributes';
import { normAxis } from '../shape-utils';
import type { Tensor } from '../tensor';
import { out0, shapeOf, Y, yShape, type RuleContext, type VjpRule } from './context';

/* Matrix products and Softmax: the attention path of transformer blocks. */

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

export const matmul: VjpRule = (c) => {
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

export const gemm: VjpRule = (c) => {
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

export const softmax: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  if (c.opset < 13) throw new Error(`${describeNode(c.node)}: Softmax VJP needs opset >= 13`);
  const ax = normAxis(attrInt(c.node, 'axis', -1), yShape(c).length);
  const gy = out0(c);
  const s = c.b.reduceSum(c.b.mul(gy, Y(c)), [ax], true);
  return [c.b.mul(Y(c), c.b.sub(gy, s))];
};
