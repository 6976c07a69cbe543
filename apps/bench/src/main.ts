import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, summarise, type Summary } from './aggregate.js';
import { loadBackend, ortVersion, type Runtime } from './backends.js';
import { toFloat, writePng } from './image.js';
import { contactSheet, markPoints, upscale } from './sheet.js';
import { LAMBDA_SWEEP, loadMethodFactory, TABLE2, TAU_SWEEP, UNBOUNDED, type MethodFactory, type MethodSpec } from './methods.js';
import { longDragTasks } from './stability.js';
import { renderStability } from './stability-report.js';
import { measureNccError } from './ncc-error.js';
import { locatePatch } from './metrics/ncc.js';
import { referenceTasks } from './reference-tasks.js';
import { renderReport } from './report.js';
import { evaluate, prepareTask, runDrag, type PreparedTask, type RunRecord } from './runner.js';
import { DragSession, type DragBackend, type Point, type RgbaImage } from '@stabledrag/core';
import type { SpeedRequest, SpeedResult } from './speed.js';
import { loadTasks, pairLength, type BenchTask } from './tasks.js';
import { defaultTaskSets, modelRenderer } from './task-sets.js';
import { loadExactAnswers, type ExactAnswer } from './exact/load-exact-answers.js';
import { measureExactLocatorError } from './exact/exact-locator-error.js';
import { renderExactSection } from './exact/render-exact-section.js';
import { rendererOracle } from './exact/renderer-oracle.js';
import { summariseExact } from './exact/summarise-exact.js';

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = resolve(here, '..');
const repoRoot = resolve(benchDir, '..', '..');

interface Options {
  quick: boolean;
  backend: Runtime;
  model?: string;
  /** --tasks; without it the set made for the model's renderer (task-sets.ts). */
  tasksDir?: string;
  /** --long-tasks: a committed long-drag set for the stability section. */
  longTasksDir?: string;
  /** --medium-tasks: a committed medium-drag set (10–20 px) for the stability section. */
  mediumTasksDir?: string;
  /** --short2-tasks: a second committed short-drag set (faces no other set uses) for the stability section. */
  short2TasksDir?: string;
  budgets: number[];
  sweepBudget: number;
  sweepEvery: number;
  speedSteps: number;
  speedTasks: number;
  speed: boolean;
  wasm: boolean;
  timeLimitMin: number;
  out: string;
  report: string;
  examples: number;
  /** The long budget of the stability section (issue #12: failures show up to 300 steps). */
  longBudget: number;
}

function parseArgs(argv: readonly string[]): Options {
  const quick = argv.includes('--quick');
  const val = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const backend = (val('--backend') ?? 'node') as Runtime;
  const out = resolve(val('--out') ?? (quick || backend === 'reference' ? join(benchDir, '.out', quick ? 'quick' : backend) : join(benchDir, 'results')));
  return {
    quick,
    backend,
    ...(val('--model') ? { model: resolve(val('--model')!) } : {}),
    ...(val('--tasks') ? { tasksDir: resolve(val('--tasks')!) } : {}),
    ...(val('--long-tasks') ? { longTasksDir: resolve(val('--long-tasks')!) } : {}),
    ...(val('--medium-tasks') ? { mediumTasksDir: resolve(val('--medium-tasks')!) } : {}),
    ...(val('--short2-tasks') ? { short2TasksDir: resolve(val('--short2-tasks')!) } : {}),
    budgets: (val('--budgets') ?? '40,60,80').split(',').map(Number),
    sweepBudget: Number(val('--sweep-budget') ?? 60),
    sweepEvery: Number(val('--sweep-every') ?? (quick ? 4 : 1)),
    speedSteps: Number(val('--speed-steps') ?? (quick ? 6 : 20)),
    speedTasks: Number(val('--speed-tasks') ?? (quick ? 1 : 3)),
    speed: !argv.includes('--no-speed'),
    wasm: !argv.includes('--no-wasm'),
    timeLimitMin: Number(val('--time-limit') ?? (quick ? 6 : 24)),
    out,
    report: resolve(val('--report') ?? (quick || backend === 'reference' ? join(out, 'BENCHMARKS.md') : join(repoRoot, 'BENCHMARKS.md'))),
    examples: Number(val('--examples') ?? 6),
    longBudget: Number(val('--long-budget') ?? (quick ? 100 : 300)),
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Runs the speed measurement of one runtime in a fresh process (its own peak memory). */
function speedChild(req: SpeedRequest, timeoutMs: number): Promise<SpeedResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, join(here, 'speed.ts'), JSON.stringify(req)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('SPEED_RESULT '));
      if (code === 0 && line) resolvePromise(JSON.parse(line.slice('SPEED_RESULT '.length)) as SpeedResult);
      else reject(new Error(`speed (${req.runtime}) exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

function describeLengths(tasks: readonly BenchTask[]): string {
  const ls = tasks.flatMap((t) => t.pairs.map(pairLength)).sort((a, b) => a - b);
  const n = ls.length;
  const c = (lo: number, hi: number): number => ls.filter((l) => l > lo && l <= hi).length;
  return `${ls[0]!.toFixed(1)}–${ls[n - 1]!.toFixed(1)} px, median ${ls[Math.floor(n / 2)]!.toFixed(1)} (≤ 10 px: ${c(0, 10)}, 10–20 px: ${c(10, 20)}, > 20 px: ${c(20, Infinity)} pairs)`;
}

function pickEvery<T>(xs: readonly T[], k: number): T[] {
  return xs.filter((_, i) => i % k === 0);
}

/** n items spread evenly over xs (all of them when n ≥ length). */
function spread<T>(xs: readonly T[], n: number): T[] {
  if (n >= xs.length) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.floor(((i + 0.5) * xs.length) / n)]!);
}

/** ms per drag step (mean of a DragGAN and a StableDrag drag of 8 steps) and per scored budget. */
async function calibrate(backend: DragBackend, p: PreparedTask, factory: MethodFactory): Promise<{ msPerStep: number; msPerScore: number }> {
  let ms = 0;
  let n = 0;
  for (const spec of [TABLE2[0]!, TABLE2[3]!]) {
    const built = factory(spec, backend.info.imageWidth);
    const r = await new DragSession({ backend, tracker: built.tracker, supervisor: built.supervisor, latent: p.latent, pairs: p.task.pairs, maxSteps: 8, stopDistance: 1e-6 }).run();
    for (const e of r.history.slice(2)) {
      ms += e.timings.total;
      n++;
    }
  }
  let score = Infinity;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    evaluate(p, toFloat(await backend.render(p.latent)));
    score = Math.min(score, performance.now() - t);
  }
  return { msPerStep: ms / Math.max(1, n), msPerScore: score };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg();
  const opts = parseArgs(process.argv.slice(2));
  const deadline = started + opts.timeLimitMin * 60_000;
  mkdirSync(opts.out, { recursive: true });
  rmSync(join(opts.out, 'examples.png'), { force: true });
  log(`backend ${opts.backend}, out ${opts.out}, report ${opts.report}`);

  // The task sets made for the model's renderer (faces.py or faces2.py); an explicit --tasks wins.
  const renderer = opts.backend === 'reference' ? null : modelRenderer(opts.model ?? (await import('@stabledrag/backends-gan/node')).defaultModelDir);
  const sets = defaultTaskSets(benchDir, renderer);
  const tasksDir = opts.tasksDir ?? sets.tasks;
  const longDir = opts.longTasksDir ?? (opts.tasksDir ? null : sets.long);
  const mediumDir = opts.mediumTasksDir ?? (opts.tasksDir ? null : sets.medium);
  const short2Dir = opts.short2TasksDir ?? (opts.tasksDir ? null : sets.short2);
  log(
    `model renderer ${renderer ?? 'unknown'}: tasks ${relative(benchDir, tasksDir)}, long drags ${longDir ? relative(benchDir, longDir) : 'derived from the tasks'}, ` +
      `medium drags ${mediumDir ? relative(benchDir, mediumDir) : 'none'}, second short set ${short2Dir ? relative(benchDir, short2Dir) : 'none'}`,
  );
  const allTasks = opts.backend === 'reference' ? referenceTasks(opts.quick ? 3 : 6) : await loadTasks(tasksDir);
  const answers: Map<string, ExactAnswer> = opts.backend === 'reference' ? new Map() : loadExactAnswers(tasksDir);
  const tasks = opts.quick && opts.backend !== 'reference' ? pickEvery(allTasks, Math.max(1, Math.floor(allTasks.length / 6))).slice(0, 6) : allTasks;
  log(`${tasks.length} tasks (${pickEvery(tasks, opts.sweepEvery).length} for the sweeps)`);

  const loaded = await loadBackend(opts.backend, opts.model);
  const { backend } = loaded;
  const factory = await loadMethodFactory({ allowStandIn: opts.backend === 'reference' });
  // one task at a time: each renders its seed (and its exact answer's images) on the one backend
  const prepareAll = async (list: readonly BenchTask[]): Promise<PreparedTask[]> => {
    const out: PreparedTask[] = [];
    for (const t of list) out.push(await prepareTask(backend, t, answers.get(t.id)));
    return out;
  };
  const prepared = await prepareAll(tasks);
  const withExact = prepared.filter((p) => p.exact);
  if (withExact.length) log(`exact answers for ${withExact.length} tasks`);

  log('NCC self-error on known shifts');
  const nccError = measureNccError(prepared.map((p) => ({ image: p.originalFloat, handles: p.task.pairs.map((x) => x.handle) })));
  writeFileSync(join(opts.out, 'ncc-error.json'), JSON.stringify(nccError, null, 1));

  // Time split: speed children need roughly (load + 2 methods × tasks × steps) each.
  const speedReserveMs = opts.speed ? (opts.quick ? 45_000 : 90_000) * (opts.wasm ? 2 : 1) : 0;
  const dragDeadline = deadline - speedReserveMs;
  const table2Deadline = performance.now() + 0.68 * (dragDeadline - performance.now());
  const records: RunRecord[] = [];
  const labels = new Map<string, string>();
  const standIns = new Set<string>();
  const examples = new Map<string, RgbaImage>();

  // Calibration: a short drag of DragGAN and of StableDrag (not recorded) gives ms per step and
  // per scoring, from which the number of tasks that fit the time limit is chosen up front, spread
  // evenly over the task set (the deadline checks below are only a safety net).
  const calib = await calibrate(backend, prepared[0]!, factory);
  log(`calibration: ${calib.msPerStep.toFixed(1)} ms/step, ${calib.msPerScore.toFixed(0)} ms per scored budget`);
  const maxBudget = Math.max(...opts.budgets);
  // DragGAN and StableDrag run to the long budget (most stop far earlier), the ablations to the Table 1 budgets.
  const perTask2 =
    2 * (opts.longBudget * calib.msPerStep + (opts.budgets.length + 2) * calib.msPerScore) +
    (TABLE2.length - 2) * (maxBudget * calib.msPerStep + (opts.budgets.length + 1) * calib.msPerScore);
  const n2 = Math.max(1, Math.min(prepared.length, Math.floor((table2Deadline - performance.now()) / perTask2)));
  const table2Set = spread(prepared, n2);
  const exampleTasks = new Set(spread(table2Set, opts.examples).map((p) => p.task.id));
  const sweepSpecs: MethodSpec[] = [...TAU_SWEEP, ...LAMBDA_SWEEP.filter((s) => s.lambda !== 0)];
  const perTaskSweep = sweepSpecs.length * (opts.sweepBudget * calib.msPerStep + calib.msPerScore);
  log(`plan: Tables 1–2 on ${table2Set.length} of ${prepared.length} tasks (≤ ${((perTask2 * table2Set.length) / 60_000).toFixed(1)} min if no drag stops early)`);

  const runAll = async (specs: readonly MethodSpec[], set: readonly PreparedTask[], budgets: readonly number[], until: number, what: string): Promise<number> => {
    let done = 0;
    for (const p of set) {
      if (performance.now() > until) {
        log(`${what}: time limit reached after ${done} of ${set.length} tasks`);
        break;
      }
      for (const spec of specs) {
        const built = factory(spec, backend.info.imageWidth);
        labels.set(spec.id, built.label);
        if (built.standIn) standIns.add(spec.id);
        const isExample = what === 'table2' && exampleTasks.has(p.task.id);
        const rec = await runDrag(backend, p, spec, built, budgets, {
          onImage: (b, img) => {
            if (isExample && b === Math.max(...budgets) && (spec.id === 'draggan' || spec.id === 'stabledrag')) examples.set(`${p.task.id}|${spec.id}`, img);
          },
        });
        records.push(rec);
        const top = rec.budgets[rec.budgets.length - 1]!;
        log(`${what} ${p.task.id} ${spec.id}: ${rec.steps} steps ${(rec.wallMs / 1000).toFixed(1)} s, MD ${(top.pairs.reduce((a, x) => a + x.distance, 0) / top.pairs.length).toFixed(2)} SSIM ${top.ssim.toFixed(3)}`);
      }
      done++;
    }
    return done;
  };

  log('Table 1/2 runs');
  const table1Specs = TABLE2.filter((m) => m.id === 'draggan' || m.id === 'stabledrag');
  const table2Until = table2Deadline + 0.1 * (dragDeadline - table2Deadline);
  const table2Done = await runAll(table1Specs, table2Set, [0, ...opts.budgets, opts.longBudget], table2Until, 'table2');
  await runAll(TABLE2.filter((m) => !table1Specs.includes(m)), table2Set.slice(0, table2Done), [0, ...opts.budgets], table2Until, 'table2');
  // Stability: long drags (20–60 px) derived from the tasks, to the long budget, with the paper's
  // unbounded score beside ours (issue #12).
  // A committed long set (faces2) gets as many tasks as Tables 1–2 ran, spread over it.
  const longTasks = longDir ? spread(await loadTasks(longDir), table2Done) : longDragTasks(table2Set.slice(0, table2Done).map((p) => p.task), backend.info.imageWidth);
  const longSet = await prepareAll(longTasks);
  log(`stability: ${longSet.length} long drags`);
  const stabilityRecordsStart = records.length;
  await runAll([...table1Specs, UNBOUNDED], longSet, [60, opts.longBudget], dragDeadline, 'long');
  const longRecords = records.splice(stabilityRecordsStart);
  writeFileSync(join(opts.out, 'long-runs.json'), JSON.stringify(longRecords));
  // Medium drags (10–20 px, faces2 sets): DragGAN and StableDrag only, as many tasks as Tables 1–2 ran.
  const mediumTasks = mediumDir ? spread(await loadTasks(mediumDir), table2Done) : [];
  const mediumSet = await prepareAll(mediumTasks);
  if (mediumSet.length) log(`stability: ${mediumSet.length} medium drags`);
  await runAll(table1Specs, mediumSet, [60, opts.longBudget], dragDeadline, 'medium');
  const mediumRecords = records.splice(stabilityRecordsStart);
  if (mediumSet.length) writeFileSync(join(opts.out, 'medium-runs.json'), JSON.stringify(mediumRecords));
  // A second short set (faces2: seeds 200+, made after every sweep): as many tasks as Tables 1–2 ran.
  const short2Tasks = short2Dir ? spread(await loadTasks(short2Dir), table2Done) : [];
  const short2Set = await prepareAll(short2Tasks);
  if (short2Set.length) log(`stability: ${short2Set.length} tasks of the second short set`);
  await runAll(table1Specs, short2Set, [60, opts.longBudget], dragDeadline, 'short2');
  const short2Records = records.splice(stabilityRecordsStart);
  if (short2Set.length) writeFileSync(join(opts.out, 'short2-runs.json'), JSON.stringify(short2Records));
  // τ = 0 of Table 4 and λ = 0 of Table 5 are one configuration (λ = 0, τ = 0): run it once.
  // The sweeps get whatever time Tables 1–2 left (drags that converge early leave more).
  const sweepWanted = Math.ceil(table2Set.length / opts.sweepEvery);
  const nS = Math.max(1, Math.min(sweepWanted, Math.floor((dragDeadline - performance.now()) / perTaskSweep)));
  const sweepSet = spread(table2Set, nS);
  log(`τ/λ sweeps on ${sweepSet.length} tasks (≤ ${((perTaskSweep * sweepSet.length) / 60_000).toFixed(1)} min)`);
  const sweepDone = await runAll(sweepSpecs, sweepSet, [opts.sweepBudget], dragDeadline, 'sweep');
  writeFileSync(join(opts.out, 'drag-runs.json'), JSON.stringify(records));
  // Example sheet: per row original (handle red → target blue), DragGAN, StableDrag at the top budget.
  const rows = table2Set.filter((p) => exampleTasks.has(p.task.id) && examples.has(`${p.task.id}|draggan`) && examples.has(`${p.task.id}|stabledrag`));
  if (rows.length) {
    const tiles: RgbaImage[] = [];
    for (const p of rows) {
      const hs = p.task.pairs.map((x) => x.handle);
      const ts = p.task.pairs.map((x) => x.target);
      const o = upscale(p.original, 3);
      const cli = (await import('@stabledrag/cli')) as unknown as { drawDrag(img: RgbaImage, h: readonly Point[], t: readonly Point[], scale: number): void };
      cli.drawDrag(o, hs, ts, 3);
      tiles.push(o);
      for (const id of ['draggan', 'stabledrag']) {
        const img = upscale(examples.get(`${p.task.id}|${id}`)!, 3);
        const found = records.find((r) => r.task === p.task.id && r.method === id)!.budgets.at(-1)!.pairs.map((x) => x.found);
        markPoints(img, 3, [{ points: ts, colour: [40, 90, 240] }, { points: found, colour: [30, 220, 60] }]);
        tiles.push(img);
      }
    }
    writePng(join(opts.out, 'examples.png'), contactSheet(tiles, 3));
  }

  const speed: (SpeedResult | { runtime: string; error: string })[] = [];
  if (opts.speed && opts.backend !== 'reference') {
    const speedTaskIds = pickEvery(tasks, Math.max(1, Math.floor(tasks.length / opts.speedTasks))).slice(0, opts.speedTasks).map((p) => p.id);
    for (const runtime of (opts.wasm ? ['node', 'wasm'] : ['node']) as Runtime[]) {
      log(`speed on ${runtime}`);
      try {
        speed.push(
          await speedChild(
            { runtime, ...(opts.model ? { modelDir: opts.model } : {}), tasksDir, taskIds: speedTaskIds, steps: opts.speedSteps, methods: ['draggan', 'stabledrag'] },
            Math.max(60_000, deadline + 60_000 - performance.now()),
          ),
        );
      } catch (e) {
        speed.push({ runtime, error: (e as Error).message });
        log(`speed on ${runtime} failed: ${(e as Error).message}`);
      }
    }
  } else if (opts.speed) {
    speed.push(
      await speedChild({ runtime: 'reference', tasksDir: null, taskIds: tasks.slice(0, 2).map((t) => t.id), steps: opts.speedSteps, methods: ['draggan', 'stabledrag'], allowStandIn: true }, 120_000).catch(
        (e: Error) => ({ runtime: 'reference', error: e.message }),
      ),
    );
  }
  writeFileSync(join(opts.out, 'speed.json'), JSON.stringify(speed, null, 1));

  // ---- aggregate and report ----
  const table2Ids = new Set(records.filter((r) => TABLE2.some((m) => m.id === r.method)).map((r) => r.task));
  const midBudget = opts.budgets[Math.floor(opts.budgets.length / 2)]!;
  const S = (id: string, b: number, filter?: ReadonlySet<string>): Summary | null => summarise(records, id, b, filter);
  const summaries = {
    noEdit: ((n) => (n ? { ...n, converged: 0, templateShare: Number.NaN, dragSeconds: Number.NaN } : null))(S('draggan', 0)),
    table1: [TABLE2[0]!, TABLE2[3]!].map((m) => ({ label: m.label, rows: opts.budgets.map((b) => S(m.id, b)) })),
    table2: TABLE2.map((m) => ({ label: m.label, summary: S(m.id, midBudget) })),
    comparisons: opts.budgets.map((b) => compare(records, 'stabledrag', 'draggan', b)).filter((c) => c !== null),
    comparisonsTextured: opts.budgets.map((b) => compare(records, 'stabledrag', 'draggan', b, true)).filter((c) => c !== null),
    ablations: ['draggan', 'no-dpt', 'no-cms'].map((id) => compare(records, 'stabledrag', id, midBudget)).filter((c) => c !== null),
    tauSweep: TAU_SWEEP.map((m) => ({ label: String(m.tau), summary: S(m.id, opts.sweepBudget) })),
    lambdaSweep: LAMBDA_SWEEP.map((m) => ({ label: String(m.lambda), summary: S(m.lambda === 0 ? 'tau=0' : m.id, opts.sweepBudget) })),
  };
  // The sweep's own reference point: full StableDrag on the same tasks and budget.
  const sweepTaskIds = new Set(records.filter((r) => r.method === 'tau=0').map((r) => r.task));
  const fullOnSweep = opts.budgets.includes(opts.sweepBudget) ? S('stabledrag', opts.sweepBudget, sweepTaskIds) : null;
  const draganOnSweep = opts.budgets.includes(opts.sweepBudget) ? S('draggan', opts.sweepBudget, sweepTaskIds) : null;
  writeFileSync(join(opts.out, 'summary.json'), JSON.stringify({ ...summaries, fullOnSweep, draganOnSweep, labels: Object.fromEntries(labels) }, null, 1));

  // The renderer's exact edit of each task (a faces2 set's exact answers, else task-meta.json from
  // scripts/select-tasks.ts), scored by the same NCC: the floor of MD on edits that really happened.
  let oracle: Summary | null = rendererOracle(prepared.filter((p) => table2Ids.has(p.task.id)));
  const metaFile = join(benchDir, 'task-meta.json');
  if (!oracle && opts.backend !== 'reference' && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, { lengths: number[]; oracle: { md: number[]; ssim: number; mae1: number } }>;
    const ids = new Set(records.filter((r) => r.method === 'draggan').map((r) => r.task));
    const rows = [...ids].map((id) => meta[id]).filter((m): m is NonNullable<typeof m> => m !== undefined);
    if (rows.length) {
      const mds = rows.flatMap((m) => m.oracle.md);
      const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      oracle = {
        method: 'oracle', budget: 0, tasks: rows.length, pairs: mds.length, md: avg(mds),
        mdShort: null, mdMedium: null, mdLong: null, mdTextured: null, texturedPairs: 0,
        ssim: avg(rows.map((m) => m.oracle.ssim)), ssimFixed: null, mae1: avg(rows.map((m) => m.oracle.mae1)), mae1Fixed: null,
        converged: Number.NaN, meanUpdates: Number.NaN, ncc: Number.NaN, edgePeaks: 0, trackerMd: Number.NaN, templateShare: Number.NaN, dragSeconds: Number.NaN,
      };
    }
  }
  const wallMinutes = (performance.now() - started) / 60_000;
  const cpu = cpus();
  const lines = (s: Summary | null): string => (s ? `${s.md.toFixed(2)} px` : 'n/a');
  const full = summaries.table2[3]!.summary;
  const base = summaries.table2[0]!.summary;
  const noDpt = summaries.table2[1]!.summary;
  const noCms = summaries.table2[2]!.summary;
  const cmp = summaries.comparisons.find((c) => c.budget === midBudget);
  const closing: string[] = [];
  if (full && base && cmp) {
    const verdict = cmp.ci[1] < 0 ? 'beats' : cmp.ci[0] > 0 ? 'is worse than' : 'does not measurably differ from';
    closing.push(
      `At ${midBudget} steps full StableDrag ${verdict} the DragGAN baseline on Mean Distance: ${lines(full)} against ${lines(base)} (ΔMD ${cmp.meanDiff.toFixed(2)} px, 95 % interval [${cmp.ci[0].toFixed(2)}, ${cmp.ci[1].toFixed(2)}], ${Math.abs((100 * (base.md - full.md)) / base.md).toFixed(1)} % ${base.md >= full.md ? 'lower' : 'higher'}); SSIM ${full.ssim.toFixed(3)} against ${base.ssim.toFixed(3)}.`,
    );
    for (const c of summaries.comparisons) {
      if (c.budget !== midBudget) closing.push(`At ${c.budget} steps: ΔMD ${c.meanDiff.toFixed(2)} px [${c.ci[0].toFixed(2)}, ${c.ci[1].toFixed(2)}].`);
    }
  }
  if (full && noDpt && noCms) {
    const ab = (id: string): string => {
      const c = summaries.ablations.find((x) => x.b === id);
      return c ? `full − this ${c.meanDiff.toFixed(2)} px [${c.ci[0].toFixed(2)}, ${c.ci[1].toFixed(2)}]` : 'n/a';
    };
    closing.push(
      `Ablations at ${midBudget} steps: without discriminative tracking MD ${lines(noDpt)} (${ab('no-dpt')}), SSIM ${noDpt.ssim.toFixed(3)}; without confident supervision MD ${lines(noCms)} (${ab('no-cms')}), SSIM ${noCms.ssim.toFixed(3)}; full ${lines(full)}, SSIM ${full.ssim.toFixed(3)}.`,
    );
  }
  const notes: string[] = [];
  if (standIns.size) notes.push(`Stand-in methods (not the real ones) were used for: ${[...standIns].join(', ')} — these numbers test the pipeline only.`);
  if (table2Done < prepared.length) notes.push(`Time limit: Tables 1–2 cover ${table2Done} of the ${prepared.length} tasks (spread evenly over the set; the rest did not fit the ${opts.timeLimitMin}-minute budget at ${calib.msPerStep.toFixed(0)} ms per step).`);
  notes.push(`Methods as built by \`createMethod\` of @stabledrag/cli: ${[...labels].filter(([id]) => TABLE2.some((m) => m.id === id)).map(([id, l]) => `${id} = ${l}`).join('; ')}.`);

  const taskRecords = records;
  // Tasks at odd positions of the sorted set were never used to choose the defaults (scripts/stability-sweep.ts tunes on the even ones).
  const heldOut = new Set(tasks.filter((_, i) => i % 2 === 1).map((t) => t.id));
  // A committed long set is its own list: its odd positions are the held-out half.
  const heldOutLong = new Set(longTasks.filter((_, i) => i % 2 === 1).map((t) => t.id));
  const taskPairRecords = taskRecords.filter((r) => r.method === 'draggan' || r.method === 'stabledrag');
  const stability = renderStability(
    [
      { title: 'The task set', records: taskPairRecords },
      { title: 'The task set, held-out half (not used to choose the defaults)', records: taskPairRecords.filter((r) => heldOut.has(r.task)) },
      { title: 'Long drags (20–60 px)', records: longRecords },
      { title: 'Long drags, held-out half', records: longRecords.filter((r) => (longDir ? heldOutLong.has(r.task) : heldOut.has(r.task.slice('long-'.length)))) },
      ...(mediumRecords.length ? [{ title: 'Medium drags (10–20 px; used by no sweep)', records: mediumRecords }] : []),
      ...(short2Records.length
        ? [
            { title: 'Short drags, second set (faces of seeds 200+; made after every sweep, used by none)', records: short2Records },
            {
              title: 'Short drags, both sets pooled (the task set and the second set)',
              records: [...taskPairRecords, ...short2Records],
            },
          ]
        : []),
    ],
    [...table1Specs, UNBOUNDED].map((m) => ({ id: m.id, label: m.label })),
    [60, opts.longBudget],
    `DragGAN and StableDrag (defaults: bounded 'gated' confidence, λ = 0.3, τ = 0.4, lr ${backend.info.defaultLearningRate}) to ${opts.longBudget} steps, scored at 60 and ${opts.longBudget}; ` +
      `"paper formula" is StableDrag with the tracker's unbounded filter response (\`normalisation: 'none'\`), run on the long drags only. ` +
      'The defaults were chosen on the even-position tasks (and their long variants) by `apps/bench/scripts/stability-sweep.ts`; the held-out rows are the odd ones; the medium drags (10–20 px, between the lengths of the other two) and the second short set (the same procedure on other faces, made on 2 Dec 2026 to settle the short-drag comparison) were used by no sweep.',
    renderer,
  );

  // Exact answers (faces2 sets): both locators' own error on the answered images, then the section.
  const exactTasks = prepared.filter((p) => p.exact && table2Ids.has(p.task.id));
  const locator = measureExactLocatorError(exactTasks.map((p) => ({ pairs: p.task.pairs, original: p.originalFloat, exact: p.exact! })));
  const exactSection = exactTasks.length
    ? renderExactSection({ records, methods: TABLE2.map((m) => ({ id: m.id, label: m.label })), budgets: opts.budgets, midBudget, locator })
    : [];
  if (exactTasks.length) {
    const exactSummaries = [0, ...opts.budgets].flatMap((b) => TABLE2.map((m) => summariseExact(records, m.id, b)).filter((x) => x !== null));
    writeFileSync(join(opts.out, 'exact-summary.json'), JSON.stringify({ locator, summaries: exactSummaries }, null, 1));
  }

  const report = renderReport({
    exact: exactSection,
    stability,
    header: {
      date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
      cpu: cpu[0]?.model.trim() ?? 'unknown CPU',
      cores: cpu.length,
      ramGiB: totalmem() / 2 ** 30,
      os: `${osType()} ${release()}`,
      commit: gitCommit(),
      node: process.version,
      ortNode: ortVersion('onnxruntime-node'),
      ortWeb: ortVersion('onnxruntime-web'),
      model: `${backend.info.name} (${backend.info.imageWidth}×${backend.info.imageHeight}, features ${backend.info.featureChannels}×${backend.info.featureHeight}×${backend.info.featureWidth}${await modelProvenance(opts)}), Adam lr ${backend.info.defaultLearningRate}, ${loaded.description}`,
      command: opts.quick ? 'pnpm --filter bench bench:quick' : 'pnpm --filter bench bench',
      wallMinutes,
      load: `${loadAtStart.map((v) => v.toFixed(1)).join(' / ')} at the start, ${loadavg().map((v) => v.toFixed(1)).join(' / ')} at the end (1 / 5 / 15 min)`,
    },
    taskSet: {
      tasks: prepared.length,
      pairs: prepared.reduce((a, p) => a + p.task.pairs.length, 0),
      masked: prepared.filter((p) => p.task.mask).length,
      lengths: describeLengths(tasks),
      parts: [...new Set(tasks.map((t) => t.part))].join(', '),
      texture: (() => {
        // How much the generator's own sample has to hold on to at each handle (NCC needs texture).
        const stds = prepared.flatMap((p) => p.task.pairs.map((x) => locatePatch(p.originalFloat, p.originalFloat, x.handle, x.handle).templateStd)).sort((a, b) => a - b);
        const low = stds.filter((v) => v < 0.03).length;
        return `weighted RGB standard deviation of the 15×15 patch at each handle in the generator's sample: median ${stds[Math.floor(stds.length / 2)]!.toFixed(3)}, ${low} of ${stds.length} pairs below 0.03 (nearly flat: the measure can only place those roughly)`;
      })(),
    },
    budgets: opts.budgets,
    noEdit: summaries.noEdit,
    oracle,
    table1: summaries.table1,
    table2: summaries.table2,
    table2Budget: midBudget,
    comparisons: summaries.comparisons,
    ablations: summaries.ablations,
    comparisonsTextured: summaries.comparisonsTextured,
    tauSweep: summaries.tauSweep,
    lambdaSweep: summaries.lambdaSweep,
    sweepNote: `On ${sweepDone} of the ${prepared.length} tasks (spread evenly over the set) at ${opts.sweepBudget} steps, MD (px) / SSIM. For reference on the same tasks and budget: full StableDrag (λ = 0.3, τ = 0.4) ${fullOnSweep ? `${fullOnSweep.md.toFixed(2)} / ${fullOnSweep.ssim.toFixed(3)}` : 'n/a'}, DragGAN ${draganOnSweep ? `${draganOnSweep.md.toFixed(2)} / ${draganOnSweep.ssim.toFixed(3)}` : 'n/a'}.`,
    nccError,
    speed,
    speedNote: `Each runtime in its own process, on ${opts.speedTasks} task(s) × ${opts.speedSteps} steps per method, drags never stopped early. Peak RSS is the whole process (model, sessions, runtime).`,
    trackerLearning: TABLE2.map((m) => {
      const rs = records.filter((r) => r.method === m.id);
      return { label: m.label, ms: rs.reduce((a, r) => a + r.trackerInitMs, 0) / Math.max(1, rs.length) };
    }),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    notes,
    closing: closing.join(' '),
    examples: existsSync(join(opts.out, 'examples.png')) ? relative(dirname(opts.report), join(opts.out, 'examples.png')) : null,
    repoRoot,
  });
  writeFileSync(opts.report, report);
  void table2Ids;
  log(`wrote ${opts.report} in ${wallMinutes.toFixed(1)} min`);
  await backend.dispose();
}

/** Training steps and export time from model.json, when the folder says. */
async function modelProvenance(opts: Options): Promise<string> {
  if (opts.backend === 'reference') return '';
  try {
    const dir = opts.model ?? (await import('@stabledrag/backends-gan/node')).defaultModelDir;
    const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { exported_at?: string; training?: { steps?: number; wall_time_hours?: number } };
    const parts = [
      m.training?.steps !== undefined ? `${m.training.steps} training steps` : '',
      m.training?.wall_time_hours !== undefined ? `${m.training.wall_time_hours} h` : '',
      m.exported_at ? `exported ${m.exported_at}` : '',
      opts.model ? `folder ${relative(repoRoot, opts.model)}` : 'the embedded default',
    ].filter(Boolean);
    return `; ${parts.join(', ')}`;
  } catch {
    return '';
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
