/**
 * UNet VJP timings and memory: a ~1.4 GMAC Stable-Diffusion-layout UNet (attention at 16² and 8²
 * of a 32² latent), the drag's features (up_blocks.2 output) differentiated w.r.t. the latent,
 * and a LoRA gradient step.
 *
 *   pnpm bench            (runs vjp-bench.ts, then this)
 *   tsx bench/unet-bench.ts [path/to/unet/model.onnx]
 *
 * Model: argument, else bench/.cache/unet-embedded/model.onnx, which `bench/export_unet.py`
 * exports from tools/diffusion/networks.py (CONFIGS.embedded, random weights; run automatically
 * when missing). Each configuration's peak RSS comes from its own child process; timings are
 * interleaved in one process. onnxruntime-node CPU, 1 intra-op thread unless BENCH_THREADS is set.
 * Writes bench/unet-results.json and the "UNet" section of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildVjp, findBlockOutput, findProjections, insertLora, loadModel, pinInputs, serializeModel, type SplitVjp } from '../src/index';
import { f32 as f32Tensor } from '../src/tensor';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, '.cache', 'unet');
const threads = Number(process.env.BENCH_THREADS ?? 1);
// More rounds than vjp-bench: a UNet round is ~0.7 s and load from other jobs is bursty.
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const LORA_RANK = 16;

interface Spec { shapes: Record<string, number[]>; macs: number; params: number; feature: string; source: string }
interface Result { medianMs: number; minMs: number; peakRssMB: number; forwardPartMs?: number; backwardPartMs?: number }
type Step = () => Promise<{ fwdMs?: number; bwdMs?: number }>;

const numel = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

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

/** Configurations: a plain forward, or a split VJP (forward with residuals, then backward). */
const KINDS = {
  forward: 'forward (original model)',
  split: 'VJP of the features w.r.t. the latent, split mode (a drag step without mask: the forward stops at up_blocks.2)',
  'split-keep': 'same, the forward also returns out_sample (runs the whole UNet)',
  'split-mask': 'VJP of features and out_sample (drag with a mask term), split mode',
  'pinned-forward': 'forward, timestep and text embedding pinned and folded',
  'pinned-split': 'VJP of the features, pinned model, split mode (forward stops at up_blocks.2)',
  lora: `LoRA gradient step: rank ${LORA_RANK} on to_q/k/v/out.0 of every attention, VJP of out_sample w.r.t. all A and B`,
} as const;
type Kind = keyof typeof KINDS;

function inputsFor(spec: Spec): Record<string, ort.Tensor> {
  const s = spec.shapes;
  return {
    sample: new ort.Tensor('float32', randn(numel(s.sample as number[]), 1), s.sample as number[]),
    timestep: new ort.Tensor('float32', Float32Array.of(681), [1]),
    encoder_hidden_states: new ort.Tensor('float32', randn(numel(s.encoder_hidden_states as number[]), 2), s.encoder_hidden_states as number[]),
  };
}

async function makeStep(kind: Kind, spec: Spec): Promise<Step> {
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const io = JSON.parse(readFileSync(join(cache, `${kind}.json`), 'utf8')) as { cotangents: Record<string, string>; cotangentShapes: Record<string, number[]> };
  const base = inputsFor(spec);
  const feeds0: Record<string, ort.Tensor> = { ...base };
  for (const [name, dims] of Object.entries(io.cotangentShapes)) feeds0[name] = new ort.Tensor('float32', randn(numel(dims), 3), dims);
  if (kind === 'lora') {
    for (const [name, dims] of Object.entries(JSON.parse(readFileSync(join(cache, 'lora-inputs.json'), 'utf8')) as Record<string, number[]>)) {
      feeds0[name] = new ort.Tensor('float32', randn(numel(dims), 4).map((v) => v / LORA_RANK), dims);
    }
  }
  if (kind === 'forward' || kind === 'pinned-forward') {
    const s = await ort.InferenceSession.create(readFileSync(join(cache, `${kind}.onnx`)), opts);
    const feeds = Object.fromEntries(s.inputNames.map((n) => [n, feeds0[n] as ort.Tensor]));
    return async () => { await s.run(feeds); return {}; };
  }
  const f = await ort.InferenceSession.create(readFileSync(join(cache, `${kind}-forward.onnx`)), opts);
  const b = await ort.InferenceSession.create(readFileSync(join(cache, `${kind}-backward.onnx`)), opts);
  const fFeeds = Object.fromEntries(f.inputNames.map((n) => [n, feeds0[n] as ort.Tensor]));
  return async () => {
    const t0 = performance.now();
    const outs = await f.run(fFeeds);
    const t1 = performance.now();
    const avail: Record<string, ort.Tensor> = { ...feeds0, ...outs };
    await b.run(Object.fromEntries(b.inputNames.map((n) => [n, avail[n] as ort.Tensor])));
    return { fwdMs: t1 - t0, bwdMs: performance.now() - t1 };
  };
}

async function child(kind: Kind): Promise<void> {
  const spec = JSON.parse(readFileSync(join(cache, 'spec.json'), 'utf8')) as Spec;
  const step = await makeStep(kind, spec);
  for (let i = 0; i < 3; i++) await step();
  process.stdout.write(`RESULT ${JSON.stringify({ peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function findModel(): { path: string; spec: Omit<Spec, 'feature' | 'source'> } {
  const arg = process.argv[2];
  const exported = join(here, '.cache', 'unet-embedded');
  if (arg) {
    const model = loadModel(readFileSync(resolve(arg)));
    const shapes = Object.fromEntries(model.graph.inputs.map((v) => [v.name, (v.shape ?? []).map((d) => (typeof d === 'number' ? d : 1))]));
    return { path: resolve(arg), spec: { shapes, macs: Number.NaN, params: Number.NaN } };
  }
  if (!existsSync(join(exported, 'model.onnx'))) {
    console.log('exporting the bench UNet: /usr/bin/python3 bench/export_unet.py');
    const r = spawnSync('/usr/bin/python3', [join(here, 'export_unet.py'), exported], { encoding: 'utf8', stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench/export_unet.py failed (needs /usr/bin/python3 with torch and onnx); pass a UNet model.onnx instead');
  }
  const s = JSON.parse(readFileSync(join(exported, 'spec.json'), 'utf8')) as { macs: number; params: number; shapes: Record<string, number[]> };
  return { path: join(exported, 'model.onnx'), spec: s };
}

function residualMB(vjp: SplitVjp): number {
  return vjp.forward.model.graph.outputs.filter((o) => vjp.forward.residuals.includes(o.name)).reduce((s, o) => s + numel(o.shape as number[]) * 4, 0) / 2 ** 20;
}

function save(kind: Kind, vjp: SplitVjp, of: string[]): { residuals: number; MB: number } {
  writeFileSync(join(cache, `${kind}-forward.onnx`), serializeModel(vjp.forward.model));
  writeFileSync(join(cache, `${kind}-backward.onnx`), serializeModel(vjp.backward.model));
  const shapes = Object.fromEntries(of.map((o) => [vjp.backward.cotangents[o] as string, vjp.forward.model.graph.outputs.find((v) => v.name === o)?.shape as number[]]));
  writeFileSync(join(cache, `${kind}.json`), JSON.stringify({ cotangents: vjp.backward.cotangents, cotangentShapes: shapes }));
  return { residuals: vjp.forward.residuals.length, MB: Number(residualMB(vjp).toFixed(1)) };
}

async function main(): Promise<void> {
  mkdirSync(cache, { recursive: true });
  const { path, spec: s0 } = findModel();
  const model = loadModel(readFileSync(path));
  const feature = findBlockOutput(model, 'up_blocks.2');
  const spec: Spec = { ...s0, feature, source: path };
  writeFileSync(join(cache, 'spec.json'), JSON.stringify(spec));
  const shapes = spec.shapes;
  const inputs = inputsFor(spec);
  const pinned = pinInputs(model, {
    timestep: f32Tensor([1], inputs.timestep?.data as Float32Array),
    encoder_hidden_states: f32Tensor(shapes.encoder_hidden_states as number[], inputs.encoder_hidden_states?.data as Float32Array),
  }, { sample: shapes.sample as number[] });
  const build: Record<string, number> = {};
  const timed = <T>(k: string, f: () => T): T => { const t = performance.now(); const r = f(); build[k] = Math.round(performance.now() - t); return r; };
  writeFileSync(join(cache, 'forward.onnx'), serializeModel(model));
  writeFileSync(join(cache, 'pinned-forward.onnx'), serializeModel(pinned));
  for (const k of ['forward', 'pinned-forward']) writeFileSync(join(cache, `${k}.json`), JSON.stringify({ cotangents: {}, cotangentShapes: {} }));
  const residuals: Record<string, { residuals: number; MB: number }> = {};
  residuals.split = save('split', timed('split', () => buildVjp(model, { wrt: ['sample'], of: [feature], mode: 'split', inputShapes: shapes })), [feature]);
  residuals['split-keep'] = save('split-keep', buildVjp(model, { wrt: ['sample'], of: [feature], mode: 'split', keepOutputs: ['out_sample'], inputShapes: shapes }), [feature]);
  residuals['split-mask'] = save('split-mask', buildVjp(model, { wrt: ['sample'], of: [feature, 'out_sample'], mode: 'split', inputShapes: shapes }), [feature, 'out_sample']);
  residuals['pinned-split'] = save('pinned-split', timed('pinned-split', () => buildVjp(pinned, { wrt: ['sample'], of: [feature], mode: 'split' })), [feature]);
  // LoRA training step (noise-prediction loss at a random timestep): the text embedding is fixed.
  // Adapters first: pinning folds the cross-attention's plain K/V products away, not their LoRA terms.
  const { model: adapted, adapters } = insertLora(model, findProjections(model), { rank: LORA_RANK });
  const withLora = pinInputs(adapted, { encoder_hidden_states: f32Tensor(shapes.encoder_hidden_states as number[], inputs.encoder_hidden_states?.data as Float32Array) }, { sample: shapes.sample as number[], timestep: [1] });
  const loraWrt = adapters.flatMap((a) => [a.down, a.up]);
  writeFileSync(join(cache, 'lora-inputs.json'), JSON.stringify(Object.fromEntries(adapters.flatMap((a) => [[a.down, [a.rank, a.inFeatures]], [a.up, [a.outFeatures, a.rank]]]))));
  residuals.lora = save('lora', timed('lora', () => buildVjp(withLora, { wrt: loraWrt, of: ['out_sample'], mode: 'split' })), ['out_sample']);
  const loraParams = adapters.reduce((n, a) => n + a.rank * (a.inFeatures + a.outFeatures), 0);

  const kinds = Object.keys(KINDS) as Kind[];
  const results = {} as Record<Kind, Result>;
  for (const kind of kinds) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', kind], { encoding: 'utf8' });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`child ${kind} failed: ${r.stderr}`);
    results[kind] = { medianMs: 0, minMs: 0, ...(JSON.parse(line.slice(7)) as { peakRssMB: number }) };
  }
  const steps = await Promise.all(kinds.map((k) => makeStep(k, spec)));
  const times = kinds.map(() => [] as number[]);
  const parts = kinds.map(() => ({ f: [] as number[], b: [] as number[] }));
  for (let i = 0; i < RUNS + 2; i++) {
    for (let k = 0; k < kinds.length; k++) {
      const t = performance.now();
      const p = await (steps[k] as Step)();
      if (i < 2) continue;
      (times[k] as number[]).push(performance.now() - t);
      if (p.fwdMs !== undefined) (parts[k] as { f: number[] }).f.push(p.fwdMs);
      if (p.bwdMs !== undefined) (parts[k] as { b: number[] }).b.push(p.bwdMs as number);
    }
  }
  kinds.forEach((kind, k) => {
    const r = results[kind];
    r.medianMs = median(times[k] as number[]);
    r.minMs = Math.min(...(times[k] as number[]));
    const pk = parts[k] as { f: number[]; b: number[] };
    if (pk.f.length) { r.forwardPartMs = median(pk.f); r.backwardPartMs = median(pk.b); }
    console.log(kind, r);
  });
  const ratio = (a: Kind, b: Kind): number => Number((results[a].medianMs / results[b].medianMs).toFixed(2));
  const minRatio = (a: Kind, b: Kind): number => Number((results[a].minMs / results[b].minMs).toFixed(2));
  const summary = {
    date: new Date().toISOString(),
    model: spec.source.includes('.cache') ? 'random-weight UNet, tools/diffusion/networks.py CONFIGS.embedded (bench/export_unet.py)' : spec.source,
    macs: spec.macs,
    params: spec.params,
    shapes,
    feature,
    machine: `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, onnxruntime-node ${ort.env.versions.common} CPU EP, ${threads} intra-op thread(s)`,
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(1)),
    runs: RUNS,
    buildVjpMs: build,
    residuals,
    lora: { rank: LORA_RANK, adapters: adapters.length, params: loraParams },
    nodes: { forward: model.graph.nodes.length, pinned: pinned.graph.nodes.length },
    results,
    ratios: { split: ratio('split', 'forward'), splitKeep: ratio('split-keep', 'forward'), splitMask: ratio('split-mask', 'forward'), pinnedSplit: ratio('pinned-split', 'pinned-forward'), loraOverForward: ratio('lora', 'forward') },
    minRatios: { split: minRatio('split', 'forward'), pinnedSplit: minRatio('pinned-split', 'pinned-forward'), lora: minRatio('lora', 'forward') },
  };
  writeFileSync(join(here, 'unet-results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(here, 'RESULTS-unet.md'), render(summary, results));
  spliceIntoResults();
}

function render(s: { date: string; model: string; macs: number; params: number; feature: string; machine: string; loadAverage1m: number; buildVjpMs: Record<string, number>; residuals: Record<string, { residuals: number; MB: number }>; lora: { rank: number; adapters: number; params: number }; nodes: { forward: number; pinned: number }; ratios: Record<string, number>; minRatios: Record<string, number>; shapes: Record<string, number[]> }, results: Record<Kind, Result>): string {
  const base = (k: Kind): Kind => (k.startsWith('pinned') ? 'pinned-forward' : 'forward');
  const row = (k: Kind): string => {
    const r = results[k];
    const parts = r.forwardPartMs !== undefined ? `${r.forwardPartMs.toFixed(1)} + ${(r.backwardPartMs ?? 0).toFixed(1)}` : '';
    const res = s.residuals[k] ? `${s.residuals[k]?.residuals} / ${s.residuals[k]?.MB}` : '';
    return `| ${KINDS[k]} | ${r.medianMs.toFixed(1)} | ${parts} | ${r.minMs.toFixed(1)} | ${(r.medianMs / results[base(k)].medianMs).toFixed(2)}× | ${(r.minMs / results[base(k)].minMs).toFixed(2)}× | ${res} | ${r.peakRssMB.toFixed(0)} |`;
  };
  return `## UNet (diffusion): drag features and LoRA

Generated by \`bench/unet-bench.ts\` on ${s.date}.

- Model: ${s.model}; ${(s.macs / 1e9).toFixed(2)} GMAC per call, ${(s.params / 1e6).toFixed(1)} M parameters; sample ${JSON.stringify(s.shapes.sample)}, encoder_hidden_states ${JSON.stringify(s.shapes.encoder_hidden_states)}; ${s.nodes.forward} nodes (${s.nodes.pinned} with timestep and text embedding pinned and folded).
- Features: \`${s.feature}\` (up_blocks.2 output, found by \`findBlockOutput\`).
- Machine: ${s.machine} (1-minute load average ${s.loadAverage1m} at the end, shared with other jobs; configurations interleaved in one process, ${RUNS} rounds after 2 warm-up rounds; peak RSS from a separate process per configuration).
- buildVjp: ${Object.entries(s.buildVjpMs).map(([k, v]) => `${k} ${v} ms`).join(', ')}.
- LoRA: ${s.lora.adapters} adapters of rank ${s.lora.rank} (${(s.lora.params / 1e3).toFixed(0)} k parameters); the timestep stays an input (random per training step), the text embedding is pinned.

| configuration | median ms | of which fwd + bwd | min ms | median / forward | min / forward | residuals (tensors / MB) | peak RSS MB |
|---|---|---|---|---|---|---|---|
${(Object.keys(KINDS) as Kind[]).map(row).join('\n')}

Target: split-mode VJP of the drag features ≤ 2× the forward (of the whole UNet) → **${s.ratios.split}×** by medians, ${s.minRatios.split}× by minima (pinned model: **${s.ratios.pinnedSplit}×** / ${s.minRatios.pinnedSplit}× its forward);
${s.ratios.splitKeep}× when the forward also returns out_sample, ${s.ratios.splitMask}× with the mask term (gradient through out_sample too); a LoRA gradient step ${s.ratios.loraOverForward}× the forward.
Minima are the least disturbed rounds on this shared machine (its load swings medians by ±30% between runs).
Residuals are what the split forward hands to the backward. Peak RSS is the child process's maximum resident set (Node + onnxruntime + both sessions).
`;
}

/** RESULTS.md holds vjp-bench's section; ours follows a marker (vjp-bench keeps it when it rewrites). */
const UNET_MARKER = '<!-- unet-bench -->';
function spliceIntoResults(): void {
  const file = join(here, 'RESULTS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const head = current.split(UNET_MARKER)[0]?.trimEnd() ?? '';
  writeFileSync(file, `${head}\n\n${UNET_MARKER}\n${readFileSync(join(here, 'RESULTS-unet.md'), 'utf8')}`);
}

if (process.argv[2] === '--child') await child((process.argv[3] ?? 'forward') as Kind);
else await main();
