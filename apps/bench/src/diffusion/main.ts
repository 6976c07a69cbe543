import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { Point, RgbaImage } from '@stabledrag/core';
import { applyLora, DiffusionBackend, trainLora, type OrtRuntime } from '@stabledrag/backends-diffusion';
import { readDiffusionModelDir } from '@stabledrag/backends-diffusion/node';
import { writePng } from '../image.js';
import { loadMethodFactory } from '../methods.js';
import { contactSheet, markPoints, upscale } from '../sheet.js';
import { DIFFUSION_TABLE2, DRAGDIFFUSION, STABLEDRAG_DIFF } from './diffusion-methods.js';
import { loadDiffusionTasks, type DiffusionTask } from './load-diffusion-tasks.js';
import { renderDiffusionReport } from './render-diffusion-report.js';
import { runDiffusionTask, type DiffusionRunRecord, type DiffusionTaskRecord } from './run-diffusion-task.js';
import { spliceSection } from './splice-section.js';
import { TimedDiffusionBackend } from './timed-diffusion-backend.js';

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = resolve(here, '..', '..');
const repoRoot = resolve(benchDir, '..', '..');

export interface DiffusionBenchOptions {
  readonly model: string;
  readonly tasksFile: string;
  readonly photosFile: string;
  readonly tasks: number;
  readonly photos: number;
  readonly budgets: readonly number[];
  readonly loraSteps: number;
  /**
   * With `loraSteps` 0: the first N tasks are run again with LoRA (`loraTimingSteps` steps, both
   * main methods) for the time split's LoRA rows (issue #16's ≤ 30 s with LoRA). 0 = none.
   */
  readonly loraTimingTasks: number;
  readonly loraTimingSteps: number;
  readonly out: string;
  /** BENCHMARKS.md to splice the section into; null: only results/diffusion.md. */
  readonly report: string | null;
  readonly timeLimitMin: number;
  /** Exit 0 with a note when the model folder is absent (`pnpm bench` before the model exists). */
  readonly skipMissingModel: boolean;
  readonly command: string;
}

/**
 * `pnpm --filter bench …` runs in apps/bench, so a relative path is tried against where the user
 * typed the command (INIT_CWD), then apps/bench, then the repository root; else taken as typed.
 */
function userPath(p: string): string {
  const bases = [process.env.INIT_CWD, process.cwd(), repoRoot].filter((b): b is string => !!b);
  return bases.map((b) => resolve(b, p)).find((c) => existsSync(c)) ?? resolve(bases[0]!, p);
}

export function parseDiffusionArgs(argv: readonly string[]): DiffusionBenchOptions {
  const quick = argv.includes('--quick');
  const val = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  // --quick writes beside the quick GAN run, never over the recorded results.
  const out = val('--out') ? userPath(val('--out')!) : resolve(quick ? join(benchDir, '.out', 'diffusion-quick') : join(benchDir, 'results'));
  const report = argv.includes('--no-report') ? null : (val('--report') ? userPath(val('--report')!) : quick ? join(out, 'BENCHMARKS.md') : join(repoRoot, 'BENCHMARKS.md'));
  return {
    model: val('--model') ? userPath(val('--model')!) : join(repoRoot, 'packages', 'backends-diffusion', 'models', 'sd-embedded'),
    tasksFile: val('--tasks-file') ? userPath(val('--tasks-file')!) : join(benchDir, 'tasks-diffusion', 'tasks.json'),
    photosFile: val('--photos-file') ? userPath(val('--photos-file')!) : join(benchDir, 'tasks-diffusion', 'photos', 'photos.json'),
    tasks: Number(val('--tasks') ?? (quick ? 2 : 24)),
    photos: argv.includes('--no-photos') ? 0 : Number(val('--photos') ?? (quick ? 1 : Infinity)),
    budgets: (val('--budgets') ?? (quick ? '4,6,8' : '40,60,80')).split(',').map(Number),
    loraSteps: Number(val('--lora-steps') ?? 0),
    loraTimingTasks: Number(val('--lora-timing-tasks') ?? (quick ? 0 : 2)),
    loraTimingSteps: Number(val('--lora-timing-steps') ?? 80),
    out,
    report,
    timeLimitMin: Number(val('--time-limit') ?? (quick ? 10 : 90)),
    skipMissingModel: argv.includes('--skip-missing-model'),
    command: `pnpm --filter bench bench:diffusion${argv.length ? ` ${argv.join(' ')}` : ''}`,
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench:diffusion ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface BackendFactory {
  /** The backend of the untuned model; null for a factory that only makes LoRA backends. */
  readonly shared: DiffusionBackend | null;
  readonly loadMs: number;
  forImage(image: RgbaImage): Promise<{ backend: DiffusionBackend; loraMs: number }>;
}

/**
 * One backend for every task without LoRA; with LoRA, a backend of the UNet tuned on each image.
 * `untuned: false` skips the shared backend, so the LoRA rows' peak RSS is not inflated by a
 * backend they never use (measured: see the LoRA rows in BENCHMARKS.md).
 */
async function backendFactory(opts: DiffusionBenchOptions, untuned = true): Promise<BackendFactory> {
  const runtime = ort as unknown as OrtRuntime;
  const t0 = performance.now();
  const files = await readDiffusionModelDir(opts.model);
  const shared = untuned ? await DiffusionBackend.create({ runtime, files }) : null;
  const loadMs = performance.now() - t0;
  return {
    shared,
    loadMs,
    async forImage(image) {
      if (opts.loraSteps <= 0) {
        if (!shared) throw new Error('backendFactory: no untuned backend was made');
        return { backend: shared, loraMs: 0 };
      }
      const t = performance.now();
      const weights = await trainLora({ runtime, files }, image, { steps: opts.loraSteps });
      const loraMs = performance.now() - t;
      return { backend: await DiffusionBackend.create({ runtime, files: applyLora(files, weights) }), loraMs };
    },
  };
}

/** Rows of (source with handles and targets, then each method's edit with the found points), upscaled ×2. */
function sheetRows(rows: readonly { task: DiffusionTask; images: readonly { image: RgbaImage; found?: readonly Point[] }[] }[]): RgbaImage {
  const k = 2;
  const tiles: RgbaImage[] = [];
  for (const { task, images } of rows) {
    for (const [i, { image, found }] of images.entries()) {
      const big = upscale(image, k);
      const sets: { points: readonly Point[]; colour: readonly [number, number, number] }[] = [];
      if (i === 0) sets.push({ points: task.pairs.map((p) => p.handle), colour: [255, 0, 0] });
      sets.push({ points: task.pairs.map((p) => p.target), colour: [0, 90, 255] });
      if (found) sets.push({ points: found, colour: [0, 220, 0] });
      markPoints(big, k, sets);
      tiles.push(big);
    }
  }
  return contactSheet(tiles, rows[0]!.images.length);
}

interface Section {
  tasks: DiffusionTaskRecord[];
  runs: DiffusionRunRecord[];
}

export async function runDiffusionBench(opts: DiffusionBenchOptions): Promise<{ markdown: string } | null> {
  const t0 = performance.now();
  if (!existsSync(opts.model)) {
    const msg = `no diffusion model at ${opts.model}; pass --model DIR (e.g. packages/backends-diffusion/models/sd15-layout-tiny)`;
    if (opts.skipMissingModel) {
      log(`skipped: ${msg}`);
      return null;
    }
    throw new Error(msg);
  }
  mkdirSync(opts.out, { recursive: true });
  const models = await backendFactory(opts);
  const shared = models.shared!;
  const res = shared.info.imageWidth;
  log(`model ${opts.model} (${res} px) loaded in ${(models.loadMs / 1000).toFixed(1)} s`);
  const factory = await loadMethodFactory();
  const cli = (await import('@stabledrag/cli')) as unknown as { DEFAULT_LAMBDA: number; DEFAULT_TAU: number };
  const deadline = t0 + opts.timeLimitMin * 60_000;
  const tasks = loadDiffusionTasks(opts.tasksFile, res, opts.tasks);
  const photos = opts.photos > 0 ? loadDiffusionTasks(opts.photosFile, res, opts.photos) : [];
  const main: Section = { tasks: [], runs: [] };
  const photo: Section = { tasks: [], runs: [] };
  const examples: { task: DiffusionTask; images: { image: RgbaImage; found?: readonly Point[] }[] }[] = [];
  const photoRows: typeof examples = [];
  const top = Math.max(...opts.budgets);
  let stoppedEarly: string | null = null;

  const runSet = async (set: readonly DiffusionTask[], specs: typeof DIFFUSION_TABLE2, into: Section, rows: typeof examples, keepRows: number, what: string, from = models): Promise<void> => {
    for (const [i, task] of set.entries()) {
      if (performance.now() > deadline) {
        stoppedEarly = `time limit of ${opts.timeLimitMin} min reached`;
        log(`${what}: ${stoppedEarly}, ${i} of ${set.length} done`);
        return;
      }
      const t = performance.now();
      const { backend, loraMs } = await from.forImage(task.image);
      const timed = new TimedDiffusionBackend(backend);
      const finals = new Map<string, RgbaImage>();
      const out = await runDiffusionTask(timed, task, specs, factory, opts.budgets, {
        loraMs,
        onImage: (method, budget, image) => {
          if (budget === top) finals.set(method, image);
        },
      });
      if (backend !== shared) await backend.dispose();
      into.tasks.push(out.task);
      into.runs.push(...out.runs);
      if (rows.length < keepRows) {
        const found = (m: string): readonly Point[] | undefined => out.runs.find((r) => r.method === m)?.scores.find((s) => s.budget === top)?.score.pairs.map((p) => p.found);
        rows.push({
          task,
          images: [
            { image: task.source },
            ...(task.exact ? [{ image: task.exact }] : []),
            ...[DRAGDIFFUSION.id, STABLEDRAG_DIFF.id].flatMap((m) => (finals.has(m) ? [{ image: finals.get(m)!, ...(found(m) ? { found: found(m)! } : {}) }] : [])),
          ],
        });
      }
      log(`${what} ${i + 1}/${set.length} ${task.id}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
  };

  await runSet(tasks, DIFFUSION_TABLE2, main, examples, 4, 'task');
  await runSet(photos, [DRAGDIFFUSION, STABLEDRAG_DIFF], photo, photoRows, Infinity, 'photo');
  await shared.dispose();
  const lora: Section = { tasks: [], runs: [] };
  const loraTasks = opts.loraSteps > 0 ? 0 : Math.min(opts.loraTimingTasks, tasks.length);
  if (loraTasks > 0) {
    const tuned = await backendFactory({ ...opts, loraSteps: opts.loraTimingSteps }, false);
    await runSet(tasks.slice(0, loraTasks), [DRAGDIFFUSION, STABLEDRAG_DIFF], lora, [], 0, `LoRA timing (${opts.loraTimingSteps} steps)`, tuned);
  }

  const sheetPath = join(opts.out, 'diffusion-photos.png');
  if (photoRows.length) writePng(sheetPath, sheetRows(photoRows));
  if (examples.length) writePng(join(opts.out, 'diffusion-examples.png'), sheetRows(examples));
  const wallMinutes = (performance.now() - t0) / 60_000;
  const header = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: opts.command,
    wallMinutes,
    model: relative(repoRoot, opts.model) || opts.model,
    resolution: res,
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    commit: git(['rev-parse', '--short', 'HEAD']),
    loadMs: models.loadMs,
    loraSteps: opts.loraSteps,
    learningRate: shared.dragDefaults.learningRate,
    radii: shared.dragDefaults.imageRadii,
    lambda: cli.DEFAULT_LAMBDA,
    tau: cli.DEFAULT_TAU,
    budgets: opts.budgets,
    tasksPlanned: tasks.length,
    stoppedEarly,
    taskSet: `faces2 renders with exact edits (\`apps/bench/tasks-diffusion/tasks.json\`, made by \`apps/bench/scripts/make_diffusion_tasks.py\`: ${tasks.reduce((a, t) => a + t.pairs.length, 0)} pairs, ${tasks.filter((t) => t.mask).length} tasks with a mask, ${tasks.filter((t) => t.pairs.length > 1).length} with two pairs).`,
  };
  const labels = Object.fromEntries(DIFFUSION_TABLE2.map((s) => [s.id, s.label]));
  writeFileSync(join(opts.out, 'diffusion-runs.json'), JSON.stringify({ header, labels, tasks: main.tasks, runs: main.runs, photos: photo }));
  const markdown = renderDiffusionReport({
    header,
    tasks: main.tasks,
    runs: main.runs,
    photos: {
      ...photo,
      names: Object.fromEntries(photos.map((t) => [t.id, t.name])),
      // Relative to the report it lands in: the spliced file, or the GAN report at the root that copies diffusion.md in.
      sheet: photoRows.length ? relative(dirname(opts.report ?? join(repoRoot, 'BENCHMARKS.md')), sheetPath) : null,
    },
    labels,
    table1: [DRAGDIFFUSION.id, STABLEDRAG_DIFF.id],
    table2: DIFFUSION_TABLE2.map((s) => s.id),
    ...(lora.runs.length ? { loraTiming: { steps: opts.loraTimingSteps, ...lora } } : {}),
  });
  writeFileSync(join(opts.out, 'diffusion.md'), markdown + '\n');
  if (opts.report) {
    const rootReport = join(repoRoot, 'BENCHMARKS.md');
    const base = existsSync(opts.report) ? readFileSync(opts.report, 'utf8') : existsSync(rootReport) ? readFileSync(rootReport, 'utf8') : '# Benchmarks\n';
    writeFileSync(opts.report, spliceSection(base, markdown, ['## Other packages', '## Notes', '## Conclusion']));
    log(`wrote ${opts.report}`);
  }
  log(`done in ${wallMinutes.toFixed(1)} min: ${join(opts.out, 'diffusion.md')}`);
  return { markdown };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runDiffusionBench(parseDiffusionArgs(process.argv.slice(2))).catch((error: unknown) => {
    process.stderr.write(`bench:diffusion: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
