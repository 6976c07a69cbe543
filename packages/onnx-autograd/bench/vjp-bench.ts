/**
 * Forward vs. VJP timings of a StyleGAN2-like generator of the default model's size.
 *
 *   pnpm bench [path/to/synthesis.onnx]
 *
 * Model: argument, else packages/backends-gan/models/default/synthesis.onnx, else a random
 * generator of the same size exported by `tools/golden/make_autograd_golden.py --bench-model
 * packages/onnx-autograd/bench/.cache/default-size`. Each configuration runs in its own child
 * process so that peak RSS is per configuration. onnxruntime-node CPU, 1 intra-op thread unless
 * BENCH_THREADS is set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildVjp, loadModel, serializeModel } from '../src/index';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, '.cache');
const threads = Number(process.env.BENCH_THREADS ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

interface ChildResult { medianMs: number; minMs: number; peakRssMB: number; forwardPartMs?: number; backwardPartMs?: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function randn(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

type Step = () => Promise<{ fwdMs?: number; bwdMs?: number }>;

async function runtime(rt: 'node' | 'wasm'): Promise<typeof ort> {
  if (rt === 'node') return ort;
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = 1;
  return web as unknown as typeof ort;
}

async function makeStep(kind: string, rt: 'node' | 'wasm' = 'node'): Promise<Step> {
  const ort = await runtime(rt);
  const spec = JSON.parse(readFileSync(join(cache, 'spec.json'), 'utf8')) as { wsDims: number[]; featDims: number[]; imageDims: number[] };
  const opts: ort.InferenceSession.SessionOptions =
    rt === 'node' ? { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' } : { graphOptimizationLevel: 'all' };
  const ws = new ort.Tensor('float32', randn(spec.wsDims.reduce((a, b) => a * b, 1), 1), spec.wsDims);
  const cot = new ort.Tensor('float32', randn(spec.featDims.reduce((a, b) => a * b, 1), 2), spec.featDims);
  const imgCot = new ort.Tensor('float32', randn(spec.imageDims.reduce((a, b) => a * b, 1), 3), spec.imageDims);
  if (kind === 'forward') {
    const s = await ort.InferenceSession.create(readFileSync(join(cache, 'forward.onnx')), opts);
    return async () => { await s.run({ ws }); return {}; };
  }
  if (kind === 'recompute') {
    const s = await ort.InferenceSession.create(readFileSync(join(cache, 'recompute.onnx')), opts);
    return async () => { await s.run({ ws, features_grad: cot }); return {}; };
  }
  const prefix = kind === 'split-image' ? 'split-image' : 'split';
  const f = await ort.InferenceSession.create(readFileSync(join(cache, `${prefix}-forward.onnx`)), opts);
  const b = await ort.InferenceSession.create(readFileSync(join(cache, `${prefix}-backward.onnx`)), opts);
  return async () => {
    const t0 = performance.now();
    const outs = await f.run({ ws });
    const t1 = performance.now();
    const avail: Record<string, ort.Tensor> = { ws, features_grad: cot, image_grad: imgCot, ...outs };
    const feeds: Record<string, ort.Tensor> = {};
    for (const n of b.inputNames) feeds[n] = avail[n] as ort.Tensor;
    await b.run(feeds);
    return { fwdMs: t1 - t0, bwdMs: performance.now() - t1 };
  };
}

/** Peak RSS of one configuration, alone in a fresh process. */
async function child(kind: string): Promise<void> {
  const step = await makeStep(kind);
  for (let i = 0; i < 3; i++) await step();
  process.stdout.write(`RESULT ${JSON.stringify({ peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  const candidates = [
    arg && resolve(arg),
    join(here, '../../backends-gan/models/default/synthesis.onnx'),
    join(cache, 'default-size/synthesis.onnx'),
  ].filter((p): p is string => !!p);
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    console.error('No model. Run: /usr/bin/python3 tools/golden/make_autograd_golden.py --bench-model packages/onnx-autograd/bench/.cache/default-size');
    process.exit(1);
  }
  mkdirSync(cache, { recursive: true });
  const model = loadModel(readFileSync(path));
  const ws = model.graph.inputs.find((v) => v.name === 'ws');
  const t0 = performance.now();
  const split = buildVjp(model, { wrt: ['ws'], of: ['features'], mode: 'split', keepOutputs: ['image'] });
  const buildSplitMs = performance.now() - t0;
  const t1 = performance.now();
  const rec = buildVjp(model, { wrt: ['ws'], of: ['features'], mode: 'recompute', keepOutputs: ['image'] });
  const buildRecomputeMs = performance.now() - t1;
  writeFileSync(join(cache, 'forward.onnx'), readFileSync(path));
  writeFileSync(join(cache, 'recompute.onnx'), serializeModel(rec.model));
  writeFileSync(join(cache, 'split-forward.onnx'), serializeModel(split.forward.model));
  writeFileSync(join(cache, 'split-backward.onnx'), serializeModel(split.backward.model));
  const splitImage = buildVjp(model, { wrt: ['ws'], of: ['image'], mode: 'split', keepOutputs: ['features'] });
  writeFileSync(join(cache, 'split-image-forward.onnx'), serializeModel(splitImage.forward.model));
  writeFileSync(join(cache, 'split-image-backward.onnx'), serializeModel(splitImage.backward.model));
  const imageOut = splitImage.forward.model.graph.outputs.find((o) => o.name === 'image');
  const featOut = split.forward.model.graph.outputs.find((o) => o.name === 'features');
  writeFileSync(join(cache, 'spec.json'), JSON.stringify({ wsDims: ws?.shape, featDims: featOut?.shape, imageDims: imageOut?.shape }));
  const residualMB = split.forward.model.graph.outputs
    .filter((o) => split.forward.residuals.includes(o.name))
    .reduce((s, o) => s + (o.shape as number[]).reduce((a, b) => a * b, 1) * 4, 0) / 2 ** 20;

  const kinds = ['forward', 'split', 'recompute', 'split-image'];
  const results: Record<string, ChildResult> = {};
  for (const kind of kinds) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', kind], { encoding: 'utf8' });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`child ${kind} failed: ${r.stderr}`);
    results[kind] = { medianMs: 0, minMs: 0, ...(JSON.parse(line.slice(7)) as { peakRssMB: number }) };
  }
  // Timings interleaved in one process, so that load from other jobs hits every configuration alike.
  const steps = await Promise.all(kinds.map((k) => makeStep(k)));
  const times = kinds.map(() => [] as number[]);
  const parts = kinds.map(() => ({ f: [] as number[], b: [] as number[] }));
  for (let i = 0; i < RUNS + 2; i++) {
    for (let k = 0; k < kinds.length; k++) {
      const t = performance.now();
      const p = await (steps[k] as Step)();
      if (i < 2) continue;
      (times[k] as number[]).push(performance.now() - t);
      if (p.fwdMs !== undefined) (parts[k] as { f: number[] }).f.push(p.fwdMs);
      if (p.bwdMs !== undefined) (parts[k] as { b: number[] }).b.push(p.bwdMs);
    }
  }
  kinds.forEach((kind, k) => {
    const r = results[kind] as ChildResult;
    r.medianMs = median(times[k] as number[]);
    r.minMs = Math.min(...(times[k] as number[]));
    const pk = parts[k] as { f: number[]; b: number[] };
    if (pk.f.length) {
      r.forwardPartMs = median(pk.f);
      r.backwardPartMs = median(pk.b);
    }
    console.log(kind, r);
  });
  const wasm: Record<string, { medianMs: number; minMs: number }> = {};
  if (process.env.BENCH_WASM !== '0') {
    const wk = ['forward', 'split'];
    const ws = await Promise.all(wk.map((k) => makeStep(k, 'wasm')));
    const wt = wk.map(() => [] as number[]);
    const wr = Math.min(RUNS, 5);
    for (let i = 0; i < wr + 1; i++) {
      for (let k = 0; k < wk.length; k++) {
        const t = performance.now();
        await (ws[k] as Step)();
        if (i > 0) (wt[k] as number[]).push(performance.now() - t);
      }
    }
    wk.forEach((k, i) => { wasm[k] = { medianMs: median(wt[i] as number[]), minMs: Math.min(...(wt[i] as number[])) }; });
    console.log('wasm', wasm);
  }
  const fwd = (results.forward as ChildResult).medianMs;
  const fwdMin = (results.forward as ChildResult).minMs;
  const summary = {
    date: new Date().toISOString(),
    model: path.includes('.cache') ? 'random StyleGAN2-like generator, default-model size (tools/golden --bench-model)' : path,
    machine: `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, onnxruntime-node ${ort.env.versions.common} CPU EP, ${threads} intra-op thread(s)`,
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(1)),
    wsShape: ws?.shape,
    featuresShape: featOut?.shape,
    runs: RUNS,
    buildVjpMs: { split: Math.round(buildSplitMs), recompute: Math.round(buildRecomputeMs) },
    residuals: { count: split.forward.residuals.length, MB: Number(residualMB.toFixed(1)) },
    nodes: {
      forward: model.graph.nodes.length,
      splitForward: split.forward.model.graph.nodes.length,
      splitBackward: split.backward.model.graph.nodes.length,
      recompute: rec.model.graph.nodes.length,
    },
    results,
    wasm,
    ratios: {
      splitVjpOverForward: Number(((results.split as ChildResult).medianMs / fwd).toFixed(2)),
      recomputeOverForward: Number(((results.recompute as ChildResult).medianMs / fwd).toFixed(2)),
      splitImageVjpOverForward: Number(((results['split-image'] as ChildResult).medianMs / fwd).toFixed(2)),
    },
  };
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const row = (k: string, label: string): string => {
    const r = results[k] as ChildResult;
    const split = r.forwardPartMs !== undefined ? `${r.forwardPartMs.toFixed(1)} + ${(r.backwardPartMs ?? 0).toFixed(1)}` : '';
    return `| ${label} | ${r.medianMs.toFixed(1)} | ${split} | ${r.minMs.toFixed(1)} | ${(r.medianMs / fwd).toFixed(2)}× | ${(r.minMs / fwdMin).toFixed(2)}× | ${r.peakRssMB.toFixed(0)} |`;
  };
  const md = `# onnx-autograd bench

Generated by \`pnpm bench\` (bench/vjp-bench.ts) on ${summary.date}.

- Model: ${summary.model}; ws ${JSON.stringify(summary.wsShape)}, features ${JSON.stringify(summary.featuresShape)}
- Machine: ${summary.machine} (1-minute load average ${summary.loadAverage1m} at the end: shared with other jobs. The configurations run interleaved in one process, ${RUNS} rounds after 2 warm-up rounds; peak RSS comes from a separate process per configuration)
- VJP of \`features\` w.r.t. \`ws\`; the forward also returns \`image\` in every configuration.
- buildVjp: split ${summary.buildVjpMs.split} ms, recompute ${summary.buildVjpMs.recompute} ms.
  Split residuals: ${summary.residuals.count} tensors, ${summary.residuals.MB} MB.
- Nodes: forward ${summary.nodes.forward}, split forward ${summary.nodes.splitForward}, split backward ${summary.nodes.splitBackward}, recompute ${summary.nodes.recompute}.

| configuration | median ms | of which fwd + bwd | min ms | median / forward | min / forward | peak RSS MB |
|---|---|---|---|---|---|---|
${row('forward', 'forward (original model)')}
${row('split', 'VJP, split mode (forward with residuals + backward)')}
${row('recompute', 'VJP, recompute mode (one model)')}
${row('split-image', 'VJP of \`image\` (whole network), split mode')}

Target: split-mode VJP ≤ 2.5× the forward → **${summary.ratios.splitVjpOverForward}×** for \`features\`
(the drag loss), **${summary.ratios.splitImageVjpOverForward}×** when differentiating the full-resolution \`image\`.
Peak RSS is the child process's maximum resident set (Node + onnxruntime + sessions).
${wasm.forward && wasm.split ? `
onnxruntime-web ${'WASM'} in Node (1 thread, ${Math.min(RUNS, 5)} rounds): forward ${wasm.forward.medianMs.toFixed(1)} ms, split-mode VJP of \`features\`
${wasm.split.medianMs.toFixed(1)} ms (${(wasm.split.medianMs / wasm.forward.medianMs).toFixed(2)}×).
` : ''}`;
  // unet-bench.ts's section follows a marker; keep it when this part is rewritten.
  const unet = join(here, 'RESULTS-unet.md');
  writeFileSync(join(here, 'RESULTS.md'), existsSync(unet) ? `${md.trimEnd()}\n\n<!-- unet-bench -->\n${readFileSync(unet, 'utf8')}` : md);
  console.log(md);
}

if (process.argv[2] === '--child') await child(process.argv[3] ?? 'forward');
else await main();
