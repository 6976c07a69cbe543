import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '@stabledrag/core/conformance';
import { loadGanBackend as loadNode, tinyModelDir } from './node.js';
import { loadGanBackend as loadWeb } from './web.js';

// The web entry fetches the model folder; here fetch reads files so it runs under Node.
const fileFetch = (async (url: URL | string) => {
  const bytes = await readFile(new URL(String(url)));
  return new Response(bytes);
}) as typeof fetch;

describe('web entry (onnxruntime-web WASM, run in Node)', () => {
  it('gives the same features and gradients as onnxruntime-node', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const web = await loadWeb({ baseUrl: pathToFileURL(tinyModelDir), fetch: fileFetch });
    const node = await loadNode({ modelDir: tinyModelDir });
    const latent = await node.createLatent({ type: 'seed', seed: 2 });
    const latentWeb = await web.createLatent({ type: 'seed', seed: 2 });
    expectAllClose(latentWeb.optimized, latent.optimized, { atol: 1e-5, rtol: 1e-5 });
    const [pn, pw] = [await node.forward(latent), await web.forward(latent)];
    expectAllClose(pw.features.data, pn.features.data, { atol: 1e-4, rtol: 1e-4 });
    const u = Float32Array.from(pn.features.data, (_, i) => Math.cos(0.3 * i));
    expectAllClose(await pw.vjp(u), await pn.vjp(u), { atol: 1e-3, rtol: 1e-3 });
    const img = await web.render(latent);
    expect(img.width).toBe(32);
    await Promise.all([web.dispose(), node.dispose()]);
  });
});
