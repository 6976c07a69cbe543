/**
 * Speed benchmark of the demo's diffusion mode (issue #17): one whole photo edit, stage by stage,
 * in the page against Node on the same machine, in one run.
 *
 * The edit: the bundled face (f04-single-nose-tip.png, 128²), its task's pair (nose tip 6 px right),
 * StableDrag-Diff with the model's defaults (60 steps, stop distance 0 so every run does all 60),
 * no LoRA. Stages: VAE encode, DDIM inversion (35 UNet calls), the drag steps, the final denoise
 * (35 steps with mutual self-attention, 70 UNet calls) and VAE decode.
 *   1. Node: onnxruntime-node, 1 intra-op thread (the page's WASM runs one thread here);
 *   2. the built demo in headless Chromium, WASM, 1 thread, in the page's worker; its peak memory
 *      is the renderer processes' summed RSS, sampled every 100 ms.
 * Writes bench/diffusion-results.json and bench/RESULTS-diffusion.md (merged into BENCHMARKS.md by
 * `pnpm bench`). Run: pnpm --filter demo bench (STABLEDRAG_E2E_NO_BUILD=1 reuses the last build).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DragSession } from '@stabledrag/core';
import type { RgbaImage } from '@stabledrag/core';
import { decodeImage, embeddedModelDir, loadDiffusionBackend } from '@stabledrag/backends-diffusion/node';
import type { DiffusionProgress } from '@stabledrag/backends-diffusion';
import { createDemoMethod } from '../src/methods.js';
import { defaultSettings } from '../src/settings.js';
import { appRoot, buildDemo, chromiumPath, distDir, launchBrowser, log, median, placePairs, repoRoot, waitFor } from './page-driver.js';
import { serveStatic } from './static-server.js';

const PHOTO = join(repoRoot, 'apps/bench/tasks-diffusion/f04-single-nose-tip.png');
const PAIR = { handle: { x: 61, y: 72 }, target: { x: 67, y: 70 } };
const STEPS = Number(process.env.STEPS ?? 60);
const STAGES = ['load', 'encode', 'invert', 'drag', 'denoise', 'decode'] as const;
type Stage = (typeof STAGES)[number];

interface Row {
  where: string;
  stagesMs: Record<Stage, number>;
  msPerStep: number;
  /** encode + invert + drag + denoise + decode: the edit once the model is loaded. */
  editMs: number;
  peakMb: number | null;
}

function finish(where: string, stagesMs: Record<Stage, number>, steps: number[], peakMb: number | null): Row {
  const editMs = STAGES.filter((s) => s !== 'load').reduce((a, s) => a + stagesMs[s], 0);
  const round = Object.fromEntries(STAGES.map((s) => [s, Math.round(stagesMs[s])])) as Record<Stage, number>;
  return { where, stagesMs: round, msPerStep: Number(median(steps).toFixed(1)), editMs: Math.round(editMs), peakMb };
}

async function timeNode(): Promise<Row> {
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  const backend = await loadDiffusionBackend({ modelDir: embeddedModelDir, sessionOptions: { intraOpNumThreads: 1 } });
  const stagesMs: Record<Stage, number> = { load: performance.now() - t0, encode: 0, invert: 0, drag: 0, denoise: 0, decode: 0 };
  let last = performance.now();
  const onProgress = (p: DiffusionProgress): void => {
    const now = performance.now();
    if (p.stage in stagesMs) stagesMs[p.stage as Stage] += now - last;
    last = now;
  };
  const image: RgbaImage = decodeImage(readFileSync(PHOTO), PHOTO);
  last = performance.now();
  const latent = await backend.createLatent({ type: 'image', image }, { onProgress });
  const settings = { ...defaultSettings(128, backend.dragDefaults.learningRate), r1: backend.dragDefaults.imageRadii.motion, r2: backend.dragDefaults.imageRadii.tracking, maxSteps: STEPS };
  const method = createDemoMethod(settings);
  const session = new DragSession({ backend, tracker: method.tracker, supervisor: method.supervisor, latent, pairs: [PAIR], maxSteps: STEPS, learningRate: settings.learningRate, stopDistance: 0 });
  const steps: number[] = [];
  const t1 = performance.now();
  const result = await session.run({ onStep: (e) => void steps.push(e.timings.total) });
  stagesMs.drag = performance.now() - t1;
  last = performance.now();
  await backend.render(result.latent, { onProgress });
  clearInterval(sampler);
  await backend.dispose();
  return finish('Node, onnxruntime-node (1 thread)', stagesMs, steps, Math.round(peak / 1048576));
}

/** Summed RSS (MB) of Chromium's renderer processes: the page and its worker. */
function rendererRssMb(): number {
  const out = execFileSync('ps', ['-eo', 'rss=,args='], { encoding: 'utf8' });
  let kb = 0;
  for (const line of out.split('\n')) if (line.includes('--type=renderer')) kb += Number(line.trim().split(/\s+/)[0]) || 0;
  return kb / 1024;
}

async function timePage(): Promise<Row & { browser: string }> {
  await buildDemo();
  const server = await serveStatic(distDir);
  const browser = await launchBrowser();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rendererRssMb())), 100);
  try {
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    await page.goto(`${server.url}?backend=diffusion&provider=wasm&photo=face&steps=${STEPS}&stop=0&threads=1`);
    const ready = await waitFor(page, 'the photo prepared', (s) => s.status === 'ready' && s.photo?.cached === false, 600_000);
    await placePairs(page, [PAIR], ready.imageSize);
    await page.click('#start');
    const end = await waitFor(page, 'the edit', (s) => s.status === 'done', 600_000);
    const s = { ...ready.stagesMs, ...end.stagesMs };
    const stagesMs: Record<Stage, number> = {
      load: end.loadMs ?? 0, encode: ready.stagesMs.encode ?? 0, invert: ready.stagesMs.invert ?? 0,
      drag: s.drag ?? 0, denoise: s.denoise ?? 0, decode: s.decode ?? 0,
    };
    return { ...finish('Chromium page, onnxruntime-web WASM (1 thread, worker)', stagesMs, end.msPerStep, Math.round(peak)), browser: browser.version() };
  } finally {
    clearInterval(sampler);
    await browser.close();
    await server.close();
  }
}

function render(rows: Row[], meta: Record<string, string>): string {
  const [node, page] = rows;
  const ratio = (k: Stage | 'editMs' | 'msPerStep'): string => {
    const a = k === 'editMs' || k === 'msPerStep' ? page?.[k] : page?.stagesMs[k];
    const b = k === 'editMs' || k === 'msPerStep' ? node?.[k] : node?.stagesMs[k];
    return a !== undefined && b ? `${(a / b).toFixed(2)}×` : '–';
  };
  const L = [
    '# Demo speed, diffusion mode: a photo edit in the page against Node',
    '',
    `One whole edit of the bundled face photo (128², the nose tip 6 px right), StableDrag-Diff, ${STEPS} drag steps (stop distance 0), no LoRA, one thread each. "edit" = encode + inversion + drag + final denoise + decode, after the model has loaded. Page times are the worker's stage clock and DragSession's step timings; peak memory is the page's renderer processes (page + worker) for the page and the process RSS for Node. Made by \`pnpm --filter demo bench\`.`,
    '',
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '| where | load ms | encode ms | inversion ms | drag ms | ms/step | denoise ms | decode ms | edit ms | peak MB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.where} | ${r.stagesMs.load} | ${r.stagesMs.encode} | ${r.stagesMs.invert} | ${r.stagesMs.drag} | ${r.msPerStep} | ${r.stagesMs.denoise} | ${r.stagesMs.decode} | ${r.editMs} | ${r.peakMb ?? '–'} |`),
    `| page / Node | ${ratio('load')} | ${ratio('encode')} | ${ratio('invert')} | ${ratio('drag')} | ${ratio('msPerStep')} | ${ratio('denoise')} | ${ratio('decode')} | ${ratio('editMs')} | |`,
    '',
    `Target (issue #17): a whole edit without LoRA ≤ 60 s in the page on this 2-core machine: ${page ? `${(page.editMs / 1000).toFixed(1)} s — ${page.editMs <= 60_000 ? 'met' : 'NOT met'}` : 'not measured (no browser)'}.`,
    '',
  ];
  return L.join('\n');
}

const rows: Row[] = [await timeNode()];
log(`node: ${JSON.stringify(rows[0])}`);
let browserVersion = 'none';
if (existsSync(chromiumPath)) {
  const page = await timePage();
  browserVersion = `Chromium ${page.browser} (headless, --disable-gpu)`;
  rows.push(page);
  log(`page: ${JSON.stringify(page)}`);
} else {
  log(`no browser at ${chromiumPath}: timing Node only.`);
}
const meta = { date: new Date().toISOString(), machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`, browser: browserVersion };
const out = join(appRoot, 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'diffusion-results.json'), `${JSON.stringify({ ...meta, steps: STEPS, rows }, null, 2)}\n`);
writeFileSync(join(out, 'RESULTS-diffusion.md'), render(rows, meta));
log(`wrote ${join(out, 'RESULTS-diffusion.md')}`);
