import { StableDragError } from '@stabledrag/core';
import { buildVjp, exposeOutputs, loadModel, pruneModel, serializeModel } from '@stabledrag/onnx-autograd';
import type { GradientGraphs } from './gradient-graphs.js';
import type { ModelConfig } from './model-config.js';

/** The synthesis network ready to run (feature tensor exposed) and its split-mode VJP graphs. */
export interface PreparedSynthesis {
  readonly synthesis: Uint8Array;
  readonly gradients: GradientGraphs;
}

/**
 * Builds, from a synthesis ONNX file, the forward graph that also outputs the residuals of the
 * backward, and the backward graph that turns dL/dfeatures into dL/dws (standard ONNX ops only,
 * so it runs on onnxruntime-node and onnxruntime-web alike). If model.json's feature tensor is an
 * intermediate tensor rather than a graph output, it is exposed as one first.
 */
export function buildGradientGraphs(synthesisBytes: Uint8Array, config: ModelConfig): PreparedSynthesis {
  const { ws, features, image } = config.tensors;
  const shape = [1, config.numWs, config.wDim];
  let model;
  try {
    model = loadModel(synthesisBytes);
  } catch (error) {
    throw new StableDragError('MODEL_ERROR', `${config.files.synthesis} is not a readable ONNX model: ${(error as Error).message}`, { cause: error });
  }
  const inputs = model.graph.inputs.map((v) => v.name);
  if (!inputs.includes(ws)) {
    throw new StableDragError('MODEL_ERROR', `model.json names the W+ input "${ws}" but ${config.files.synthesis} has inputs ${inputs.join(', ')}.`);
  }
  const known = new Set<string>([...inputs, ...model.graph.nodes.flatMap((n) => n.outputs)]);
  for (const name of [features, image]) {
    if (!known.has(name)) {
      throw new StableDragError('MODEL_ERROR', `model.json names the tensor "${name}" but ${config.files.synthesis} has no tensor of that name.`);
    }
  }
  const outputs = model.graph.outputs.map((v) => v.name);
  const missing = [features, image].filter((n) => !outputs.includes(n));
  if (missing.length > 0) model = exposeOutputs(model, missing, { [ws]: shape });
  let vjp;
  try {
    vjp = buildVjp(model, { wrt: [ws], of: [features], keepOutputs: [image], mode: 'split', inputShapes: { [ws]: shape } });
  } catch (error) {
    throw new StableDragError('MODEL_ERROR', `Cannot differentiate ${config.files.synthesis}: ${(error as Error).message}`, { cause: error });
  }
  const cotangent = vjp.backward.cotangents[features];
  const gradient = vjp.backward.gradients[ws];
  if (!cotangent || !gradient) throw new StableDragError('MODEL_ERROR', 'The backward graph lacks the cotangent or gradient it was asked for.');
  const featureOutputs = vjp.forward.outputs.filter((o) => o !== image);
  return {
    synthesis: missing.length > 0 ? serializeModel(model) : synthesisBytes,
    gradients: {
      forward: serializeModel(vjp.forward.model),
      backward: serializeModel(vjp.backward.model),
      forwardOutputs: vjp.forward.outputs,
      featureForward: { graph: serializeModel(pruneModel(vjp.forward.model, featureOutputs)), outputs: featureOutputs },
      backwardInputs: vjp.backward.inputs,
      cotangent,
      gradient,
    },
  };
}

/**
 * The split-mode VJP of the *image* output w.r.t. all of W+ (for projecting a photograph, see
 * project-image.ts): a forward that outputs the image and its residuals, and a backward that maps
 * dL/dimage to dL/dws. Built on demand, since dragging never needs it.
 */
export function buildImageGradientGraphs(synthesisBytes: Uint8Array, config: ModelConfig): GradientGraphs {
  const { ws, image } = config.tensors;
  const shape = [1, config.numWs, config.wDim];
  let vjp;
  try {
    vjp = buildVjp(loadModel(synthesisBytes), { wrt: [ws], of: [image], mode: 'split', inputShapes: { [ws]: shape } });
  } catch (error) {
    throw new StableDragError('MODEL_ERROR', `Cannot differentiate the image output of ${config.files.synthesis}: ${(error as Error).message}`, { cause: error });
  }
  const cotangent = vjp.backward.cotangents[image];
  const gradient = vjp.backward.gradients[ws];
  if (!cotangent || !gradient) throw new StableDragError('MODEL_ERROR', 'The image backward graph lacks the cotangent or gradient it was asked for.');
  return {
    forward: serializeModel(vjp.forward.model),
    backward: serializeModel(vjp.backward.model),
    forwardOutputs: vjp.forward.outputs,
    backwardInputs: vjp.backward.inputs,
    cotangent,
    gradient,
  };
}
