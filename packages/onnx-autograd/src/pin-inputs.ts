import { cloneModel, type OnnxModel } from './model';
import { foldConstants } from './surgery';
import { numel, type Tensor } from './tensor';

/**
 * Pins graph inputs to constant values (a UNet's `timestep` and `encoder_hidden_states` during a
 * drag) and constant-folds what they make constant: the time-embedding MLP, every resnet's time
 * projection and the cross-attention keys and values become initializers. `inputShapes` fixes
 * the remaining inputs' symbolic shapes.
 */
export function pinInputs(model: OnnxModel, values: Readonly<Record<string, Tensor>>, inputShapes: Record<string, readonly number[]> = {}): OnnxModel {
  const m = cloneModel(model);
  for (const [name, t] of Object.entries(values)) {
    const v = m.graph.inputs.find((i) => i.name === name);
    if (!v) throw new Error(`pinInputs: the model has no input '${name}' (inputs: ${m.graph.inputs.map((i) => i.name).join(', ')})`);
    if (t.dtype !== v.dtype) throw new Error(`pinInputs: '${name}' has element type ${v.dtype}, the value has ${t.dtype}`);
    const declared = v.shape ?? [];
    const fits = declared.length === t.dims.length && declared.every((d, i) => typeof d !== 'number' || d === t.dims[i]);
    if (!fits || numel(t.dims) !== t.data.length) throw new Error(`pinInputs: '${name}' is [${declared.join(', ')}], the value [${t.dims.join(', ')}] (${t.data.length} values)`);
    m.graph.inputs = m.graph.inputs.filter((i) => i.name !== name);
    m.graph.initializers.set(name, t);
  }
  return foldConstants(m, inputShapes);
}
