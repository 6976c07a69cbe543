import { topoSort } from './analysis';
import type { OnnxModel, OnnxNode } from './model';

/**
 * Finders for tensors and nodes of UNets exported by torch ≥ 1.13 from diffusers-named modules.
 * torch names a node after its module path and op (`/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_k/MatMul`)
 * and its output `<node>_output_0`; these helpers read the names from the graph instead of
 * building them, so a model description file may also declare the names directly.
 */

export interface AttentionLayer {
  /** Module path, e.g. `up_blocks.2.attentions.0.transformer_blocks.0.attn1`. */
  module: string;
  /** 'self' (attn1) or 'cross' (attn2). */
  kind: 'self' | 'cross';
  /** The projection MatMul nodes. */
  nodes: { query: string; key: string; value: string; out?: string };
  /** Their outputs [B, tokens, C]: queries, keys and values before the head split. */
  query: string;
  key: string;
  value: string;
}

const PROJ = /^\/(.*\/attn(\d+))\/(to_q|to_k|to_v|to_out\.0)\/MatMul$/;

/** Every attention layer of the graph, in execution order. */
export function findAttentions(model: OnnxModel, kind: 'self' | 'cross' | 'all' = 'all'): AttentionLayer[] {
  const layers = new Map<string, { kind: 'self' | 'cross'; nodes: Partial<Record<string, OnnxNode>>; order: number }>();
  topoSort(model.graph).forEach((n, order) => {
    const m = n.opType === 'MatMul' ? PROJ.exec(n.name) : null;
    if (!m) return;
    const path = m[1] as string;
    const entry = layers.get(path) ?? { kind: m[2] === '1' ? 'self' : 'cross', nodes: {}, order };
    entry.nodes[m[3] as string] = n;
    entry.order = Math.min(entry.order, order);
    layers.set(path, entry);
  });
  const out: AttentionLayer[] = [];
  for (const [path, e] of [...layers].sort((a, b) => a[1].order - b[1].order)) {
    const { to_q: q, to_k: k, to_v: v } = e.nodes;
    if (!q || !k || !v) throw new Error(`findAttentions: '/${path}' lacks a to_q, to_k or to_v MatMul (fused or renamed attention?)`);
    if (kind !== 'all' && e.kind !== kind) continue;
    out.push({
      module: path.split('/').join('.'),
      kind: e.kind,
      nodes: { query: q.name, key: k.name, value: v.name, ...(e.nodes['to_out.0'] ? { out: (e.nodes['to_out.0'] as OnnxNode).name } : {}) },
      query: q.outputs[0] as string,
      key: k.outputs[0] as string,
      value: v.outputs[0] as string,
    });
  }
  return out;
}

/**
 * The MatMul nodes of attention projections, e.g. for LoRA (DragDiffusion: to_q, to_k, to_v and
 * to_out.0 of every attention module).
 */
export function findProjections(model: OnnxModel, projections: readonly ('to_q' | 'to_k' | 'to_v' | 'to_out.0')[] = ['to_q', 'to_k', 'to_v', 'to_out.0']): string[] {
  const key = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'out' } as const;
  const names: string[] = [];
  for (const layer of findAttentions(model)) {
    for (const p of projections) {
      const n = layer.nodes[key[p]];
      if (!n) throw new Error(`findProjections: attention '${layer.module}' has no ${p} MatMul`);
      names.push(n);
    }
  }
  return names;
}

/**
 * The output tensor of a block (`'up_blocks.2'`, `'mid_block'`, …): the last tensor, in execution
 * order, computed inside the block's scope and read outside it (for down blocks the skip
 * connections are read outside too; the last of them is the block's output).
 */
export function findBlockOutput(model: OnnxModel, block: string): string {
  const prefix = `/${block.split('.').join('/').replace(/\/(\d+)/g, '.$1')}/`;
  const nodes = topoSort(model.graph);
  const inside = new Set(nodes.filter((n) => n.name.startsWith(prefix)));
  if (inside.size === 0) throw new Error(`findBlockOutput: no node is named under '${prefix}' (is this a torch ≥ 1.13 export of a diffusers UNet?)`);
  const readOutside = new Set<string>(model.graph.outputs.map((o) => o.name));
  for (const n of nodes) if (!inside.has(n)) for (const x of n.inputs) if (x) readOutside.add(x);
  let last: string | undefined;
  for (const n of nodes) {
    if (!inside.has(n) || n.opType === 'Shape') continue;
    for (const o of n.outputs) if (o && readOutside.has(o)) last = o;
  }
  if (!last) throw new Error(`findBlockOutput: nothing computed under '${prefix}' is read outside it`);
  return last;
}
