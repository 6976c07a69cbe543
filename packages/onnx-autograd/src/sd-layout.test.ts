import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { buildVjp } from './build-vjp';
import { findAttentions, findBlockOutput, findProjections } from './diffusers-names';
import { insertLora, mergeLora } from './lora';
import type { OnnxModel } from './model';
import { pinInputs } from './pin-inputs';
import { replaceKeysValues } from './replace-with-inputs';
import { exposeOutputs } from './surgery';
import { f32 } from './tensor';
import { allCloseMessage, Runner, type Ort, type Value } from './testing/harness';
import { goldenFolder } from './testing/sd-golden';

// The tiny random-weight SD-1.5-layout UNet exported by torch 1.13 (tools/diffusion/make_tiny.py)
// and its PyTorch float64 golden data: decoder features (up_blocks.2 output), their gradient
// w.r.t. the latent, and w.r.t. LoRA A/B on the four projections of one self-attention.
// Tolerance (tools/diffusion/README.md): |ours − golden| ≤ 1e-4 · max|golden| elementwise, float32
// onnxruntime against float64 torch (float32 torch is within ~1.5e-6 of float64 here).
const { golden, description, g, expectGolden, unet, shapes, inputs, splitVjp } = goldenFolder('sd15-layout-tiny');
const loraName = (p: string, m: 'A' | 'B'): string => `lora_${m}_${p}`;

function withLora(): { model: OnnxModel; feeds: Record<string, Value>; names: Record<string, { down: string; up: string }> } {
  const projections = Object.keys(golden.lora.nodes);
  const { model, adapters } = insertLora(unet(), projections.map((p) => golden.lora.nodes[p] as string), {
    rank: golden.lora.rank,
    alpha: golden.lora.alpha,
    names: (node) => {
      const p = projections.find((q) => golden.lora.nodes[q] === node) as string;
      return { down: loraName(p, 'A'), up: loraName(p, 'B') };
    },
  });
  expect(adapters.map((a) => a.scale)).toEqual([2, 2, 2, 2]);
  const feeds = inputs();
  for (const p of projections) for (const m of ['A', 'B'] as const) feeds[loraName(p, m)] = g(loraName(p, m));
  const names = Object.fromEntries(projections.map((p) => [p, { down: loraName(p, 'A'), up: loraName(p, 'B') }]));
  return { model, feeds, names };
}

describe('SD-1.5-layout UNet exported by torch 1.13 (tiny, random weights) against PyTorch golden gradients', () => {
  it('finders locate the drag features and every self-attention as the model description declares', () => {
    const model = unet();
    expect(findBlockOutput(model, 'up_blocks.2')).toBe(description.features.tensor);
    const self = findAttentions(model, 'self');
    expect(self.map((l) => ({ module: l.module, q: l.query, k: l.key, v: l.value }))).toEqual(description.selfAttention.map(({ module, q, k, v }) => ({ module, q, k, v })));
    expect(findAttentions(model, 'cross').length).toBe(self.length);
    expect(findProjections(model).length).toBe(8 * self.length);
  });

  it('backward graphs (latent; LoRA A/B) use the default domain only and ops with WebGPU kernels', () => {
    const forbidden = ['ScatterElements', 'ScatterND', 'Sign', 'Max', 'Min', 'And', 'ConstantOfShape', 'GroupNormalization'];
    const { model, names } = withLora();
    const wrt = ['sample', ...Object.values(names).flatMap((n) => [n.down, n.up])];
    for (const [m, w] of [[unet(), ['sample']], [model, wrt]] as const) {
      const vjp = buildVjp(m, { wrt: [...w], of: [description.features.tensor], mode: 'split', inputShapes: shapes });
      for (const g of [vjp.forward.model, vjp.backward.model]) expect(g.opsetImports).toEqual([{ domain: '', version: 17 }]);
      const ops = new Set(vjp.backward.model.graph.nodes.map((n) => `${n.domain}:${n.opType}`));
      for (const op of ops) expect(op.startsWith(':'), op).toBe(true);
      for (const op of forbidden) expect(ops.has(`:${op}`), op).toBe(false);
    }
  });

  it('split VJP of the up_blocks.2 features w.r.t. the latent', async () => {
    const { fwd, grads } = await splitVjp(unet(), ['sample'], inputs());
    expectGolden((fwd[description.features.tensor] as Value).data, 'features');
    expectGolden(grads.sample as Float32Array, 'grad_sample');
  });

  it('LoRA (rank 4, α 8) on the four projections of an up_blocks.2 self-attention: gradients w.r.t. latent, A and B', async () => {
    const { model, feeds, names } = withLora();
    const wrt = ['sample', ...Object.values(names).flatMap((n) => [n.down, n.up])];
    const { fwd, grads } = await splitVjp(model, wrt, feeds);
    expectGolden((fwd[description.features.tensor] as Value).data, 'features_lora');
    expectGolden(grads.sample as Float32Array, 'grad_sample_lora');
    for (const p of Object.keys(names)) {
      expectGolden(grads[loraName(p, 'A')] as Float32Array, `grad_A_${p}`);
      expectGolden(grads[loraName(p, 'B')] as Float32Array, `grad_B_${p}`);
    }
  });

  it('merging the LoRA into the weights gives the LoRA model’s output', async () => {
    const base = unet();
    const { adapters } = insertLora(base, Object.values(golden.lora.nodes), { rank: 4, alpha: 8 });
    const values = Object.fromEntries(adapters.flatMap((a) => {
      const p = Object.keys(golden.lora.nodes).find((q) => golden.lora.nodes[q] === a.node) as string;
      return [[a.down, g(loraName(p, 'A')).data], [a.up, g(loraName(p, 'B')).data]];
    }));
    const merged = mergeLora(base, adapters, values);
    const r = await Runner.create(merged);
    expectGolden(((await r.run(inputs())).out_sample as Value).data, 'out_sample_lora');
    await r.release();
    // The base model's weights are untouched.
    const r0 = await Runner.create(base);
    expectGolden(((await r0.run(inputs())).out_sample as Value).data, 'out_sample');
    await r0.release();
  });

  it('pinning timestep and text embedding folds the time MLP and cross-attention K/V, same output', async () => {
    const model = unet();
    const pinned = pinInputs(model, { timestep: f32([1], g('timestep').data), encoder_hidden_states: f32([1, 77, 16], g('encoder_hidden_states').data) }, { sample: shapes.sample });
    expect(pinned.graph.inputs.map((v) => v.name)).toEqual(['sample']);
    const names = pinned.graph.nodes.map((n) => n.name);
    expect(names.some((n) => n.startsWith('/time_embedding/'))).toBe(false);
    expect(names.some((n) => /attn2\/to_[kv]\/MatMul$/.test(n))).toBe(false);
    expect(pinned.graph.nodes.length).toBeLessThan(model.graph.nodes.length * 0.8);
    const r = await Runner.create(pinned);
    expectGolden(((await r.run({ sample: g('sample') })).out_sample as Value).data, 'out_sample');
    await r.release();
    const { grads } = await splitVjp(pinned, ['sample'], { sample: g('sample') });
    expectGolden(grads.sample as Float32Array, 'grad_sample');
  });

  it('mutual self-attention: up_blocks.2 self-attentions read K/V from inputs; the source’s own K/V reproduce it', async () => {
    const model = unet();
    const layers = findAttentions(model, 'self').filter((l) => l.module.startsWith('up_blocks.2.'));
    expect(layers.length).toBe(2);
    const exposed = exposeOutputs(model, layers.flatMap((l) => [l.key, l.value]), shapes);
    const r0 = await Runner.create(exposed);
    const src = await r0.run(inputs());
    await r0.release();
    const { model: masa, inputs: kv } = replaceKeysValues(model, layers, shapes);
    expect(masa.graph.nodes.some((n) => n.name === layers[0]!.nodes.key)).toBe(false);
    const feeds: Record<string, Value> = inputs();
    kv.forEach((io, i) => {
      feeds[io.key] = src[layers[i]!.key] as Value;
      feeds[io.value] = src[layers[i]!.value] as Value;
    });
    const r1 = await Runner.create(masa);
    expectGolden(((await r1.run(feeds)).out_sample as Value).data, 'out_sample');
    // Another branch's latent with the source's K/V differs from that latent's plain output.
    const edited = { ...feeds, sample: { data: g('sample').data.map((v) => 0.9 * v + 0.1), dims: shapes.sample } };
    const a = ((await r1.run(edited)).out_sample as Value).data;
    const r2 = await Runner.create(model);
    const b = ((await r2.run({ ...inputs(), sample: edited.sample })).out_sample as Value).data;
    expect(allCloseMessage(a, b, { atol: 1e-4, rtol: 0 })).toBeDefined();
    await r1.release();
    await r2.release();
  });

  it('split VJP under onnxruntime-web (WASM) matches the golden gradient too', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const { grads } = await splitVjp(unet(), ['sample'], inputs(), ortWeb as unknown as Ort);
    expectGolden(grads.sample as Float32Array, 'grad_sample');
  });
});
