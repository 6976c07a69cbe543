import { attrFloat, attrInt, describeNode } from '../attributes';
import { normAxis } from '../shape-utils';
import type { GradBuilder } from '../grad-builder';
import { numel, type Tensor } from '../tensor';
import { out0, shapeOf, X, type VjpRule } from './context';

const onesCache = new WeakMap<GradBuilder, Map<string, string>>();

/** A float32 tensor of ones of `shape`, made once per backward graph (Expand of a scalar). */
function ones(b: GradBuilder, shape: number[]): string {
  let m = onesCache.get(b);
  if (!m) onesCache.set(b, (m = new Map()));
  const key = shape.join(',');
  let t = m.get(key);
  if (!t) m.set(key, (t = b.op('Expand', [b.scalar(1), b.ints(shape)])));
  return t;
}

const allOnes = (t: Tensor | undefined): boolean => !!t && !t.raw && t.data.every((v) => v === 1);

/**
 * Normalisation of x (shape xs) over its trailing `axes` (LayerNorm; InstanceNorm: spatial
 * axes; GroupNorm: a group's channels and positions). With g = dY·gamma and x̂ the normalised
 * input: dX = invstd·(g − mean(g) − x̂·mean(g·x̂)). x̂ and invstd are recomputed from x in the
 * backward by one LayerNormalization with unit scale (its optional InvStdDev output): one kernel
 * instead of a dozen elementwise ops, and nothing per norm layer to hand over.
 */
export function normGrad(b: GradBuilder, x: string, xs: number[], gy: string, axes: number[], eps: number, gamma?: { name: string; shape: number[]; value?: Tensor }): { dx: string; xhat: string } {
  const first = axes[0] as number;
  if (axes.some((a, i) => a !== first + i) || first + axes.length !== xs.length) throw new Error(`normGrad: axes [${axes.join(', ')}] are not the trailing axes of rank ${xs.length}`);
  const n = numel(axes.map((a) => xs[a] as number));
  const inv = b.scalar(1 / n);
  const [xhat, , invstd] = b.opN('LayerNormalization', [x, ones(b, xs.slice(first))], 3, { axis: first, epsilon: { float: eps } }) as [string, string, string];
  const g = gamma && !allOnes(gamma.value) ? b.mul(gy, b.reshape(gamma.name, gamma.shape)) : gy;
  const mg = b.mul(b.reduceSum(g, axes, true), inv);
  const mgx = b.mul(b.reduceSum(b.mul(g, xhat), axes, true), inv);
  const dx = b.mul(invstd, b.sub(b.sub(g, mg), b.mul(xhat, mgx)));
  return { dx, xhat };
}

export const layerNorm: VjpRule = (c) => {
  const xs = shapeOf(c, 0);
  const r = xs.length;
  const ax = normAxis(attrInt(c.node, 'axis', -1), r);
  const axes = Array.from({ length: r - ax }, (_, i) => ax + i);
  if (c.dY.slice(1).some((g) => g)) throw new Error(`${describeNode(c.node)}: gradients through Mean/InvStdDev outputs are not supported`);
  const scaleShape = shapeOf(c, 1);
  const { dx, xhat } = normGrad(c.b, X(c), xs, out0(c), axes, attrFloat(c.node, 'epsilon', 1e-5), { name: c.node.inputs[1] as string, shape: scaleShape, value: c.constIn(1) });
  const gy = out0(c);
  return [
    c.needs[0] ? dx : undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.mul(gy, xhat), xs, scaleShape) : undefined,
    c.needs[2] && c.node.inputs[2] ? c.b.unbroadcast(gy, xs, shapeOf(c, 2)) : undefined,
  ];
};

export const instanceNorm: VjpRule = (c) => {
  const xs = shapeOf(c, 0);
  const r = xs.length;
  const axes = Array.from({ length: r - 2 }, (_, i) => i + 2);
  const cshape = [xs[1] as number, ...axes.map(() => 1)];
  const { dx, xhat } = normGrad(c.b, X(c), xs, out0(c), axes, attrFloat(c.node, 'epsilon', 1e-5), { name: c.node.inputs[1] as string, shape: cshape, value: c.constIn(1) });
  const gy = out0(c);
  const perChannel = (t: string): string => c.b.reduceSum(t, [0, ...axes], false);
  return [
    c.needs[0] ? dx : undefined,
    c.needs[1] ? perChannel(c.b.mul(gy, xhat)) : undefined,
    c.needs[2] ? perChannel(gy) : undefined,
  ];
};

/**
 * GroupNormalization (opset 18: scale/bias per group; opset 21: per channel). x [N, C, ...] is
 * viewed as [N, G, C/G, S] and normalised over its last two axes, like PyTorch's GroupNorm.
 */
export const groupNorm: VjpRule = (c) => {
  const xs = shapeOf(c, 0);
  const n = xs[0] as number;
  const ch = xs[1] as number;
  const groups = attrInt(c.node, 'num_groups', 0);
  if (!(groups > 0) || ch % groups) throw new Error(`${describeNode(c.node)}: num_groups ${groups} does not divide ${ch} channels`);
  const perChannel = c.opset >= 21;
  const view = [n, groups, ch / groups, numel(xs.slice(2))];
  const b = c.b;
  const gy = b.reshape(out0(c), view);
  const gammaShape = perChannel ? [1, groups, ch / groups, 1] : [1, groups, 1, 1];
  const { dx, xhat } = normGrad(b, b.reshape(X(c), view), view, gy, [2, 3], attrFloat(c.node, 'epsilon', 1e-5), { name: c.node.inputs[1] as string, shape: gammaShape, value: c.constIn(1) });
  // Parameter gradients: sum over batch and positions (and over a group's channels at opset 18).
  const paramGrad = (t: string): string => b.reshape(b.reduceSum(t, perChannel ? [0, 3] : [0, 2, 3], false), shapeOf(c, 1));
  return [
    c.needs[0] ? b.reshape(dx, xs) : undefined,
    c.needs[1] ? paramGrad(b.mul(gy, xhat)) : undefined,
    c.needs[2] ? paramGrad(gy) : undefined,
  ];
};

/** Inference-mode BatchNormalization: y = (x − mean)·scale/√(var+eps) + B with given statistics. */
export const batchNorm: VjpRule = (c) => {
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
