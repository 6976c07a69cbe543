import { analyzeGraph } from './analysis';
import type { AttentionLayer } from './diffusers-names';
import { cloneModel, onnxOpset, type OnnxModel } from './model';
import { pruneModel } from './surgery';

/**
 * Makes tensors come from new graph inputs: every consumer of tensor `t` reads input
 * `replacements[t]` (same type and shape) instead, and nodes nothing needs any more are removed.
 * Graph inputs that become unused stay declared, so feeds do not change.
 */
export function replaceWithInputs(model: OnnxModel, replacements: Readonly<Record<string, string>>, inputShapes: Record<string, readonly number[]> = {}): OnnxModel {
  const an = analyzeGraph(cloneModel(model).graph, onnxOpset(model), inputShapes);
  const m = cloneModel(model);
  const g = m.graph;
  const taken = new Set([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
  for (const [tensor, input] of Object.entries(replacements)) {
    const info = an.info.get(tensor);
    if (!info) throw new Error(`replaceWithInputs: no tensor named '${tensor}' (or its shape is unknown; pass inputShapes)`);
    if (taken.has(input)) throw new Error(`replaceWithInputs: input name '${input}' is already used by a tensor of the model`);
    taken.add(input);
    g.inputs.push({ name: input, dtype: info.dtype, shape: [...info.shape] });
    for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === tensor ? input : x));
    for (const o of g.outputs) if (o.name === tensor) throw new Error(`replaceWithInputs: '${tensor}' is a graph output; remove it from the outputs first`);
  }
  return pruneModel(m, g.outputs.map((o) => o.name), { keepInputs: true });
}

/**
 * Mutual self-attention (MasaCtrl, used by DragDiffusion to denoise after a drag): the given
 * attention layers take their keys and values from new inputs, named `<module>.key` and
 * `<module>.value`. Feed them the keys and values of the source branch (expose them from a run
 * of the unmodified model with `exposeOutputs(model, [layer.key, layer.value])`).
 */
export function replaceKeysValues(model: OnnxModel, layers: readonly AttentionLayer[], inputShapes: Record<string, readonly number[]> = {}): { model: OnnxModel; inputs: { module: string; key: string; value: string }[] } {
  const map: Record<string, string> = {};
  const inputs = layers.map((l) => {
    const names = { module: l.module, key: `${l.module}.key`, value: `${l.module}.value` };
    map[l.key] = names.key;
    map[l.value] = names.value;
    return names;
  });
  return { model: replaceWithInputs(model, map, inputShapes), inputs };
}
