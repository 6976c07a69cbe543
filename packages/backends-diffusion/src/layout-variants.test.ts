import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '@stabledrag/core/conformance';
import { DataType, loadModel, serializeModel } from '@stabledrag/onnx-autograd';
import { layoutModelDir, loadDiffusionBackend } from './node.js';

/** A copy of the layout folder whose model.json says only what config.json files cannot. */
function bareFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sd-bare-'));
  cpSync(layoutModelDir, dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ name: 'bare', resolution: 64, vaeScaleFactor: 4 }));
  return dir;
}

describe('exports that differ from the project\'s own', () => {
  it('without tensor names in model.json, finds the features and attention layers by module names', async () => {
    const full = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const bare = await loadDiffusionBackend({ modelDir: bareFolder() });
    expect(bare.info).toEqual({ ...full.info, name: 'bare' });
    const latent = await full.createLatent({ type: 'seed', seed: 8 });
    expectAllClose((await bare.forward(latent)).features.data, (await full.forward(latent)).features.data, { atol: 0, rtol: 0 });
    const edited = { ...latent, optimized: Float32Array.from(latent.optimized, (v, i) => v + 0.2 * Math.cos(i)) };
    expectAllClose(await bare.denoise(edited), await full.denoise(edited), { atol: 0, rtol: 0 });
    await Promise.all([full.dispose(), bare.dispose()]);
  });

  it('takes an int64 timestep (optimum exports) as well as a float one', async () => {
    const dir = bareFolder();
    const unet = loadModel(readFileSync(join(dir, 'unet/model.onnx')), { externalData: (loc) => readFileSync(join(dir, 'unet', loc)) });
    const t = unet.graph.inputs.find((v) => v.name === 'timestep')!;
    expect(t.dtype).toBe(DataType.FLOAT);
    // The int64 input is cast to float inside the graph, as in exports whose timestep is int64.
    t.dtype = DataType.INT64;
    for (const n of unet.graph.nodes) n.inputs = n.inputs.map((x) => (x === 'timestep' ? 'timestep_as_float' : x));
    unet.graph.nodes.unshift({ name: '/timestep/Cast', opType: 'Cast', domain: '', inputs: ['timestep'], outputs: ['timestep_as_float'], attributes: { to: { type: 'int', value: DataType.FLOAT } } });
    writeFileSync(join(dir, 'unet/model.onnx'), serializeModel(unet));
    const asInt = await loadDiffusionBackend({ modelDir: dir });
    const asFloat = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const latent = await asFloat.createLatent({ type: 'seed', seed: 9 });
    expectAllClose(await asInt.predictNoise(latent.optimized, 681), await asFloat.predictNoise(latent.optimized, 681), { atol: 1e-6, rtol: 1e-6 });
    expectAllClose((await asInt.forward(latent)).features.data, (await asFloat.forward(latent)).features.data, { atol: 1e-6, rtol: 1e-6 });
    expectAllClose((await asInt.createLatent({ type: 'seed', seed: 9 })).optimized, latent.optimized, { atol: 1e-6, rtol: 1e-6 });
    await Promise.all([asInt.dispose(), asFloat.dispose()]);
  });

  it('takes the mean of an older VAE encoder that returns a random latent_sample', async () => {
    const dir = bareFolder();
    const vae = loadModel(readFileSync(join(dir, 'vae_encoder/model.onnx')));
    const params = 'latent_parameters';
    const g = vae.graph;
    const c = (name: string, dims: number[], values: number[]): void => {
      g.initializers.set(name, { dtype: DataType.INT64, dims, data: Float64Array.from(values) });
    };
    c('ch0', [1], [0]);
    c('ch4', [1], [4]);
    c('ch8', [1], [8]);
    c('axis1', [1], [1]);
    g.initializers.set('half', { dtype: DataType.FLOAT, dims: [], data: Float32Array.from([0.5]) });
    const node = (opType: string, inputs: string[], output: string, attributes = {}): void => {
      g.nodes.push({ name: `/old/${opType}_${output}`, opType, domain: '', inputs, outputs: [output], attributes });
    };
    // diffusers' DiagonalGaussianDistribution.sample(): mean + exp(0.5·logvar)·N(0, I).
    node('Slice', [params, 'ch0', 'ch4', 'axis1'], 'mean');
    node('Slice', [params, 'ch4', 'ch8', 'axis1'], 'logvar');
    node('Mul', ['logvar', 'half'], 'halfvar');
    node('Exp', ['halfvar'], 'std');
    node('RandomNormalLike', ['mean'], 'noise');
    node('Mul', ['std', 'noise'], 'scaled');
    node('Add', ['mean', 'scaled'], 'latent_sample');
    g.outputs = [{ name: 'latent_sample', dtype: DataType.FLOAT, shape: ['batch', 4, 'h', 'w'] }];
    writeFileSync(join(dir, 'vae_encoder/model.onnx'), serializeModel(vae));
    const old = await loadDiffusionBackend({ modelDir: dir });
    const cur = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const data = Uint8ClampedArray.from({ length: 64 * 64 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
    const image = { data, width: 64, height: 64 };
    expectAllClose((await old.encodeImage(image)).z0, (await cur.encodeImage(image)).z0, { atol: 1e-6, rtol: 1e-6 });
    await Promise.all([old.dispose(), cur.dispose()]);
  });
});
