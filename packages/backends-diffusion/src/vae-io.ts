import { StableDragError } from '@stabledrag/core';
import { pruneModel } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';

/** How to read z_0's mean from a VAE encoder export. */
export interface VaeEncoderIo {
  readonly input: string;
  /** The prepared encoder's output: the mean (C channels) or mean and log-variance (2C channels). */
  readonly output: string;
}

/**
 * DragDiffusion encodes with the posterior *mean*, not a sample. Newer exports return
 * `latent_parameters` (mean and log-variance, 2C channels): take the first C. Older exports return
 * `latent_sample` = mean + σ·RandomNormalLike(…): cut the graph at the mean, the other input of
 * the Add that adds the noise.
 */
export function prepareVaeEncoder(model: OnnxModel, file: string): { model: OnnxModel; io: VaeEncoderIo } {
  const input = model.graph.inputs[0]?.name;
  const outputs = model.graph.outputs.map((o) => o.name);
  if (!input || outputs.length === 0) throw new StableDragError('MODEL_ERROR', `${file} needs an image input and a latent output.`);
  if (outputs.includes('latent_parameters')) return { model, io: { input, output: 'latent_parameters' } };
  const noise = model.graph.nodes.find((n) => n.opType === 'RandomNormalLike' || n.opType === 'RandomNormal');
  if (!noise) return { model, io: { input, output: outputs[0]! } };
  const consumers = (t: string): OnnxModel['graph']['nodes'] => model.graph.nodes.filter((n) => n.inputs.includes(t));
  for (const scale of consumers(noise.outputs[0]!)) {
    if (scale.opType !== 'Mul') continue;
    for (const add of consumers(scale.outputs[0]!)) {
      if (add.opType !== 'Add') continue;
      const mean = add.inputs.find((x) => x !== scale.outputs[0]);
      if (mean) return { model: pruneModel(model, [mean]), io: { input, output: mean } };
    }
  }
  throw new StableDragError('MODEL_ERROR', `${file} samples its latent at random and its mean cannot be found; export the VAE encoder with the "latent_parameters" output.`);
}
