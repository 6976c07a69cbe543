import { StableDragError } from '@stabledrag/core';
import type { RgbaImage } from '@stabledrag/core';
import { fitImage } from './fit-image.js';
import { rgbaToChw } from './image-convert.js';
import type { DiffusionModelConfig } from './model-config.js';
import type { OrtRuntime, OrtSession } from './ort-runtime.js';
import type { VaeEncoderIo } from './vae-io.js';

/**
 * z_0 of an image as DragDiffusion makes it for the drag: the image fitted to the model
 * (`fitImage`), encoded by the VAE, the posterior *mean* times the scaling factor.
 */
export async function encodeImageMean(
  runtime: OrtRuntime,
  session: OrtSession,
  io: VaeEncoderIo,
  config: DiffusionModelConfig,
  image: RgbaImage,
): Promise<{ z0: Float32Array; notices: readonly string[] }> {
  const { resolution, latentChannels, scalingFactor, vaeScaleFactor } = config;
  const fitted = fitImage(image, resolution);
  const x = new runtime.Tensor('float32', rgbaToChw(fitted.image), [1, 3, resolution, resolution]);
  const out = (await session.run({ [io.input]: x }, [io.output]))[io.output];
  if (!out || !(out.data instanceof Float32Array)) throw new StableDragError('MODEL_ERROR', `The VAE encoder did not return a float32 tensor named "${io.output}".`);
  const size = latentChannels * (resolution / vaeScaleFactor) ** 2;
  const channels = (out.data.length / size) * latentChannels;
  if (channels !== latentChannels && channels !== 2 * latentChannels) {
    throw new StableDragError('MODEL_ERROR', `The VAE encoder returned ${channels} channels per latent pixel; expected ${latentChannels} (mean) or ${2 * latentChannels} (mean and log-variance).`);
  }
  // Mean first, then log-variance (diffusers' DiagonalGaussianDistribution): the first C channels.
  const z0 = Float32Array.from(out.data.subarray(0, size), (v) => v * scalingFactor);
  return { z0, notices: fitted.notices };
}
