import { cloneModel, type OnnxModel } from './model';
import { DataType, type Tensor } from './tensor';

export interface InputSpec {
  name: string;
  shape: readonly number[];
  /** ONNX element type; default float32. */
  dtype?: number;
}

function tensorNames(model: OnnxModel): Set<string> {
  const g = model.graph;
  return new Set([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
}

/** Declares a new graph input (e.g. a LoRA matrix, or a key/value tensor to inject). */
export function addInput(model: OnnxModel, spec: InputSpec): OnnxModel {
  if (tensorNames(model).has(spec.name)) throw new Error(`addInput: a tensor named '${spec.name}' already exists; choose another name`);
  if (spec.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`addInput: shape [${spec.shape.join(', ')}] of '${spec.name}' must be non-negative integers`);
  const m = cloneModel(model);
  m.graph.inputs.push({ name: spec.name, dtype: spec.dtype ?? DataType.FLOAT, shape: [...spec.shape] });
  return m;
}

/**
 * Turns initializers into graph inputs so that gradients can be taken with respect to them
 * (`buildVjp({ wrt: names })`). Returns the model and the initializers' values, which the caller
 * feeds as those inputs.
 */
export function weightsToInputs(model: OnnxModel, names: readonly string[]): { model: OnnxModel; values: Record<string, Tensor> } {
  const m = cloneModel(model);
  const values: Record<string, Tensor> = {};
  for (const name of names) {
    const t = m.graph.initializers.get(name);
    if (!t) throw new Error(`weightsToInputs: '${name}' is not an initializer of the model (weightOf(model, node) finds a node's weight)`);
    if (t.raw) throw new Error(`weightsToInputs: '${name}' has element type ${t.dtype}; only float32/float64 weights can become inputs`);
    m.graph.initializers.delete(name);
    m.graph.inputs = m.graph.inputs.filter((v) => v.name !== name);
    m.graph.inputs.push({ name, dtype: t.dtype, shape: [...t.dims] });
    values[name] = t;
  }
  return { model: m, values };
}

/**
 * Name of the constant weight that node `nodeName` reads at input `index` (default 1: the
 * weight of MatMul/Conv/Gemm). torch exports name MatMul weights `onnx::MatMul_123`, so look
 * them up through the node.
 */
export function weightOf(model: OnnxModel, nodeName: string, index = 1): string {
  const node = model.graph.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`weightOf: no node named '${nodeName}'`);
  const w = node.inputs[index];
  if (!w) throw new Error(`weightOf: ${node.opType} node '${nodeName}' has no input ${index}`);
  if (model.graph.initializers.has(w)) return w;
  throw new Error(`weightOf: input ${index} ('${w}') of ${node.opType} node '${nodeName}' is not an initializer (a Constant node or a computed tensor is not a trainable weight)`);
}
