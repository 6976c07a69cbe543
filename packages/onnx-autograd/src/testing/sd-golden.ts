/* Test-only: the SD-1.5-layout test model folders of backends-diffusion (tools/diffusion/make_tiny.py)
 * and their PyTorch float64 golden data, read by relative path. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { buildVjp, feedsFor } from '../build-vjp';
import { loadModel, type OnnxModel } from '../model';
import { allCloseMessage, Runner, type Ort, type Value } from './harness';

export interface Golden {
  timestep: number;
  lora: { rank: number; alpha: number; nodes: Record<string, string> };
  loraAttn2: { rank: number; alpha: number; nodes: Record<string, string> };
  tensors: Record<string, { dtype: string; shape: number[]; offset: number; length: number }>;
}

export interface Description { features: { tensor: string }; selfAttention: { module: string; q: string; k: string; v: string }[] }

/**
 * Golden tolerance (tools/diffusion/README.md): |ours − golden| ≤ 1e-4 · max|golden| elementwise,
 * float32 onnxruntime against float64 torch (float32 torch is within ~1.5e-6 of float64 there).
 */
export function goldenFolder(name: string) {
  const root = fileURLToPath(new URL('../../../backends-diffusion/models/', import.meta.url));
  const dir = `${root}${name}/`;
  const golden = JSON.parse(readFileSync(`${root}${name}-golden/golden.json`, 'utf8')) as Golden;
  const bin = readFileSync(`${root}${name}-golden/golden.bin`);
  const description = JSON.parse(readFileSync(`${dir}model.json`, 'utf8')) as Description;
  const g = (t: string): Value => {
    const e = golden.tensors[t];
    if (!e) throw new Error(`golden has no '${t}'`);
    const data = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) data[i] = bin.readFloatLE(e.offset + 4 * i);
    return { data, dims: e.shape };
  };
  const expectGolden = (actual: ArrayLike<number>, t: string): void => {
    const e = g(t).data;
    const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(1e-3);
    const msg = allCloseMessage(actual, e, { atol: 1e-4 * scale, rtol: 0 });
    if (msg) throw new Error(`${name} ${t}: ${msg}`);
  };
  const unet = (): OnnxModel => loadModel(readFileSync(`${dir}unet/model.onnx`), { externalData: (loc) => readFileSync(`${dir}unet/${loc}`) });
  const shapes = { sample: g('sample').dims, timestep: [1], encoder_hidden_states: g('encoder_hidden_states').dims };
  const inputs = (): Record<string, Value> => ({ sample: g('sample'), timestep: g('timestep'), encoder_hidden_states: g('encoder_hidden_states') });
  /** Split VJP of the features with the golden cotangent: the forward's outputs and the gradients. */
  const splitVjp = async (model: OnnxModel, wrt: string[], feeds: Record<string, Value>, ort?: Ort, inputShapes: Record<string, number[]> = shapes): Promise<{ fwd: Record<string, Value>; grads: Record<string, Float32Array> }> => {
    const feat = description.features.tensor;
    const vjp = buildVjp(model, { wrt, of: [feat], mode: 'split', inputShapes });
    const f = await Runner.create(vjp.forward.model, ort);
    const fo = await f.run(feedsFor(vjp.forward, feeds));
    const b = await Runner.create(vjp.backward.model, ort);
    const bo = await b.run(feedsFor(vjp.backward, { ...feeds, ...fo, [vjp.backward.cotangents[feat] as string]: g('cotangent') }));
    await f.release();
    await b.release();
    return { fwd: fo, grads: Object.fromEntries(wrt.map((w) => [w, (bo[vjp.backward.gradients[w] as string] as Value).data])) };
  };
  return { golden, description, g, expectGolden, unet, shapes, inputs, splitVjp };
}
