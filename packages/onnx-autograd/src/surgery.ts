import { analyzeGraph } from './analysis';
import { cloneModel, onnxOpset, type OnnxGraph, type OnnxModel, type ValueInfo } from './model';
import type { Tensor } from './tensor';

/**
 * Graph surgery used by the backends: take features from inside a generator, cut a model down to
 * what some outputs need, rename or pin inputs, rewire a tensor's consumers. Every function returns
 * a new model and leaves its argument untouched (initializer data is shared, not copied).
 */

/** Adds intermediate tensors to the graph outputs (type and shape from shape inference). */
export function exposeOutputs(model: OnnxModel, names: readonly string[], inputShapes: Record<string, readonly number[]> = {}): OnnxModel {
  const m = cloneModel(model);
  const an = analyzeGraph(cloneModel(model).graph, onnxOpset(model), inputShapes);
  for (const name of names) {
    if (m.graph.outputs.some((o) => o.name === name)) continue;
    const info = an.info.get(name);
    if (!info) throw new Error(`exposeOutputs: no tensor named '${name}'`);
    if (m.graph.initializers.has(name) || an.constants.has(name) && !m.graph.nodes.some((n) => n.outputs.includes(name))) {
      throw new Error(`exposeOutputs: '${name}' is a constant, not a computed tensor`);
    }
    m.graph.outputs.push({ name, dtype: info.dtype, shape: [...info.shape] });
  }
  return m;
}

/** Keeps only the nodes, initializers and inputs that `outputs` depend on. */
export function pruneModel(model: OnnxModel, outputs: readonly string[], options: { keepInputs?: boolean } = {}): OnnxModel {
  const m = cloneModel(model);
  const g = m.graph;
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const keepNode = new Set<number>();
  const used = new Set<string>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop() as string;
    if (used.has(t)) continue;
    used.add(t);
    const p = producer.get(t);
    if (p === undefined || keepNode.has(p)) continue;
    keepNode.add(p);
    for (const x of (g.nodes[p] as OnnxGraph['nodes'][number]).inputs) if (x) stack.push(x);
  }
  const known = new Set([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...producer.keys()]);
  for (const o of outputs) if (!known.has(o)) throw new Error(`pruneModel: no tensor named '${o}'`);
  const declared = new Map<string, ValueInfo>([...g.valueInfo, ...g.outputs].map((v) => [v.name, v]));
  g.nodes = g.nodes.filter((_, i) => keepNode.has(i));
  g.initializers = new Map([...g.initializers].filter(([k]) => used.has(k)));
  if (!options.keepInputs) g.inputs = g.inputs.filter((v) => used.has(v.name));
  g.outputs = outputs.map((o) => declared.get(o) ?? { name: o, dtype: 1 });
  g.valueInfo = g.valueInfo.filter((v) => used.has(v.name));
  return m;
}

/** Renames a tensor everywhere (graph input/output, initializer, node inputs and outputs). */
export function renameTensor(model: OnnxModel, from: string, to: string): OnnxModel {
  const m = cloneModel(model);
  const g = m.graph;
  const r = (n: string): string => (n === from ? to : n);
  for (const n of g.nodes) {
    n.inputs = n.inputs.map(r);
    n.outputs = n.outputs.map(r);
  }
  for (const list of [g.inputs, g.outputs, g.valueInfo]) for (const v of list) v.name = r(v.name);
  const t = g.initializers.get(from);
  if (t) {
    g.initializers.delete(from);
    g.initializers.set(to, t);
  }
  return m;
}

export const renameInput = renameTensor;

/** Replaces a graph input by a constant (e.g. pin a timestep or a noise input). */
export function replaceInputWithConstant(model: OnnxModel, name: string, value: Tensor): OnnxModel {
  const m = cloneModel(model);
  const i = m.graph.inputs.findIndex((v) => v.name === name);
  if (i < 0) throw new Error(`replaceInputWithConstant: no input '${name}'`);
  m.graph.inputs.splice(i, 1);
  m.graph.initializers.set(name, value);
  return m;
}

/** Makes every consumer of tensor `from` (nodes and graph outputs) read tensor `to` instead. */
export function rewireTensor(model: OnnxModel, from: string, to: string): OnnxModel {
  const m = cloneModel(model);
  for (const n of m.graph.nodes) n.inputs = n.inputs.map((x) => (x === from ? to : x));
  return m;
}

/**
 * Constant folding and shape inference at fixed input shapes: folded tensors become initializers,
 * Constant nodes disappear, and every remaining tensor gets a value_info with its static shape.
 */
export function foldConstants(model: OnnxModel, inputShapes: Record<string, readonly number[]> = {}): OnnxModel {
  const m = cloneModel(model);
  const g = m.graph;
  const an = analyzeGraph(g, onnxOpset(m), inputShapes);
  const used = new Set<string>([...an.nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
  g.nodes = an.nodes;
  g.initializers = new Map([...an.constants].filter(([k]) => used.has(k)));
  for (const v of g.inputs) {
    const s = inputShapes[v.name];
    if (s) v.shape = [...s];
  }
  const io = new Set([...g.inputs.map((v) => v.name), ...g.outputs.map((v) => v.name)]);
  g.valueInfo = an.nodes.flatMap((n) => n.outputs).filter((o) => o && !io.has(o) && an.info.has(o)).map((o) => {
    const i = an.info.get(o) as { dtype: number; shape: number[] };
    return { name: o, dtype: i.dtype, shape: [...i.shape] };
  });
  for (const o of g.outputs) {
    const i = an.info.get(o.name);
    if (i) o.shape = [...i.shape];
  }
  return m;
}
