import type { GraphAnalysis } from './analysis';
import type { OnnxNode } from './model';
import { DataType } from './tensor';

/**
 * Ops whose outputs the split backward may recompute instead of receiving them from the forward:
 * elementwise maths, views and resampling — each costs one pass over its output, about what
 * copying that output out of the runtime and back in costs. Normalisations (two or three passes)
 * count too: their input is a residual of their own backward anyway, so a UNet's GroupNorm → SiLU
 * chains recompute from it instead of handing over the SiLU inputs; and a residual in the middle
 * of an Erf-GELU would also stop onnxruntime fusing it into one Gelu kernel in the forward.
 */
export const cheapOps: ReadonlySet<string> = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Exp', 'Sigmoid', 'Tanh', 'Relu', 'LeakyRelu', 'Clip',
  'Erf', 'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Resize',
  'InstanceNormalization', 'GroupNormalization', 'LayerNormalization',
]);

/** How far back through cheap ops one residual's recomputation may reach. */
const MAX_DEPTH = 8;

function elementBytes(dtype: number): number {
  switch (dtype) {
    case DataType.DOUBLE:
    case DataType.INT64:
    case DataType.UINT64:
      return 8;
    case DataType.FLOAT16:
      return 2;
    case DataType.BOOL:
    case DataType.UINT8:
    case DataType.INT8:
      return 1;
    default:
      return 4;
  }
}

/**
 * Chooses forward nodes for the split backward to recompute, so the forward hands over fewer bytes
 * of residuals. Greedy, largest residual first: a residual made by a cheap op is dropped when the
 * tensors its recomputation needs — found by walking back through cheap producers until a tensor
 * that is saved anyway, free (constants and `free`: graph inputs, outputs the forward returns in
 * any case) or made by an expensive op — add fewer bytes than the residual itself. Repeats until
 * nothing changes. Returns the nodes to recompute in topological order; the caller re-derives
 * which tensors the backward then reads.
 */
export function planRematerialization(an: GraphAnalysis, residuals: readonly string[], free: ReadonlySet<string>): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of an.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const bytes = (t: string): number => {
    const i = an.info.get(t);
    return i ? i.shape.reduce((a, d) => a * Math.max(d, 1), 1) * elementBytes(i.dtype) : Number.POSITIVE_INFINITY;
  };
  const isFree = (t: string): boolean => an.constants.has(t) || free.has(t);
  const cheapProducer = (t: string): OnnxNode | undefined => {
    const p = producer.get(t);
    return p && cheapOps.has(p.opType) && (p.domain === '' || p.domain === 'ai.onnx') && p.outputs.length === 1 ? p : undefined;
  };

  const saved = new Set(residuals);
  const recompute = new Set<OnnxNode>();
  const expand = (t: string, depth: number, nodes: Set<OnnxNode>, leaves: Set<string>): void => {
    if (isFree(t) || saved.has(t) || recompute.has(producer.get(t) as OnnxNode)) return;
    const p = cheapProducer(t);
    if (!p || depth >= MAX_DEPTH) {
      leaves.add(t);
      return;
    }
    if (nodes.has(p)) return;
    nodes.add(p);
    for (const x of p.inputs) if (x) expand(x, depth + 1, nodes, leaves);
  };

  for (let changed = true; changed; ) {
    changed = false;
    for (const r of [...saved].sort((a, b) => bytes(b) - bytes(a))) {
      if (isFree(r)) continue;
      const p = cheapProducer(r);
      if (!p) continue;
      const nodes = new Set<OnnxNode>([p]);
      const leaves = new Set<string>();
      for (const x of p.inputs) if (x) expand(x, 1, nodes, leaves);
      const extra = [...leaves].reduce((s, l) => s + bytes(l), 0);
      if (extra < bytes(r)) {
        saved.delete(r);
        for (const l of leaves) saved.add(l);
        for (const n of nodes) recompute.add(n);
        changed = true;
      }
    }
  }
  return an.nodes.filter((n) => recompute.has(n));
}
