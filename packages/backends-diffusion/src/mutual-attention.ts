import { StableDragError } from '@stabledrag/core';
import { exposeOutputs, findAttentions, replaceKeysValues } from '@stabledrag/onnx-autograd';
import type { AttentionLayer, OnnxModel } from '@stabledrag/onnx-autograd';
import type { DiffusionModelConfig } from './model-config.js';

/**
 * The two UNet graphs of mutual self-attention (MasaCtrl, as DragDiffusion denoises after a
 * drag): `source` is the UNet that also returns the chosen layers' keys and values; `edited`
 * takes those keys and values as inputs instead of computing its own, so the edited branch's
 * queries attend to the source branch's content.
 */
export interface MutualAttentionGraphs {
  readonly source: OnnxModel;
  readonly edited: OnnxModel;
  /** Per layer: the source graph's K and V outputs and the edited graph's inputs they feed. */
  readonly links: readonly { readonly sourceKey: string; readonly sourceValue: string; readonly editedKey: string; readonly editedValue: string }[];
  /** Denoising step (0 = the first step after the drag) from which the swap applies. */
  readonly startStep: number;
}

/**
 * The self-attention layers to swap: model.json's `mutualSelfAttention.layers` (indices into its
 * self-attention list), else every self-attention of the feature block and the blocks after it —
 * for SD 1.5's `up_blocks.2` that is layers 10–15 of 16, DragDiffusion's `start_layer` 10.
 */
export function mutualAttentionLayers(unet: OnnxModel, config: DiffusionModelConfig, file: string): AttentionLayer[] {
  const all = findAttentions(unet, 'self');
  if (config.mutualSelfAttention.layers.length > 0) {
    const declared = config.selfAttention.length > 0 ? config.selfAttention : all;
    return config.mutualSelfAttention.layers.map((i) => {
      const d = declared[i];
      const layer = d && all.find((l) => l.key === d.key && l.value === d.value);
      if (!layer) throw new StableDragError('MODEL_ERROR', `mutualSelfAttention layer ${i} of model.json is not a self-attention of ${file} (its K/V tensors were not found).`);
      return layer;
    });
  }
  const m = /^(.*)\.(\d+)$/.exec(config.featureBlock);
  if (!m) return [];
  const [prefix, first] = [m[1]!, Number(m[2])];
  return all.filter((l) => {
    const b = new RegExp(`^${prefix.replace('.', '\\.')}\\.(\\d+)\\.`).exec(l.module);
    return b !== null && Number(b[1]) >= first;
  });
}

export function buildMutualAttentionGraphs(unet: OnnxModel, layers: readonly AttentionLayer[], shapes: Record<string, readonly number[]>, startStep: number): MutualAttentionGraphs {
  const source = exposeOutputs(unet, layers.flatMap((l) => [l.key, l.value]), shapes);
  const edited = replaceKeysValues(unet, layers, shapes);
  return {
    source,
    edited: edited.model,
    links: layers.map((l, i) => ({ sourceKey: l.key, sourceValue: l.value, editedKey: edited.inputs[i]!.key, editedValue: edited.inputs[i]!.value })),
    startStep,
  };
}
