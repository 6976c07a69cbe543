/**
 * Drag-step speed of official-architecture StyleGAN2 generators (random weights, FFHQ config) at
 * 256 and 512 px: plain forward, forward with residuals, backward; residual bytes; peak RSS.
 *
 *   sh packages/backends-gan/bench/make-models.sh          # once: builds the models (Python, torch)
 *   npx tsx --conditions=@stabledrag/source packages/backends-gan/bench/gan-speed-bench.ts [256 512]
 *
 * Each model runs in its own child process (peak RSS per model). Within a process the three
 * passes are interleaved round by round, so machine noise hits all of them alike and their ratios
 * stay comparable. onnxruntime-node CPU, 1 intra-op thread unless BENCH_THREADS is set.
 * Writes bench/RESULTS.md and bench/results.json (the root bench merges RESULTS.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildGradientGraphs } from '../src/build-gradient-graphs';
import { parseModelConfig } from '../src/model-config';

const here = dirname(fileURLToPath(import.meta.url));
const models = join(here, '.bench-out', 'models');
const threads = Number(process.env.BENCH_THREADS ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

interface ModelResult {
  resolution: number;
  plainMs: number;
  forwardMs: number;
  backwardMs: number;
  residualMB: number;
  residualCount: number;
  peakRssMB: number;
  runs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = (a / 4294967296 - 0.5) * 2;
  }
  return out;
}

async function child(res: number): Promise<ModelResult> {
  const dir = join(models, `stylegan2-${res}`);
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')));
  const synthesis = new Uint8Array(readFileSync(join(dir, config.files.synthesis)));
  const prepared = buildGradientGraphs(synthesis, config);
  const g = prepared.gradients;
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const plain = await ort.InferenceSession.create(prepared.synthesis, opts);
  const forward = await ort.InferenceSession.create(g.forward, opts);
  const backward = await ort.InferenceSession.create(g.backward, opts);
  const { ws, features, image } = config.tensors;
  const wsT = new ort.Tensor('float32', noise(config.numWs * config.wDim, 1), [1, config.numWs, config.wDim]);
  const times = { plain: [] as number[], forward: [] as number[], backward: [] as number[] };
  let residualBytes = 0;
  // Round 0 warms the sessions up and is not counted.
  for (let round = 0; round <= RUNS; round++) {
    let t = performance.now();
    await plain.run({ [ws]: wsT }, [features, image]);
    const plainMs = performance.now() - t;
    t = performance.now();
    const out = await forward.run({ [ws]: wsT }, g.forwardOutputs);
    const forwardMs = performance.now() - t;
    const feat = out[features] as ort.Tensor;
    const feeds: Record<string, ort.Tensor> = { [g.cotangent]: new ort.Tensor('float32', noise(feat.size, 2), feat.dims) };
    for (const name of g.backwardInputs) if (name !== g.cotangent) feeds[name] = name === ws ? wsT : (out[name] as ort.Tensor);
    t = performance.now();
    await backward.run(feeds, [g.gradient]);
    const backwardMs = performance.now() - t;
    if (round === 0) {
      for (const name of g.forwardOutputs) if (name !== features && name !== image) residualBytes += (out[name] as ort.Tensor).size * 4;
      continue;
    }
    times.plain.push(plainMs);
    times.forward.push(forwardMs);
    times.backward.push(backwardMs);
  }
  return {
    resolution: res,
    plainMs: median(times.plain),
    forwardMs: median(times.forward),
    backwardMs: median(times.backward),
    residualMB: residualBytes / 2 ** 20,
    residualCount: g.forwardOutputs.length - 2,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    runs: RUNS,
  };
}

function render(results: ModelResult[]): string {
  const f = (x: number): string => x.toFixed(0);
  const L = [
    '# GAN backend: drag-step speed on official-architecture StyleGAN2 (random weights)',
    '',
    `Models: \`tools/import/fake_pickle.py\` (FFHQ config, channel_base 32768, channel_max 512, random weights) → \`tools/import/import_pkl.py\`, built by \`bench/make-models.sh\`; drag feature = the 128 px block (DragGAN's feature_idx 5). onnxruntime-node CPU, ${threads} intra-op thread(s), graph optimisation "all"; median of ${results[0]?.runs ?? RUNS} interleaved rounds (plain forward, forward with residuals, backward, in turn) after one warm-up round. Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]?.toFixed(1)} at the end (shared; absolute times are noisy, the ratios within a row come from the same rounds).`,
    '',
    '| resolution | plain forward ms | forward + residuals ms | backward ms | step ms | fwd+res / plain | step / plain | residuals | peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const step = r.forwardMs + r.backwardMs;
    L.push(`| ${r.resolution} px | ${f(r.plainMs)} | ${f(r.forwardMs)} | ${f(r.backwardMs)} | ${f(step)} | ${(r.forwardMs / r.plainMs).toFixed(2)}× | ${(step / r.plainMs).toFixed(2)}× | ${r.residualCount} tensors, ${r.residualMB.toFixed(0)} MB | ${f(r.peakRssMB)} |`);
  }
  L.push('', 'Targets (issue #18): forward with residuals ≤ 1.25× the plain forward, whole step ≤ 2.2× the plain forward.', '');
  return L.join('\n');
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg?.startsWith('--child=')) {
    process.stdout.write(`RESULT ${JSON.stringify(await child(Number(arg.slice(8))))}\n`);
    return;
  }
  const resolutions = process.argv.slice(2).map(Number);
  const results: ModelResult[] = [];
  for (const res of resolutions.length ? resolutions : [256, 512]) {
    if (!existsSync(join(models, `stylegan2-${res}`, 'model.json'))) {
      throw new Error(`No ${res} px model in ${models}: run \`sh packages/backends-gan/bench/make-models.sh ${res}\` first.`);
    }
    const run = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--child=${res}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`The ${res} px run failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const r = JSON.parse(line.slice(7)) as ModelResult;
    console.log(`${res} px: plain ${r.plainMs.toFixed(0)} ms, fwd+res ${r.forwardMs.toFixed(0)} ms, bwd ${r.backwardMs.toFixed(0)} ms, residuals ${r.residualMB.toFixed(0)} MB, peak RSS ${r.peakRssMB.toFixed(0)} MB`);
    results.push(r);
  }
  writeFileSync(join(here, 'results.json'), `${JSON.stringify({ threads, results }, null, 2)}\n`);
  writeFileSync(join(here, 'RESULTS.md'), render(results));
}

await main();
