/**
 * The e2e test's fixed GAN drag, run in Node on onnxruntime-node (native) and on onnxruntime-web's
 * WASM build, with the same method settings and a live image every step, so the page's time per
 * step (e2e/results.json) has a like-for-like baseline. Writes e2e/results-node.json.
 *
 * Run: pnpm --filter demo bench:node   (THREADS=n for the intra-op threads, default 1)
 */
import { readFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DragSession } from '@stabledrag/core';
import type { DragBackend } from '@stabledrag/core';
import { defaultModelDir, loadGanBackend } from '@stabledrag/backends-gan/node';
import { loadGanBackend as loadGanBackendWeb } from '@stabledrag/backends-gan/web';
import * as ortWeb from 'onnxruntime-web';
import { createDemoMethod } from '../src/methods.js';
import { defaultSettings } from '../src/settings.js';

const here = dirname(fileURLToPath(import.meta.url));
const threads = Number(process.env.THREADS ?? 1);
const seed = 0;
const pair = { handle: { x: 64, y: 72 }, target: { x: 70, y: 72 } };

async function time(name: string, backend: DragBackend, loadMs: number): Promise<Record<string, unknown>> {
  const latent = await backend.createLatent({ type: 'seed', seed });
  const s = defaultSettings(backend.info.imageWidth, backend.info.defaultLearningRate);
  const m = createDemoMethod(s);
  const parts: Record<string, number[]> = { total: [], forward: [], backward: [] };
  const r = await new DragSession({
    backend, tracker: m.tracker, supervisor: m.supervisor, latent, pairs: [pair], maxSteps: 300, learningRate: s.learningRate, withImages: true,
  }).run({
    onStep: (e) => {
      parts.total!.push(e.timings.total);
      parts.forward!.push(e.timings.forward);
      parts.backward!.push(e.timings.backward);
    },
  });
  const median = (a: number[]): number => Number(([...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0).toFixed(2));
  const out = {
    runtime: name, threads, stopReason: r.stopReason, steps: r.steps, loadMs: Math.round(loadMs), setupMs: Math.round(r.setupMs),
    msPerStep: { median: median(parts.total!), min: Number(Math.min(...parts.total!).toFixed(2)), forward: median(parts.forward!), backward: median(parts.backward!) },
  };
  console.log(JSON.stringify(out));
  await backend.dispose();
  return out;
}

let t0 = performance.now();
const native = await loadGanBackend({ sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } as never });
const results = [await time('onnxruntime-node', native, performance.now() - t0)];
ortWeb.env.wasm.numThreads = threads;
t0 = performance.now();
const web = await loadGanBackendWeb({
  baseUrl: 'file:///model/',
  executionProviders: ['wasm'],
  fetch: (async (url: URL) => new Response(await readFile(join(defaultModelDir, new URL(url).pathname.replace('/model/', ''))))) as typeof fetch,
});
results.push(await time('onnxruntime-web (WASM, in Node)', web, performance.now() - t0));
writeFileSync(join(here, 'results-node.json'), `${JSON.stringify({ date: new Date().toISOString(), seed, pair, results }, null, 2)}\n`);
