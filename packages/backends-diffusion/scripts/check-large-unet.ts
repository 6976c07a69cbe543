/**
 * One-off check (too heavy for the test suite) that a UNet over protobuf's 2 GiB loads and drags:
 *
 *   pnpm --filter @stabledrag/backends-diffusion exec tsx --conditions=@stabledrag/source \
 *     scripts/check-large-unet.ts [--gib 2.2] [--threshold BYTES] [--copy-weights] [--no-masa]
 *
 * Builds a synthetic SD-layout folder: the layout model (sd15-layout-tiny) whose UNet input also
 * feeds a side branch holding `--gib` GiB of float32 weights in SD 1.5's proportions (57% 3×3
 * convolutions of [1280, 1024, 3, 3], 43% linear layers of [1024, 5120]). The branch's sum, scaled
 * by 2⁻⁶⁰, is added to the sample: ONNX Runtime cannot drop a weight (every one reaches the
 * output and the gradient), yet the results equal the unpadded model's to float rounding, which
 * the check compares. In a fresh process it then loads the folder with `loadDiffusionBackend`,
 * makes z_t from a seed, runs one drag step (forward + VJP) and renders, printing the times, the
 * resident memory (VmRSS/RssAnon/RssFile/VmHWM) and how many copies of the padded weights that is.
 * Finally it times SD-1.5-sized layers on ONNX Runtime to bound a real SD 1.5 call.
 *
 * --threshold forces the external-data path below 2 GiB (to compare with inline at small sizes);
 * --copy-weights opens the sessions with ONNX Runtime's defaults (`tempFileWeights({ shareWeights:
 * false })`: each session re-lays out and prepacks its own copy) instead of sharing the mapped
 * weights file; --no-masa skips the mutual self-attention UNet (one UNet session fewer).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DataType, serializeModel, serializeModelWithExternalData } from '@stabledrag/onnx-autograd';
import type { OnnxModel, OnnxNode, Tensor } from '@stabledrag/onnx-autograd';
import { DiffusionBackend, layoutModelDir, loadDiffusionBackend, readDiffusionModelDir, tempFileWeights } from '@stabledrag/backends-diffusion/node';
import type { OrtRuntime } from '@stabledrag/backends-diffusion/node';

const CONV = { out: 1280, in: 1024 };
const LINEAR = { in: 1024, out: 5120 };
const CONV_SHARE = 0.57;
const SCALE = 2 ** -60;

const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '2.2' },
    threshold: { type: 'string' },
    'copy-weights': { type: 'boolean', default: false },
    'no-masa': { type: 'boolean', default: false },
    measure: { type: 'string' },
  },
});

function node(opType: string, inputs: string[], outputs: string[], attributes: OnnxNode['attributes'] = {}): OnnxNode {
  return { name: `/pad/${outputs[0]}`, opType, domain: '', inputs, outputs, attributes };
}

/** Deterministic weights of ±0.01 (values do not matter: the branch is scaled away). */
function weights(n: number, seed: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (((i * 2654435761 + seed * 40503) >>> 0) % 2001) / 1e5 - 0.01;
  return w;
}

/** The UNet with the side branch of `bytes` bytes of weights described above. */
function padUnet(unet: OnnxModel, bytes: number): { model: OnnxModel; padded: number } {
  const convBytes = CONV.out * CONV.in * 9 * 4;
  const linearBytes = LINEAR.in * LINEAR.out * 4;
  const convs = Math.ceil((bytes * CONV_SHARE) / convBytes);
  const linears = Math.ceil((bytes * (1 - CONV_SHARE)) / linearBytes);
  const g = unet.graph;
  const inits = new Map(g.initializers);
  const i64 = (v: number[]) => ({ dtype: DataType.INT64, dims: [v.length], data: Float64Array.from(v) });
  inits.set('/pad/shape4', i64([1, CONV.in, 1, 1]));
  inits.set('/pad/shape2', i64([1, LINEAR.in]));
  inits.set('/pad/scale', { dtype: DataType.FLOAT, dims: [], data: Float32Array.of(SCALE) });
  const nodes: OnnxNode[] = [node('Reshape', ['sample', '/pad/shape4'], ['pad_x4']), node('Reshape', ['sample', '/pad/shape2'], ['pad_x2'])];
  const means: string[] = [];
  for (let i = 0; i < convs; i++) {
    inits.set(`/pad/conv${i}`, { dtype: DataType.FLOAT, dims: [CONV.out, CONV.in, 3, 3], data: weights(CONV.out * CONV.in * 9, i) });
    nodes.push(node('Conv', ['pad_x4', `/pad/conv${i}`], [`pad_c${i}`], { pads: { type: 'ints', value: [1, 1, 1, 1] } }));
    nodes.push(node('ReduceMean', [`pad_c${i}`], [`pad_cm${i}`], { keepdims: { type: 'int', value: 0 } }));
    means.push(`pad_cm${i}`);
  }
  for (let i = 0; i < linears; i++) {
    inits.set(`/pad/linear${i}`, { dtype: DataType.FLOAT, dims: [LINEAR.in, LINEAR.out], data: weights(LINEAR.in * LINEAR.out, 1000 + i) });
    nodes.push(node('MatMul', ['pad_x2', `/pad/linear${i}`], [`pad_l${i}`]));
    nodes.push(node('ReduceMean', [`pad_l${i}`], [`pad_lm${i}`], { keepdims: { type: 'int', value: 0 } }));
    means.push(`pad_lm${i}`);
  }
  nodes.push(node('Sum', means, ['pad_sum']), node('Mul', ['pad_sum', '/pad/scale'], ['pad_s']), node('Add', ['sample', 'pad_s'], ['pad_sample']));
  const rewired = g.nodes.map((n) => ({ ...n, inputs: n.inputs.map((x) => (x === 'sample' ? 'pad_sample' : x)) }));
  return { model: { ...unet, graph: { ...g, nodes: [...nodes, ...rewired], initializers: inits } }, padded: convs * convBytes + linears * linearBytes };
}

/** The layout folder with the padded UNet (external data: it is over 2 GiB). */
async function makeFolder(gib: number): Promise<{ dir: string; padded: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sd-large-unet-'));
  cpSync(layoutModelDir, dir, { recursive: true });
  const files = await readDiffusionModelDir(dir);
  const { model, padded } = padUnet(files.unet, gib * 2 ** 30);
  const { model: proto, data } = serializeModelWithExternalData(model, { location: 'model.onnx_data' });
  writeFileSync(join(dir, 'unet/model.onnx'), proto);
  // writeFile stops at 2 GiB per call.
  const file = await open(join(dir, 'unet/model.onnx_data'), 'w');
  for (let at = 0; at < data.byteLength; at += 2 ** 30) await file.write(data, at, Math.min(2 ** 30, data.byteLength - at), at);
  await file.close();
  return { dir, padded };
}

/**
 * Resident memory: RSS counts a page once per mapping, so weights mapped by five sessions count
 * five times; PSS (smaps_rollup) counts each page once, the memory actually taken.
 */
function memory(): { rss: number; pss: number; anon: number; file: number; peak: number; jsBuffers: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kib = (text: string, key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kib(status, 'VmRSS'), pss: kib(rollup, 'Pss'), anon: kib(status, 'RssAnon'), file: kib(status, 'RssFile'), peak: kib(status, 'VmHWM'), jsBuffers: process.memoryUsage().arrayBuffers };
}

const gib = (b: number): string => (b / 2 ** 30).toFixed(2);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

async function timed<T>(what: string, f: () => Promise<T>, times: Record<string, number>): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  times[what] = (performance.now() - t0) / 1000;
  return out;
}

/** The child process: load, z_t, one drag step, render; compared with the unpadded model. */
async function measure(dir: string, padded: number): Promise<void> {
  const small = await loadDiffusionBackend({ modelDir: layoutModelDir });
  const before = memory();
  const times: Record<string, number> = {};
  const threshold = args.threshold === undefined ? {} : { threshold: Number(args.threshold) };
  const big = await timed('load', async () => {
    const files = await readDiffusionModelDir(dir);
    const weights = tempFileWeights({ shareWeights: !args['copy-weights'] });
    return DiffusionBackend.create({ runtime: ort as unknown as OrtRuntime, files, mutualSelfAttention: !args['no-masa'], externalData: { weights, ...threshold } });
  }, times);
  global.gc?.();
  const loaded = memory();
  const latent = await timed('createLatent (seed, 15 UNet calls)', () => big.createLatent({ type: 'seed', seed: 0 }), times);
  const pass = await timed('drag step: forward', () => big.forward(latent), times);
  const u = Float32Array.from(pass.features.data, (_, i) => Math.cos(0.1 * i));
  const grad = await timed('drag step: vjp', () => pass.vjp(u), times);
  const image = await timed(`render (${args['no-masa'] ? 35 : 70} UNet calls)`, () => big.render(latent), times);
  const end = memory();
  const ref = await small.createLatent({ type: 'seed', seed: 0 });
  const refPass = await small.forward(ref);
  const diffs = {
    latent: maxDiff(latent.optimized, ref.optimized),
    features: maxDiff(pass.features.data, refPass.features.data),
    gradient: maxDiff(grad, await refPass.vjp(u)),
    image: maxDiff(image.data, (await small.render(ref)).data),
  };
  console.log(JSON.stringify({ paddedGiB: gib(padded), times, memoryGiB: { beforeLoad: mapGib(before), afterLoad: mapGib(loaded), end: mapGib(end) }, copies: copies(before, { afterLoad: loaded, end }, padded), maxDiffVsUnpadded: diffs }, null, 1));
  await Promise.all([big.dispose(), small.dispose()]);
}

/** Memory above the pre-load baseline in units of the padded weights' size. */
function copies(before: ReturnType<typeof memory>, at: Record<string, ReturnType<typeof memory>>, padded: number): Record<string, Record<string, string>> {
  const keys = ['rss', 'pss', 'anon', 'jsBuffers'] as const;
  return Object.fromEntries(Object.entries(at).map(([when, m]) => [when, Object.fromEntries(keys.map((k) => [k, ((m[k] - before[k]) / padded).toFixed(2)]))]));
}

function mapGib(m: ReturnType<typeof memory>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, gib(v)]));
}

/** GMAC/s of ONNX Runtime on one SD 1.5 ResNet conv (320 ch at 64×64) and one GEGLU-sized matmul. */
async function calibrate(): Promise<Record<string, number>> {
  const conv = { dtype: DataType.FLOAT, dims: [320, 320, 3, 3], data: weights(320 * 320 * 9, 7) };
  const lin = { dtype: DataType.FLOAT, dims: [320, 2560], data: weights(320 * 2560, 8) };
  const graphs: [string, OnnxModel, number[], number][] = [
    ['conv 320→320 3×3 @64×64', single(node('Conv', ['x', 'w'], ['y'], { pads: { type: 'ints', value: [1, 1, 1, 1] } }), conv, [1, 320, 64, 64]), [1, 320, 64, 64], 64 * 64 * 320 * 320 * 9],
    ['matmul 4096×320 · 320×2560', single(node('MatMul', ['x', 'w'], ['y']), lin, [1, 4096, 320]), [1, 4096, 320], 4096 * 320 * 2560],
  ];
  const rates: Record<string, number> = {};
  for (const [name, model, dims, macs] of graphs) {
    const s = await ort.InferenceSession.create(serializeModel(model), { graphOptimizationLevel: 'all' });
    const x = new ort.Tensor('float32', weights(dims.reduce((a, b) => a * b, 1), 3), dims);
    await s.run({ x });
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await s.run({ x });
    rates[`${name} GMAC/s`] = Number(((5 * macs) / ((performance.now() - t0) / 1000) / 1e9).toFixed(1));
    await s.release();
  }
  return rates;
}

function single(n: OnnxNode, w: Tensor, dims: number[]): OnnxModel {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'check-large-unet',
    producerVersion: '',
    graph: { name: 'g', nodes: [n], inputs: [{ name: 'x', dtype: DataType.FLOAT, shape: dims }], outputs: [{ name: 'y', dtype: DataType.FLOAT }], initializers: new Map([['w', w]]), valueInfo: [] },
  };
}

async function main(): Promise<void> {
  if (args.measure) {
    const [dir, padded] = args.measure.split(',');
    await measure(dir!, Number(padded));
    return;
  }
  const t0 = performance.now();
  const { dir, padded } = await makeFolder(Number(args.gib));
  console.log(`synthetic folder ${dir}: UNet padded with ${gib(padded)} GiB (${padded} bytes) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  try {
    // A fresh process, so its peak is the backend's, not this one's folder writing; sampled from
    // here, as the child's main thread blocks while ONNX Runtime creates a session.
    const rest = process.argv.slice(2).filter((a) => !a.startsWith('--measure'));
    const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), ...rest, `--measure=${dir},${padded}`], { stdio: 'inherit' });
    const peak = { rss: 0, pss: 0, anon: 0 };
    const sampler = setInterval(() => {
      try {
        const rollup = readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8');
        const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
        peak.rss = Math.max(peak.rss, kib('Rss'));
        peak.pss = Math.max(peak.pss, kib('Pss'));
        peak.anon = Math.max(peak.anon, kib('Anonymous'));
      } catch {
        // the child has exited
      }
    }, 250);
    const status = await new Promise<number | null>((done) => child.on('exit', done));
    clearInterval(sampler);
    if (status !== 0) throw new Error(`the measuring process failed (${status})`);
    console.log(JSON.stringify({ peakGiB: { rss: gib(peak.rss), pss: gib(peak.pss), anonymous: gib(peak.anon) }, peakCopies: { pss: (peak.pss / padded).toFixed(2), anonymous: (peak.anon / padded).toFixed(2) } }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ calibration: await calibrate() }, null, 1));
}

await main();
