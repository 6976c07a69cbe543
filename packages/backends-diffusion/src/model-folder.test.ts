import { describe, expect, it } from 'vitest';
import { serializeModel, serializeModelWithExternalData } from '@stabledrag/onnx-autograd';
import type { OnnxModel, OnnxNode } from '@stabledrag/onnx-autograd';
import { assertPlainOnnx, assertSupportedWeights, findBlockOutput, findSelfAttention } from './find-unet-tensors.js';
import { parseDiffusionConfig, parseSchedulerConfig } from './model-config.js';
import { readDiffusionModelFiles } from './model-files.js';

const node = (name: string, opType: string, inputs: string[], outputs: string[], domain = ''): OnnxNode => ({ name, opType, domain, inputs, outputs, attributes: {} });

function model(nodes: OnnxNode[], output: string, weights = new Float32Array(0)): OnnxModel {
  const initializers = new Map();
  if (weights.length) initializers.set('w', { dtype: 1, dims: [weights.length], data: weights });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '',
    graph: { name: 'g', nodes, inputs: [{ name: 'x', dtype: 1, shape: [1, 4] }], outputs: [{ name: output, dtype: 1 }], initializers, valueInfo: [] },
  };
}

// A UNet-shaped chain named as torch names diffusers' modules.
const unetNodes = [
  node('/conv_in/Conv', 'Relu', ['x'], ['/conv_in/out']),
  node('/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_k/MatMul', 'Relu', ['/conv_in/out'], ['k2']),
  node('/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_v/MatMul', 'Relu', ['k2'], ['v2']),
  node('/up_blocks.2/attentions.0/transformer_blocks.0/attn2/to_k/MatMul', 'Relu', ['v2'], ['cross']),
  node('/up_blocks.2/upsamplers.0/conv/Conv', 'Relu', ['cross'], ['/up_blocks.2/upsamplers.0/conv/Conv_output_0']),
  node('/up_blocks.3/attentions.0/transformer_blocks.0/attn1/to_k/MatMul', 'Relu', ['/up_blocks.2/upsamplers.0/conv/Conv_output_0'], ['k3']),
  node('/up_blocks.3/attentions.0/transformer_blocks.0/attn1/to_v/MatMul', 'Relu', ['k3'], ['out_sample']),
];

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

function folder(files: Record<string, Uint8Array>): (path: string) => Promise<Uint8Array> {
  return async (path) => {
    const f = files[path];
    if (!f) throw new Error(`ENOENT: ${path}`);
    return f;
  };
}

function completeFolder(): Record<string, Uint8Array> {
  const tiny = serializeModel(model([node('n', 'Relu', ['x'], ['y'])], 'y'));
  const ext = serializeModelWithExternalData(model([node('n', 'Add', ['x', 'w'], ['y'])], 'y', Float32Array.from({ length: 512 }, (_, i) => i)), { location: 'weights.pb' });
  return {
    'model_index.json': json({ _class_name: 'OnnxStableDiffusionPipeline' }),
    'scheduler/scheduler_config.json': json({ beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', steps_offset: 1 }),
    'unet/model.onnx': ext.model,
    'unet/weights.pb': ext.data,
    'vae_encoder/model.onnx': tiny,
    'vae_decoder/model.onnx': tiny,
    'text_encoder/model.onnx': tiny,
  };
}

describe('diffusion model folder', () => {
  it('reads a complete folder, with the UNet weights in external data, and DragDiffusion defaults', async () => {
    const files = await readDiffusionModelFiles(folder(completeFolder()), '/m', 'm');
    expect(files.unet.graph.initializers.get('w')?.data[511]).toBe(511);
    const c = files.config;
    expect(c).toMatchObject({ name: 'm', resolution: 512, scalingFactor: 0.18215, inferenceSteps: 50, inversionStrength: 0.7, featureBlock: 'up_blocks.2', featureDownscale: 2, dragLearningRate: 0.01, radii: { motion: 1, tracking: 3 } });
    expect(c.featureTensor).toBeUndefined();
  });

  it('says what is missing: no model_index.json, an incomplete folder (all parts in one line), lost external data', async () => {
    const all = completeFolder();
    const { 'model_index.json': _, ...noIndex } = all;
    await expect(readDiffusionModelFiles(folder(noIndex), '/m')).rejects.toThrow(/^\/m is not a diffusion model folder: model_index.json is missing \(a Stable Diffusion ONNX folder holds/);
    const { 'vae_encoder/model.onnx': _a, 'text_encoder/model.onnx': _b, ...partial } = all;
    await expect(readDiffusionModelFiles(folder(partial), '/m')).rejects.toThrow(/^\/m is incomplete: vae_encoder\/model.onnx, text_encoder\/model.onnx are missing/);
    const { 'unet/weights.pb': _c, ...noWeights } = all;
    await expect(readDiffusionModelFiles(folder(noWeights), '/m')).rejects.toThrow(/unet\/model.onnx keeps its weights in "weights.pb", which cannot be read/);
    await expect(readDiffusionModelFiles(folder({ ...all, 'model.json': json({ resolution: 100 }) }), '/m')).rejects.toThrow(/"resolution" 100 must be a multiple of the VAE scale factor 8/);
    await expect(readDiffusionModelFiles(folder({ ...all, 'unet/model.onnx': json({}) }), '/m')).rejects.toThrow(/unet\/model.onnx is not a readable ONNX model/);
  });

  it('takes tensor names, sizes and drag defaults from model.json when it has them', () => {
    const c = parseDiffusionConfig({
      modelIndex: {},
      scheduler: {},
      modelJson: {
        name: 'tiny', resolution: 64, feature: { name: 'feat', downscale: 4 },
        self_attention: [{ key: 'k1', value: 'v1' }], drag_learning_rate: 0.02, r_m: 2, r_p: 5, inversion_strength: 0.5,
      },
      fallbackName: 'x',
    }, '/m');
    expect(c).toMatchObject({ name: 'tiny', resolution: 64, featureTensor: 'feat', featureDownscale: 4, selfAttention: [{ key: 'k1', value: 'v1' }], dragLearningRate: 0.02, radii: { motion: 2, tracking: 5 }, inversionStrength: 0.5 });
    const d = parseDiffusionConfig({ modelIndex: {}, scheduler: {}, modelJson: { self_attention: { keys: ['a'], values: ['b'] } }, unetConfig: { sample_size: 8 }, fallbackName: 'x' }, '/m');
    expect(d.selfAttention).toEqual([{ key: 'a', value: 'b' }]);
    expect(d.resolution).toBe(64);
    expect(() => parseDiffusionConfig({ modelIndex: {}, scheduler: {}, modelJson: { inversion_strength: 2 }, fallbackName: 'x' }, '/m')).toThrow(/"inversion_strength" must be in \(0, 1\]/);
  });

  it('reads DDIM settings from scheduler_config.json and refuses v-prediction and unknown schedules', () => {
    expect(parseSchedulerConfig({ beta_start: 0.001, beta_end: 0.02, beta_schedule: 'linear', steps_offset: 0, set_alpha_to_one: true })).toEqual({
      numTrainTimesteps: 1000, betaStart: 0.001, betaEnd: 0.02, betaSchedule: 'linear', stepsOffset: 0, setAlphaToOne: true,
    });
    expect(() => parseSchedulerConfig({ prediction_type: 'v_prediction' })).toThrow(/ε-prediction/);
    expect(() => parseSchedulerConfig({ beta_schedule: 'squaredcos_cap_v2' })).toThrow(/not supported/);
  });
});

describe('finding tensors by diffusers module names', () => {
  const unet = model(unetNodes, 'out_sample');

  it('finds the output of up_blocks.2 and the attn1 K/V of every layer in execution order', () => {
    expect(findBlockOutput(unet, 'up_blocks.2', 'unet/model.onnx')).toBe('/up_blocks.2/upsamplers.0/conv/Conv_output_0');
    expect(findSelfAttention(unet)).toEqual([
      { layer: 'up_blocks.2/attentions.0/transformer_blocks.0/attn1', key: 'k2', value: 'v2' },
      { layer: 'up_blocks.3/attentions.0/transformer_blocks.0/attn1', key: 'k3', value: 'out_sample' },
    ]);
  });

  it('asks for model.json when a block is absent', () => {
    expect(() => findBlockOutput(unet, 'up_blocks.7', 'unet/model.onnx')).toThrow(/Cannot find the output of up_blocks.7 in unet\/model.onnx \(it has no nodes named \/up_blocks.7\/…\); name the drag feature tensor in model.json/);
  });

  it('refuses an "optimized" export, naming the op and what to do', () => {
    const optimized = model([node('/up_blocks.2/attentions.0/Attention_0', 'MultiHeadAttention', ['x'], ['y'], 'com.microsoft')], 'y');
    expect(() => assertPlainOnnx(optimized, 'unet/model.onnx')).toThrow(
      /^unet\/model.onnx uses the com.microsoft op MultiHeadAttention \(node "\/up_blocks.2\/attentions.0\/Attention_0"\), which cannot be differentiated: .*export the model again without optimisation/,
    );
    expect(() => assertPlainOnnx(unet, 'unet/model.onnx')).not.toThrow();
  });

  it('refuses float16 weights and says to export in float32', () => {
    const half = model([node('n', 'Add', ['x', 'w'], ['y'])], 'y', new Float32Array(4));
    half.graph.initializers.set('w', { dtype: 10, dims: [4], data: new Float64Array(0), raw: new Uint8Array(8) });
    expect(() => assertSupportedWeights(half, 'unet/model.onnx')).toThrow(/^unet\/model.onnx stores weights in 16-bit floats \(e.g. "w"\); export the model in float32/);
    expect(() => assertSupportedWeights(model([node('n', 'Relu', ['x'], ['y'])], 'y', new Float32Array(4)), 'u')).not.toThrow();
  });
});
