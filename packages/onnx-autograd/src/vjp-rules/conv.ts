import type { GradBuilder } from '../grad-builder';
import { convParams, convTransposeParams, type ConvParams } from '../shape-utils';
import { f32, numel } from '../tensor';
import { out0, shapeOf, X, yShape, type RuleContext, type VjpRule } from './context';

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

export const conv: VjpRule = (c) => {
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

export const convTranspose: VjpRule = (c) => {
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
