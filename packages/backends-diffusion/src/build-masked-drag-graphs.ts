import { StableDragError } from '@stabledrag/core';
import { buildVjp } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import { buildFeatureModel } from './build-drag-graphs.js';
import type { DragGraphOptions } from './build-drag-graphs.js';

/**
 * The split-mode graphs of a masked drag. DragDiffusion's mask term is taken on the DDIM-stepped
 * latent ẑ_{t−1} = A·z_t + B·ε(z_t), so besides the features the forward also returns ε (the
 * UNet's `out_sample`, the whole UNet where the plain graphs stop at the feature block), and the
 * backward takes a cotangent for each: it returns J_Fᵀ·c_F + J_εᵀ·c_ε; the caller adds A·g.
 */
export interface MaskedDragGraphs {
  readonly forward: OnnxModel;
  readonly backward: OnnxModel;
  readonly forwardOutputs: readonly string[];
  readonly backwardInputs: readonly string[];
  readonly featureOutput: string;
  /** ε̂(z_t, t), the UNet's noise prediction, an output of `forward`. */
  readonly noiseOutput: string;
  readonly featureCotangent: string;
  readonly noiseCotangent: string;
  readonly gradient: string;
}

/** Builds {@link MaskedDragGraphs}; only masked drags pay for them (built on their first use). */
export function buildMaskedDragGraphs(unet: OnnxModel, o: DragGraphOptions): MaskedDragGraphs {
  const noise = o.io.output;
  const { model, featureOutput } = buildFeatureModel(unet, o, noise);
  let vjp;
  try {
    vjp = buildVjp(model, { wrt: [o.io.sample], of: [featureOutput, noise], mode: 'split', inputShapes: { [o.io.sample]: o.sampleShape } });
  } catch (error) {
    throw new StableDragError('MODEL_ERROR', `Cannot differentiate the drag features and noise prediction of ${o.file}: ${(error as Error).message}`, { cause: error });
  }
  const { cotangents, gradients } = vjp.backward;
  const featureCotangent = cotangents[featureOutput];
  const noiseCotangent = cotangents[noise];
  const gradient = gradients[o.io.sample];
  if (!featureCotangent || !noiseCotangent || !gradient) throw new StableDragError('MODEL_ERROR', 'The masked backward graph lacks a cotangent or the gradient it was asked for.');
  return {
    forward: vjp.forward.model,
    backward: vjp.backward.model,
    forwardOutputs: vjp.forward.outputs,
    backwardInputs: vjp.backward.inputs,
    featureOutput,
    noiseOutput: noise,
    featureCotangent,
    noiseCotangent,
    gradient,
  };
}
