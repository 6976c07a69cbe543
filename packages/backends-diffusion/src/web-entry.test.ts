import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '@stabledrag/core/conformance';
import { layoutModelDir, loadDiffusionBackend as loadNode } from './node.js';
import { loadDiffusionBackend as loadWeb } from './web.js';
import type { OrtRuntime } from './ort-runtime.js';

// The web entry fetches the model folder; here fetch reads files so it runs under Node.
const fileFetch = (async (url: URL | string) => {
  try {
    return new Response(await readFile(new URL(String(url))));
  } catch {
    return new Response(null, { status: 404 });
  }
}) as typeof fetch;

describe('web entry (onnxruntime-web WASM, run in Node)', () => {
  it('gives the same latent, features, gradients and image as onnxruntime-node', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const web = await loadWeb({ baseUrl: pathToFileURL(layoutModelDir), fetch: fileFetch, runtime: ortWeb as unknown as OrtRuntime });
    const node = await loadNode({ modelDir: layoutModelDir });
    expect(web.info).toEqual(node.info);
    const latent = await node.createLatent({ type: 'seed', seed: 2 });
    const latentWeb = await web.createLatent({ type: 'seed', seed: 2 });
    expectAllClose(latentWeb.optimized, latent.optimized, { atol: 1e-4, rtol: 1e-4 });
    const [pn, pw] = [await node.forward(latent), await web.forward(latent)];
    expectAllClose(pw.features.data, pn.features.data, { atol: 1e-4, rtol: 1e-4 });
    const u = Float32Array.from(pn.features.data, (_, i) => Math.cos(0.3 * i));
    expectAllClose(await pw.vjp(u), await pn.vjp(u), { atol: 1e-3, rtol: 1e-3 });
    const [imgNode, imgWeb] = [await node.render(latent), await web.render(latent)];
    expectAllClose(imgWeb.data, imgNode.data, { atol: 2, rtol: 0 });
    await Promise.all([web.dispose(), node.dispose()]);
  });

  it('hands graphs over the threshold to onnxruntime-web with the externalData option (threshold forced to 0)', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const external: boolean[] = [];
    const runtime = ortWeb as unknown as OrtRuntime;
    const recording: OrtRuntime = {
      ...runtime,
      InferenceSession: {
        create: (model, options) => {
          external.push(options?.externalData?.length === 1);
          return runtime.InferenceSession.create(model, options);
        },
      },
    };
    const web = await loadWeb({ baseUrl: pathToFileURL(layoutModelDir), fetch: fileFetch, runtime: recording, externalData: { threshold: 0 } });
    const node = await loadNode({ modelDir: layoutModelDir });
    expect(external).toEqual(Array<boolean>(8).fill(true));
    const latent = await node.createLatent({ type: 'seed', seed: 5 });
    const [pn, pw] = [await node.forward(latent), await web.forward(latent)];
    expectAllClose(pw.features.data, pn.features.data, { atol: 1e-4, rtol: 1e-4 });
    const u = Float32Array.from(pn.features.data, (_, i) => Math.sin(0.2 * i));
    expectAllClose(await pw.vjp(u), await pn.vjp(u), { atol: 1e-3, rtol: 1e-3 });
    await Promise.all([web.dispose(), node.dispose()]);
  });

  it('names a missing file by URL', async () => {
    await expect(loadWeb({ baseUrl: pathToFileURL('/nonexistent/sd/'), fetch: fileFetch, runtime: ortWeb as unknown as OrtRuntime })).rejects.toThrow(
      /file:\/\/\/nonexistent\/sd is not a diffusion model folder: model_index.json is missing/,
    );
  });
});
