/**
 * Speed benchmark of the demo (issue #7: time per step in the page against Node for the same drag).
 *
 * One drag — the README's preset (examples/preset-drag.json: seed 76, three pairs), default
 * StableDrag settings, a live image at most every LIVE_IMAGE_INTERVAL_MS as the page asks for, exactly STEPS steps (stop distance 0) — timed by
 * DragSession's own step timings in four places:
 *   1. Node, onnxruntime-node (native CPU), 1 intra-op thread and ORT's default;
 *   2. Node, onnxruntime-web's WASM build, 1 thread;
 *   3. the built demo in headless Chromium (WASM, in the page's worker), 1 and 2 threads.
 * Writes bench/results.json and bench/RESULTS.md (merged into BENCHMARKS.md by `pnpm bench`).
 *
 * Run: pnpm --filter demo bench   (STEPS=n, default 60; ROUNDS=n, default 3; STABLEDRAG_E2E_NO_BUILD=1
 * reuses the last build). Each configuration runs once per round, interleaved; the table shows the
 * round with the median time and lists every round's.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DragSession } from '@stabledrag/core';
import type { DragBackend, DragStepTimings } from '@stabledrag/core';
import { defaultModelDir, loadGanBackend } from '@stabledrag/backends-gan/node';
import { loadGanBackend as loadGanBackendWeb } from '@stabledrag/backends-gan/web';
import * as ortWeb from 'onnxruntime-web';
import { createDemoMethod } from '../src/methods.js';
import { defaultSettings } from '../src/settings.js';
import { forwardBackward, WARM_UP_PASSES } from '../src/warm-up.js';
import { LIVE_IMAGE_INTERVAL_MS } from '../src/live-image-interval.js';
import type { Browser } from 'playwright-core';
import { appRoot, buildDemo, chromiumPath, distDir, launchBrowser, log, median, placePairs, readyAndWarm, repoRoot, waitFor } from './page-driver.js';
import { serveStatic } from './static-server.js';

const STEPS = Number(process.env.STEPS ?? 60);
/** As in vite.config.ts: STABLEDRAG_MODELS_DIR = another folder of model folders (e.g. to compare an export). */
const modelDir = process.env.STABLEDRAG_MODELS_DIR ? join(process.env.STABLEDRAG_MODELS_DIR, 'default') : defaultModelDir;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** Steps left out of the "warm" median: JIT tiers (V8's and WASM's) and ORT's first runs. */
const WARMUP = 5;
const PARTS = ['forward', 'track', 'supervise', 'backward', 'optimizer'] as const;

interface Preset {
  seed: number;
  pairs: { handle: [number, number]; target: [number, number] }[];
}
const preset = JSON.parse(readFileSync(join(repoRoot, 'examples/preset-drag.json'), 'utf8')) as Preset;
const pairs = preset.pairs.map((p) => ({ handle: { x: p.handle[0], y: p.handle[1] }, target: { x: p.target[0], y: p.target[1] } }));

interface Row {
  where: string;
  runtime: string;
  threads: number | string;
  steps: number;
  loadMs: number;
  setupMs: number;
  /** Median ms/step over all steps, and over the steps after WARMUP. */
  medianAll: number;
  medianWarm: number;
  min: number;
  parts: Record<string, number>;
  /** Page only: wall time from Start to the last step's report, per step. */
  wallPerStep?: number;
  /** Every step's total, ms (to see the warm-up). */
  totals: number[];
}

const round = (v: number): number => Number(v.toFixed(2));

function summarise(where: string, runtime: string, threads: number | string, loadMs: number, setupMs: number, timings: DragStepTimings[]): Row {
  const warm = timings.slice(WARMUP);
  return {
    where, runtime, threads, steps: timings.length, loadMs: Math.round(loadMs), setupMs: Math.round(setupMs),
    medianAll: round(median(timings.map((t) => t.total))),
    medianWarm: round(median(warm.map((t) => t.total))),
    min: round(Math.min(...timings.map((t) => t.total))),
    parts: Object.fromEntries(PARTS.map((k) => [k, round(median(warm.map((t) => t[k])))])),
    totals: timings.map((t) => Number(t.total.toFixed(1))),
  };
}

/** The worker's idle warm-up, done the same way before a Node run (the page's is waited for, as a person placing points would). */
async function warmUp(backend: DragBackend): Promise<void> {
  const latent = await backend.createLatent({ type: 'seed', seed: 0 });
  for (let i = 0; i < WARM_UP_PASSES; i++) await forwardBackward(backend, latent, true);
}

async function timeNode(runtime: string, threads: number | string, backend: DragBackend, loadMs: number): Promise<Row> {
  await warmUp(backend);
  const latent = await backend.createLatent({ type: 'seed', seed: preset.seed });
  const s = defaultSettings(backend.info.imageWidth, backend.info.defaultLearningRate);
  const m = createDemoMethod(s);
  const timings: DragStepTimings[] = [];
  const r = await new DragSession({
    backend, tracker: m.tracker, supervisor: m.supervisor, latent, pairs, maxSteps: STEPS, learningRate: s.learningRate, withImages: true, imageIntervalMs: LIVE_IMAGE_INTERVAL_MS, stopDistance: 0,
  }).run({ onStep: (e) => void timings.push(e.timings) });
  await backend.dispose();
  const row = summarise('Node', runtime, threads, loadMs, r.setupMs, timings);
  log(`${runtime}, ${threads} thread(s): ${row.medianWarm} ms/step (warm median), ${row.steps} steps`);
  return row;
}

async function loadNative(threads: number): Promise<{ backend: DragBackend; loadMs: number }> {
  const t0 = performance.now();
  const backend = await loadGanBackend({ modelDir, sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } as never });
  return { backend, loadMs: performance.now() - t0 };
}

async function loadWasmInNode(): Promise<{ backend: DragBackend; loadMs: number }> {
  ortWeb.env.wasm.numThreads = 1;
  const t0 = performance.now();
  const backend = await loadGanBackendWeb({
    baseUrl: 'file:///model/',
    executionProviders: ['wasm'],
    runtime: ortWeb as never,
    fetch: (async (url: URL) => new Response(await readFile(join(modelDir, new URL(url).pathname.replace('/model/', ''))))) as typeof fetch,
  });
  return { backend, loadMs: performance.now() - t0 };
}

interface PageHost {
  url: string;
  browser: Browser;
}

async function timePage(host: PageHost, threads: number): Promise<Row> {
  const page = await host.browser.newPage({ viewport: { width: 1180, height: 900 } });
  try {
    await page.goto(`${host.url}?backend=gan&provider=wasm&seed=${preset.seed}&steps=${STEPS}&stop=0&threads=${threads}`);
    const ready = await waitFor(page, 'loading the model and warming up', (s) => readyAndWarm(s));
    await placePairs(page, pairs, ready.imageSize);
    const t0 = Date.now();
    await page.click('#start');
    const end = await waitFor(page, 'the drag finishing', (s) => s.status === 'done', 600_000);
    const wall = Date.now() - t0;
    const row = summarise('Chromium page', "onnxruntime-web (WASM) in the demo's worker", end.threads, end.loadMs ?? 0, end.setupMs ?? 0, end.stepTimings);
    row.wallPerStep = round((wall - (end.setupMs ?? 0)) / Math.max(1, end.step));
    log(`page, ${end.threads} thread(s): ${row.medianWarm} ms/step (warm median), ${row.steps} steps, ${row.wallPerStep} ms/step wall`);
    return row;
  } finally {
    await page.close();
  }
}

/** Of one configuration's rounds, the round with the median warm time (its parts stay consistent), plus every round's. */
function pickMedianRound(rounds: Row[]): Row & { rounds: number[] } {
  const sorted = [...rounds].sort((a, b) => a.medianWarm - b.medianWarm);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, rounds: rounds.map((r) => r.medianWarm) };
}

function render(rows: (Row & { rounds: number[] })[], meta: Record<string, string>): string {
  const find = (runtime: string, threads: number | string): Row | undefined => rows.find((r) => r.runtime === runtime && r.threads === threads);
  const base = find('onnxruntime-node', 1)!;
  const ratio = (a: Row | undefined, b: Row | undefined): string => (a && b ? `${(a.medianWarm / b.medianWarm).toFixed(2)}×` : '–');
  const page1 = rows.find((r) => r.where === 'Chromium page' && r.threads === 1);
  const page2 = rows.find((r) => r.where === 'Chromium page' && r.threads === 2);
  const L = [
    '# Demo speed: the page against Node',
    '',
    `The README's preset drag (seed ${preset.seed}, ${pairs.length} pairs), default StableDrag settings, a live image at most every ${LIVE_IMAGE_INTERVAL_MS} ms as the page's worker asks for (the steps between run the forward pruned to the features), ${STEPS} steps (stop distance 0), timed by DragSession's step timings (forward + track + supervise + backward + Adam). Every runtime first runs ${WARM_UP_PASSES} forward + backward passes (the page's worker does this by itself while idle after loading; the benchmark waits for it, as a person placing points would). "warm" = median over steps ${WARMUP + 1}–${STEPS}; parts are warm medians. Each configuration ran once per round, rounds interleaved; a row is the round with the median warm time, "rounds" lists all. Ratio = warm median / onnxruntime-node's with 1 thread. Made by \`pnpm --filter demo bench\`.`,
    '',
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    '',
    `**Page against Node:** ${ratio(page1, base)} with one thread each (same hardware); ${ratio(page2, find('onnxruntime-node', 'default'))} with two page threads against onnxruntime-node's default threads; ${ratio(page1, find('onnxruntime-web (WASM)', 1))} against the same WebAssembly build run by Node (1 thread). The demo's automatic choice is one thread fewer than navigator.hardwareConcurrency (1 to 4).`,
    '',
    '| where | runtime | threads | ms/step warm | ratio | rounds | all steps | min | forward | track | supervise | backward | Adam | wall ms/step | load ms | setup ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      `| ${r.where} | ${r.runtime} | ${r.threads} | ${r.medianWarm} | ${ratio(r, base)} | ${r.rounds.join(', ')} | ${r.medianAll} | ${r.min} | ${PARTS.map((k) => r.parts[k]).join(' | ')} | ${r.wallPerStep ?? '–'} | ${r.loadMs} | ${r.setupMs} |`),
    '',
    '"wall ms/step" (page only) = time from pressing Start to the page seeing the drag done, less the setup, per step: it adds what the timings leave out (sending each step\'s image and points to the page, drawing them, the final render).',
    '',
  ];
  return L.join('\n');
}

const haveBrowser = existsSync(chromiumPath);
if (!haveBrowser) log(`no browser at ${chromiumPath}: timing Node only (apt-get install chromium, or CHROMIUM=/path).`);
let host: (PageHost & { close: () => Promise<void> }) | null = null;
if (haveBrowser) {
  await buildDemo();
  const server = await serveStatic(distDir);
  const browser = await launchBrowser();
  host = { url: server.url, browser, close: async () => { await browser.close(); await server.close(); } };
}
const configs: { key: string; run: () => Promise<Row> }[] = [
  { key: 'native-1', run: async () => { const l = await loadNative(1); return timeNode('onnxruntime-node', 1, l.backend, l.loadMs); } },
  { key: 'native-default', run: async () => { const l = await loadNative(0); return timeNode('onnxruntime-node', 'default', l.backend, l.loadMs); } },
  { key: 'wasm-node-1', run: async () => { const l = await loadWasmInNode(); return timeNode('onnxruntime-web (WASM)', 1, l.backend, l.loadMs); } },
  ...(host ? [
    { key: 'page-1', run: () => timePage(host!, 1) },
    // The demo's automatic choice is cores − 1 (1 here); two threads show what a second core buys.
    { key: 'page-2', run: () => timePage(host!, 2) },
  ] : []),
];
// Rounds interleave the configurations, so a slow spell of a shared machine hits all of them.
const byKey = new Map<string, Row[]>(configs.map((c) => [c.key, []]));
let browserVersion = 'none';
try {
  for (let r = 1; r <= ROUNDS; r++) {
    log(`round ${r} of ${ROUNDS}`);
    for (const c of configs) byKey.get(c.key)!.push(await c.run());
  }
  if (host) browserVersion = `Chromium ${host.browser.version()} (headless, --disable-gpu)`;
} finally {
  await host?.close();
}
const rows = configs.map((c) => pickMedianRound(byKey.get(c.key)!));
const meta = {
  date: new Date().toISOString(),
  machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`,
  browser: browserVersion,
  'onnxruntime-web': (ortWeb.env.versions as { web?: string }).web ?? 'unknown',
  rounds: String(ROUNDS),
  ...(process.env.STABLEDRAG_MODELS_DIR ? { model: modelDir } : {}),
};
const out = join(appRoot, 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'results.json'), `${JSON.stringify({ ...meta, steps: STEPS, warmupSteps: WARMUP, warmUpPasses: WARM_UP_PASSES, preset: preset.seed, rows }, null, 2)}\n`);
writeFileSync(join(out, 'RESULTS.md'), render(rows, meta));
log(`wrote ${join(out, 'RESULTS.md')}`);
