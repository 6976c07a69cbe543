import { describeNode } from '../attributes';
import type { OnnxNode } from '../model';
import type { VjpRule } from './context';
import { conv, convTranspose } from './conv';
import { add, clip, div, gelu, mul, pow, sub, unaryRules, variadic, where } from './elementwise';
import { gemm, matmul, softmax } from './matmul';
import { batchNorm, groupNorm, instanceNorm, layerNorm } from './normalization';
import { resize } from './resize';
import { concat, expand, gather, pad, reduceRule, reshapeBack, slice, split, tile, transpose } from './shape';

export type { RuleContext, VjpRule } from './context';
export { resizeMatrix } from './resize';

/** VJP rule per default-domain op type. */
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
  GroupNormalization: groupNorm,
  Gelu: gelu,
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

/**
 * onnxruntime's fused contrib ops written by "optimized" exports (optimum --optimize, the
 * onnxruntime transformers optimizer): no gradient exists in standard ONNX, so say which plain
 * ops a re-export would write instead.
 */
const fusedOpAdvice: Record<string, string> = {
  MultiHeadAttention: 'MatMul + Softmax attention',
  Attention: 'MatMul + Softmax attention',
  PackedAttention: 'MatMul + Softmax attention',
  GroupNorm: 'InstanceNormalization or GroupNormalization',
  SkipGroupNorm: 'Add + InstanceNormalization',
  BiasSplitGelu: 'Slice + Erf-based Gelu',
  BiasGelu: 'Add + Erf-based Gelu',
  FastGelu: 'Tanh- or Erf-based Gelu',
  QuickGelu: 'Sigmoid + Mul',
  BiasAdd: 'Add',
  NhwcConv: 'Conv',
  FusedConv: 'Conv + activation',
  FusedMatMul: 'MatMul',
  SkipLayerNormalization: 'Add + LayerNormalization',
  LayerNormalization: 'LayerNormalization (default domain)',
};

/**
 * Why `node` cannot be differentiated, as one line naming the op, the node and what to export
 * instead; undefined when a rule exists.
 */
export function refusal(node: OnnxNode): string | undefined {
  const std = node.domain === '' || node.domain === 'ai.onnx';
  if (std && vjpRules[node.opType]) return undefined;
  const op = `${std ? '' : `${node.domain}.`}${node.opType}`;
  const where = describeNode(node).replace(node.opType, op);
  const advice = std ? undefined : fusedOpAdvice[node.opType];
  if (advice) {
    return `buildVjp: ${where} is a fused onnxruntime op with no gradient in standard ONNX; export the model without onnxruntime optimisations (plain torch.onnx.export, fp32) so that it has ${advice} instead`;
  }
  if (!std) return `buildVjp: ${where} is outside the default ONNX domain and has no VJP rule; export with standard ops only`;
  return `buildVjp: op ${op} (${describeNode(node)}) is on the gradient path and has no VJP rule`;
}
