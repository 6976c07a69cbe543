import { StableDragError } from '@stabledrag/core';
import { DataType, analyzeGraph, buildVjp, cloneModel, onnxOpset, pruneModel, replaceInputWithConstant } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import type { UnetIo } from './unet-io.js';
import { timestepConstant } from './unet-io.js';

/**
 * The UNet cut down to the drag features at the editing timestep, and its split-mode VJP. Run
 * `features` (sample → features) when no gradient is needed; otherwise `forward` (features plus
 * residuals), then `backward` fed with those outputs by name and dL/dfeatures → dL/dsample.
 * The graphs share the UNet's weight tensors; they are serialised only when opened.
 */
export interface DragGraphs {
  readonly features: OnnxModel;
  readonly forward: OnnxModel;
  readonly backward: OnnxModel;
  readonly forwardOutputs: readonly string[];
  readonly backwardInputs: readonly string[];
  /** The feature output of `features` and `forward`. */
  readonly featureOutput: string;
  readonly cotangent: string;
  readonly gradient: string;
  /** [C, H, W] of the features after the resize. */
  readonly featureShape: readonly [number, number, number];
}

export interface DragGraphOptions {
  readonly io: UnetIo;
  /** The UNet tensor the drag reads (DragDiffusion: `up_blocks[2]`'s output). */
  readonly featureTensor: string;
  readonly sampleShape: readonly number[];
  /** z_t's timestep, pinned as a constant so its embedding folds away. */
  readonly timestep: number;
  /** The prompt embedding [1, 77, D], pinned likewise (cross-attention K and V fold away). */
  readonly context: Float32Array;
  readonly contextShape: readonly number[];
  /** Side of the square feature map after the bilinear resize (DragDiffusion: half the image side). */
  readonly featureSize: number;
  readonly file: string;
}

const FEATURES = 'drag_features';

/** The pinned UNet cut to the resized drag features (and `alsoOutput`, if given), with C and S. */
export interface FeatureModel {
  readonly model: OnnxModel;
  readonly featureOutput: string;
  readonly featureShape: readonly [number, number, number];
}

/**
 * Pins timestep and prompt, keeps only what the feature tensor (and `alsoOutput`) needs (without
 * it the UNet's later blocks and output convolution are dropped), and appends the bilinear resize
 * DragDiffusion applies (`F.interpolate(..., mode='bilinear')`, align_corners=False = ONNX
 * `half_pixel` for upsampling). Graph outputs: the resized features, then `alsoOutput`.
 */
export function buildFeatureModel(unet: OnnxModel, o: DragGraphOptions, alsoOutput?: string): FeatureModel {
  const known = new Set(unet.graph.nodes.flatMap((n) => n.outputs));
  if (!known.has(o.featureTensor)) {
    throw new StableDragError('MODEL_ERROR', `The drag feature tensor "${o.featureTensor}" is not a tensor of ${o.file}; fix "feature.name" in model.json.`);
  }
  let m = replaceInputWithConstant(unet, o.io.timestep, timestepConstant(o.io, o.timestep));
  m = replaceInputWithConstant(m, o.io.context, { dtype: DataType.FLOAT, dims: [...o.contextShape], data: new Float32Array(o.context) });
  m = pruneModel(m, alsoOutput ? [o.featureTensor, alsoOutput] : [o.featureTensor]);
  const shapes = { [o.io.sample]: o.sampleShape };
  const an = analyzeGraph(cloneModel(m).graph, onnxOpset(m), shapes);
  const info = an.info.get(o.featureTensor);
  if (!info || info.shape.length !== 4) {
    const [node, why] = [...an.failures][0] ?? [];
    const because = node ? ` (shape inference stops at ${node.opType} node "${node.name}": ${why}; is the model's resolution right? A latent of [${o.sampleShape.join(', ')}] was assumed)` : '';
    throw new StableDragError('MODEL_ERROR', `The drag feature tensor "${o.featureTensor}" of ${o.file} must be [1, C, H, W]; its shape is [${info?.shape.join(', ') ?? 'unknown'}]${because}.`);
  }
  const C = info.shape[1]!;
  const S = o.featureSize;
  m = cloneModel(m);
  m.graph.initializers.set('drag_features_sizes', { dtype: DataType.INT64, dims: [4], data: Float64Array.from([1, C, S, S]) });
  m.graph.nodes.push({
    name: '/drag_features/Resize',
    opType: 'Resize',
    domain: '',
    inputs: [o.featureTensor, '', '', 'drag_features_sizes'],
    outputs: [FEATURES],
    attributes: { mode: { type: 'string', value: 'linear' }, coordinate_transformation_mode: { type: 'string', value: 'half_pixel' } },
  });
  const extra = alsoOutput ? [{ name: alsoOutput, dtype: 1, shape: [...(an.info.get(alsoOutput)?.shape ?? o.sampleShape)] }] : [];
  m.graph.outputs = [{ name: FEATURES, dtype: 1, shape: [1, C, S, S] }, ...extra];
  return { model: m, featureOutput: FEATURES, featureShape: [C, S, S] };
}

/** The feature graph and its split-mode VJP with respect to the sample. */
export function buildDragGraphs(unet: OnnxModel, o: DragGraphOptions): DragGraphs {
  const { model: m, featureShape } = buildFeatureModel(unet, o);
  const shapes = { [o.io.sample]: o.sampleShape };
  let vjp;
  try {
    vjp = buildVjp(m, { wrt: [o.io.sample], of: [FEATURES], mode: 'split', inputShapes: shapes });
  } catch (error) {
    throw new StableDragError('MODEL_ERROR', `Cannot differentiate the drag features of ${o.file}: ${(error as Error).message}`, { cause: error });
  }
  const cotangent = vjp.backward.cotangents[FEATURES];
  const gradient = vjp.backward.gradients[o.io.sample];
  if (!cotangent || !gradient) throw new StableDragError('MODEL_ERROR', 'The backward graph lacks the cotangent or gradient it was asked for.');
  return {
    features: m,
    forward: vjp.forward.model,
    backward: vjp.backward.model,
    forwardOutputs: vjp.forward.outputs,
    backwardInputs: vjp.backward.inputs,
    featureOutput: FEATURES,
    cotangent,
    gradient,
    featureShape,
  };
}
