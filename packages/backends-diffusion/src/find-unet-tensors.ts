import { StableDragError } from '@stabledrag/core';
import { DataType } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';

/**
 * Refuses graphs with ops outside the standard ONNX domain. "Optimized" exports fuse attention and
 * normalisation into `com.microsoft` ops (MultiHeadAttention, GroupNorm, BiasSplitGelu, NhwcConv)
 * that have no gradient rule and may not run on onnxruntime-web.
 */
export function assertPlainOnnx(model: OnnxModel, file: string): void {
  const odd = model.graph.nodes.find((n) => n.domain !== '' && n.domain !== 'ai.onnx');
  if (odd) {
    throw new StableDragError(
      'MODEL_ERROR',
      `${file} uses the ${odd.domain} op ${odd.opType} (node "${odd.name}"), which cannot be differentiated: it is an "optimized" export; export the model again without optimisation (plain ONNX ops, e.g. optimum-cli export onnx without -O).`,
    );
  }
}

/**
 * Refuses weights the backend cannot handle yet, before ONNX Runtime fails obscurely: float16
 * initializers (gradients are float32). Size is no limit: graphs over protobuf's 2 GiB (SD 1.5's
 * float32 UNet) are opened with external data.
 */
export function assertSupportedWeights(model: OnnxModel, file: string): void {
  for (const [name, t] of model.graph.initializers) {
    // 16 is bfloat16, absent from DataType.
    if (t.dtype === DataType.FLOAT16 || t.dtype === 16) {
      throw new StableDragError('MODEL_ERROR', `${file} stores weights in 16-bit floats (e.g. "${name}"); export the model in float32.`);
    }
  }
}

/**
 * The output tensor of a UNet module, found by the node names torch gives an export
 * (`/up_blocks.2/...`): the tensors its nodes make that a node outside it reads (or the graph
 * returns). Exactly one such tensor is the module's output.
 */
export function findBlockOutput(model: OnnxModel, block: string, file: string): string {
  const prefix = `/${block}/`;
  const inside = (name: string): boolean => name.startsWith(prefix);
  const made = new Set(model.graph.nodes.filter((n) => inside(n.name)).flatMap((n) => n.outputs));
  const leaving = new Set<string>();
  for (const n of model.graph.nodes) {
    if (inside(n.name)) continue;
    for (const x of n.inputs) if (made.has(x)) leaving.add(x);
  }
  for (const o of model.graph.outputs) if (made.has(o.name)) leaving.add(o.name);
  if (leaving.size !== 1) {
    const why = made.size === 0 ? `it has no nodes named ${prefix}…` : `${leaving.size} tensors leave ${block}`;
    throw new StableDragError(
      'MODEL_ERROR',
      `Cannot find the output of ${block} in ${file} (${why}); name the drag feature tensor in model.json as { "feature": { "name": "<tensor>" } }.`,
    );
  }
  return [...leaving][0]!;
}

/** One self-attention layer's key and value tensors. */
export interface SelfAttentionTensors {
  readonly layer: string;
  readonly key: string;
  readonly value: string;
}

/**
 * Self-attention (`attn1`) K and V projections in execution order, by diffusers' module names
 * (`…/attn1/to_k/MatMul_output_0`). SD 1.5 has 16: 6 down, 1 mid, 9 up; MasaCtrl, as DragDiffusion
 * uses it, swaps those from layer 10 on (the `up_blocks.2` and `up_blocks.3` ones).
 */
export function findSelfAttention(model: OnnxModel): SelfAttentionTensors[] {
  const out: SelfAttentionTensors[] = [];
  const byLayer = new Map<string, { key?: string; value?: string }>();
  const order: string[] = [];
  for (const n of model.graph.nodes) {
    const m = /^(\/.*\/attn1)\/to_([kv])\/MatMul$/.exec(n.name);
    if (!m || !n.outputs[0]) continue;
    const layer = m[1]!;
    if (!byLayer.has(layer)) {
      byLayer.set(layer, {});
      order.push(layer);
    }
    byLayer.get(layer)![m[2] === 'k' ? 'key' : 'value'] = n.outputs[0];
  }
  for (const layer of order) {
    const e = byLayer.get(layer)!;
    if (e.key && e.value) out.push({ layer: layer.slice(1), key: e.key, value: e.value });
  }
  return out;
}
