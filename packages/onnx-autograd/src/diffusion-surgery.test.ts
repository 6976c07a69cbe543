import { describe, expect, it } from 'vitest';
import { addInput, weightOf, weightsToInputs } from './add-input';
import { buildVjp } from './build-vjp';
import { findAttentions, findBlockOutput, findProjections } from './diffusers-names';
import { initialLoraWeights, insertLora, loraInputNames, mergeLora } from './lora';
import type { OnnxModel } from './model';
import { pinInputs } from './pin-inputs';
import { replaceKeysValues, replaceWithInputs } from './replace-with-inputs';
import { f32 } from './tensor';
import { expectAllClose, gradCheck, makeModel, randomArray, rng, Runner, type Value } from './testing/harness';
import { TINY, tinyUnet } from './testing/tiny-unet';

// Finite differences as in vjp-rules.test.ts (eps 1e-2, |g − fd| ≤ 2e-3 + 1e-2·|fd|). On whole
// UNets, 12 single coordinates per input (a ±1 direction over a thousand elements would move the
// input by ‖eps·v‖ ≈ 0.3, too far for a central difference through GroupNorm and Softmax); for
// the 32-element LoRA matrices, 8 random ±1 directions (one element's derivative is ~0.1, near
// the float32 noise of the loss / 2eps).
const TOL = { atol: 2e-3, rtol: 1e-2 };
const coords = (n: number, seed: number): { coordinates: number[]; maxElements: number } => {
  const r = rng(seed);
  return { coordinates: Array.from({ length: 12 }, () => Math.floor(r() * n)), maxElements: 0 };
};

/** x [1, 3, 4] → MatMul(W [4, 5]) → LayerNorm → Add(bias): a transformer projection. */
function projection(): OnnxModel {
  return makeModel({
    inputs: { x: [1, 3, 4] },
    outputs: ['y'],
    initializers: {
      'onnx::MatMul_7': f32([4, 5], randomArray(20, rng(11))),
      'norm.weight': f32([5], randomArray(5, rng(12), 0.5, 1.5)),
      'norm.bias': f32([5], randomArray(5, rng(13))),
    },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'onnx::MatMul_7'], outputs: ['/attn1/to_k/MatMul_output_0'] },
      { op: 'LayerNormalization', inputs: ['/attn1/to_k/MatMul_output_0', 'norm.weight', 'norm.bias'], outputs: ['y'], attrs: { axis: -1 } },
    ],
  });
}

async function run(model: OnnxModel, feeds: Record<string, Value>, out = 'y'): Promise<Float32Array> {
  const r = await Runner.create(model);
  const o = (await r.run(feeds))[out] as Value;
  await r.release();
  return o.data;
}

describe('addInput and weightsToInputs', () => {
  it('addInput declares an input and refuses a taken name', () => {
    const m = addInput(projection(), { name: 'kv', shape: [1, 3, 5] });
    expect(m.graph.inputs.map((v) => v.name)).toEqual(['x', 'kv']);
    expect(() => addInput(m, { name: 'norm.weight', shape: [5] })).toThrow(/already exists/);
  });

  it('gradients w.r.t. weights turned into inputs (MatMul weight, LayerNorm scale and bias) pass finite differences', async () => {
    const base = projection();
    const w = weightOf(base, 'n0_MatMul');
    expect(w).toBe('onnx::MatMul_7');
    const { model, values } = weightsToInputs(base, [w, 'norm.weight', 'norm.bias']);
    expect(model.graph.initializers.size).toBe(0);
    expect(base.graph.initializers.size).toBe(3);
    const inputs = Object.fromEntries(Object.entries(values).map(([k, t]) => [k, Float32Array.from(t.data)]));
    await gradCheck(model, { wrt: ['x', w, 'norm.weight', 'norm.bias'], of: ['y'], inputs, ...TOL });
    expect(() => weightsToInputs(base, ['nope'])).toThrow(/not an initializer/);
  });

  it('gradients w.r.t. a Conv weight and a projection weight of a UNet', async () => {
    const { model: unet } = tinyUnet(TINY);
    const feat = findBlockOutput(unet, 'up_blocks.2');
    const names = ['up_blocks.2.resnets.0.conv1.weight', weightOf(unet, '/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_v/MatMul')];
    const { model, values } = weightsToInputs(unet, names);
    const inputs = Object.fromEntries(Object.entries(values).map(([k, t]) => [k, Float32Array.from(t.data)]));
    await gradCheck(model, { wrt: names, of: [feat], inputs, ...TOL, ...coords(16 * 32 * 9, 21), modes: ['split'] });
  });
});

describe('LoRA', () => {
  it('names inputs as diffusers attention-processor LoRA state dicts', () => {
    expect(loraInputNames('/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_out.0/MatMul')).toEqual({
      down: 'up_blocks.2.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.down.weight',
      up: 'up_blocks.2.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight',
    });
    expect(loraInputNames('/mid_block/proj/MatMul').down).toBe('mid_block.proj.lora.down.weight');
  });

  it('y = x·W + (x·Aᵀ·Bᵀ)·α/r: B = 0 leaves the model unchanged, gradients w.r.t. x, A and B pass finite differences', async () => {
    const base = projection();
    const { model, adapters } = insertLora(base, ['n0_MatMul'], { rank: 2, alpha: 3, names: () => ({ down: 'A', up: 'B' }) });
    expect(adapters[0]).toMatchObject({ weight: 'onnx::MatMul_7', down: 'A', up: 'B', inFeatures: 4, outFeatures: 5, rank: 2, scale: 1.5 });
    expect(model.graph.inputs.map((v) => [v.name, v.shape])).toEqual([['x', [1, 3, 4]], ['A', [2, 4]], ['B', [5, 2]]]);
    const x: Value = { data: randomArray(12, rng(2)), dims: [1, 3, 4] };
    const init = initialLoraWeights(adapters[0]!, rng(3));
    expect(init.up.every((v) => v === 0)).toBe(true);
    const y0 = await run(base, { x });
    expectAllClose(await run(model, { x, A: { data: init.down, dims: [2, 4] }, B: { data: init.up, dims: [5, 2] } }), y0, { atol: 0, rtol: 0 });
    await gradCheck(model, { wrt: ['x', 'A', 'B'], of: ['y'], ...TOL });
  });

  it('mergeLora folds W + α/r·Aᵀ·Bᵀ into a new weight tensor; the base model is untouched', async () => {
    const base = projection();
    const { model, adapters } = insertLora(base, ['n0_MatMul'], { rank: 2, alpha: 3 });
    const a = adapters[0]!;
    const A = randomArray(8, rng(4));
    const B = randomArray(10, rng(5));
    const x: Value = { data: randomArray(12, rng(6)), dims: [1, 3, 4] };
    const withLora = await run(model, { x, [a.down]: { data: A, dims: [2, 4] }, [a.up]: { data: B, dims: [5, 2] } });
    const before = Float32Array.from(base.graph.initializers.get(a.weight)!.data);
    const merged = mergeLora(base, adapters, { [a.down]: A, [a.up]: B });
    expectAllClose(await run(merged, { x }), withLora, { atol: 1e-5, rtol: 1e-5 });
    expect(Array.from(base.graph.initializers.get(a.weight)!.data)).toEqual(Array.from(before));
    expect(() => mergeLora(base, adapters, { [a.down]: A })).toThrow(/needs 10 values/);
  });

  it('refuses a node that is not a MatMul with a constant weight, naming it', () => {
    expect(() => insertLora(projection(), ['n1_LayerNormalization'], { rank: 2 })).toThrow(/'n1_LayerNormalization' is a LayerNormalization/);
    expect(() => insertLora(projection(), ['missing'], { rank: 2 })).toThrow(/no node named 'missing'/);
  });

  it('on every attention projection of a UNet: gradients of the decoder features w.r.t. A and B', async () => {
    const { model: unet } = tinyUnet(TINY);
    const targets = findProjections(unet);
    expect(targets.length).toBe(8 * 7); // 7 transformer blocks × (attn1, attn2) × (q, k, v, out)
    const { model, adapters } = insertLora(unet, targets, { rank: 2 });
    const feat = findBlockOutput(unet, 'up_blocks.2');
    const inputs: Record<string, Float32Array> = {};
    const r = rng(7);
    for (const a of adapters) {
      inputs[a.down] = randomArray(a.rank * a.inFeatures, r, -0.3, 0.3);
      inputs[a.up] = randomArray(a.outFeatures * a.rank, r, -0.3, 0.3);
    }
    const checked = adapters.filter((a) => a.node.startsWith('/up_blocks.2/')).slice(0, 2);
    await gradCheck(model, { wrt: checked.flatMap((a) => [a.down, a.up]), of: [feat], inputs, ...TOL, maxElements: 0, modes: ['split'] });
  });
});

describe('finders on a UNet with diffusers module names', () => {
  const { model } = tinyUnet(TINY);

  it('self- and cross-attention layers in execution order', () => {
    const self = findAttentions(model, 'self');
    expect(self.map((l) => l.module)).toEqual([
      'down_blocks.1.attentions.0.transformer_blocks.0.attn1',
      'down_blocks.2.attentions.0.transformer_blocks.0.attn1',
      'mid_block.attentions.0.transformer_blocks.0.attn1',
      'up_blocks.1.attentions.0.transformer_blocks.0.attn1',
      'up_blocks.1.attentions.1.transformer_blocks.0.attn1',
      'up_blocks.2.attentions.0.transformer_blocks.0.attn1',
      'up_blocks.2.attentions.1.transformer_blocks.0.attn1',
    ]);
    expect(self[5]!.key).toBe('/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_k/MatMul_output_0');
    expect(findAttentions(model, 'cross').every((l) => l.kind === 'cross' && l.module.endsWith('attn2'))).toBe(true);
  });

  it('block outputs', () => {
    expect(findBlockOutput(model, 'up_blocks.2')).toBe('/up_blocks.2/upsamplers.0/conv/Conv_output_0');
    expect(findBlockOutput(model, 'mid_block')).toBe('/mid_block/resnets.1/Div_output_0');
    expect(findBlockOutput(model, 'down_blocks.1')).toBe('/down_blocks.1/downsamplers.0/conv/Conv_output_0');
    expect(() => findBlockOutput(model, 'up_blocks.9')).toThrow(/no node is named under '\/up_blocks.9\/'/);
  });

  it('split VJP of the up_blocks.2 features w.r.t. the latent passes finite differences', async () => {
    await gradCheck(model, { wrt: ['sample'], of: [findBlockOutput(model, 'up_blocks.2')], ...TOL, ...coords(1024, 23) });
  });

  it('with GroupNormalization ops (opset 21) instead of torch 1.13’s InstanceNormalization form', async () => {
    const { model: gn } = tinyUnet({ ...TINY, groupNormOp: true });
    expect(gn.graph.nodes.some((n) => n.opType === 'GroupNormalization')).toBe(true);
    await gradCheck(gn, { wrt: ['sample'], of: [findBlockOutput(gn, 'up_blocks.2')], ...TOL, ...coords(1024, 24), modes: ['split'] });
  });
});

describe('replacing tensors by inputs, pinning inputs', () => {
  it('replaceWithInputs: consumers read the new input, dead nodes go, names clash loudly', async () => {
    const base = projection();
    const m = replaceWithInputs(base, { '/attn1/to_k/MatMul_output_0': 'k_in' });
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['LayerNormalization']);
    expect(m.graph.inputs.map((v) => [v.name, v.shape])).toEqual([['x', [1, 3, 4]], ['k_in', [1, 3, 5]]]);
    const k: Value = { data: randomArray(15, rng(8)), dims: [1, 3, 5] };
    const direct = makeModel({
      inputs: { k: [1, 3, 5] },
      outputs: ['y'],
      initializers: { s: base.graph.initializers.get('norm.weight')!, b: base.graph.initializers.get('norm.bias')! },
      nodes: [{ op: 'LayerNormalization', inputs: ['k', 's', 'b'], outputs: ['y'], attrs: { axis: -1 } }],
    });
    expectAllClose(await run(m, { x: { data: new Float32Array(12), dims: [1, 3, 4] }, k_in: k }), await run(direct, { k }), { atol: 0, rtol: 0 });
    expect(() => replaceWithInputs(base, { '/attn1/to_k/MatMul_output_0': 'x' })).toThrow(/already used/);
  });

  it('replaceKeysValues on a UNet: the source’s own K/V reproduce it; the VJP w.r.t. the latent still passes finite differences', async () => {
    const { model } = tinyUnet(TINY);
    const layers = findAttentions(model, 'self').filter((l) => l.module.startsWith('up_blocks.'));
    const { model: masa, inputs: kv } = replaceKeysValues(model, layers);
    expect(kv[0]).toEqual({ module: layers[0]!.module, key: `${layers[0]!.module}.key`, value: `${layers[0]!.module}.value` });
    const feats: Record<string, Value> = {
      sample: { data: randomArray(4 * 256, rng(9)), dims: [1, 4, 16, 16] },
      timestep: { data: Float32Array.of(681), dims: [1] },
      encoder_hidden_states: { data: randomArray(5 * 12, rng(10)), dims: [1, 5, 12] },
    };
    const exposed = { ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, ...layers.flatMap((l) => [l.key, l.value]).map((name) => ({ name, dtype: 1 }))] } };
    const r = await Runner.create(exposed);
    const src = await r.run(feats);
    await r.release();
    const feeds = { ...feats };
    kv.forEach((io, i) => { feeds[io.key] = src[layers[i]!.key] as Value; feeds[io.value] = src[layers[i]!.value] as Value; });
    expectAllClose(await run(masa, feeds, 'out_sample'), (src.out_sample as Value).data, { atol: 1e-5, rtol: 1e-5 });
    const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.data]));
    await gradCheck(masa, { wrt: ['sample'], of: ['out_sample'], inputs, ...TOL, ...coords(1024, 25), modes: ['split'] });
  });

  it('pinInputs folds what the pinned inputs make constant and keeps the output', async () => {
    const { model } = tinyUnet(TINY);
    const t = f32([1], [681]);
    const ehs = f32([1, 5, 12], randomArray(60, rng(11)));
    const pinned = pinInputs(model, { timestep: t, encoder_hidden_states: ehs });
    expect(pinned.graph.inputs.map((v) => v.name)).toEqual(['sample']);
    expect(pinned.graph.nodes.some((n) => n.name.startsWith('/time_embedding/') || /time_emb_proj|attn2\/to_[kv]\//.test(n.name))).toBe(false);
    const sample: Value = { data: randomArray(4 * 256, rng(12)), dims: [1, 4, 16, 16] };
    const want = await run(model, { sample, timestep: { data: t.data as Float32Array, dims: [1] }, encoder_hidden_states: { data: ehs.data as Float32Array, dims: [1, 5, 12] } }, 'out_sample');
    expectAllClose(await run(pinned, { sample }, 'out_sample'), want, { atol: 1e-5, rtol: 1e-4 });
    expect(() => pinInputs(model, { timestep: f32([2], [1, 2]) })).toThrow(/'timestep' is \[1\], the value \[2\]/);
    expect(() => pinInputs(model, { t: t })).toThrow(/no input 't'/);
    expect(buildVjp(pinned, { wrt: ['sample'], of: ['out_sample'], mode: 'split' }).backward.graphInputs).toEqual([]);
  });
});
