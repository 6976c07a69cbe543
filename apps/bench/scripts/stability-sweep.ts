/**
 * The stability sweep behind issue #12's defaults: runs drag configurations (method, learning
 * rate, tracker normalisation, stop rule (stop distance, confidence), radii r1/r2 in image pixels, optimised W+ rows) on a split of the tasks plus their long-drag variants,
 * and prints MD (patch matcher), tracker MD, outside fidelity and destroyed rate per budget, with
 * paired 95 % intervals against the first configuration. Results JSON → .bench-out/.
 *
 *   tsx --conditions=@stabledrag/source scripts/stability-sweep.ts --split tune --configs '[...]' --budgets 60,300
 *
 * Splits: tasks sorted by id, 'tune' = even positions, 'holdout' = odd, 'all'. The task sets are
 * the model's (task-sets.ts: a faces2 model gets tasks-faces2 and tasks-faces2-long); --tasks and
 * --long-tasks override them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { DragBackend } from '@stabledrag/core';
import { join, resolve } from 'node:path';
import { compare } from '../src/aggregate.js';
import { loadMethodFactory, type MethodSpec } from '../src/methods.js';
import { prepareTask, runDrag, type PreparedTask, type RunRecord } from '../src/runner.js';
import { longDragTasks } from '../src/stability.js';
import { defaultTaskSets, modelRenderer } from '../src/task-sets.js';
import { loadTasks } from '../src/tasks.js';

interface Config extends MethodSpec { lr?: number; minConfidenceRatio?: number; stopDistance?: number; r1?: number; r2?: number; rows?: number }
const val = (n: string): string | undefined => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : undefined; };
const configs: Config[] = JSON.parse(val('configs') ?? '[{"id":"draggan","label":"DragGAN","name":"draggan"},{"id":"stabledrag","label":"StableDrag","name":"stabledrag"}]');
const budgets = (val('budgets') ?? '60,300').split(',').map(Number);
const split = val('split') ?? 'tune';
const which = val('set') ?? 'both';
const limit = Number(val('limit') ?? 1e9);

const from = val('from');
let records: RunRecord[];
if (from) {
  const saved = JSON.parse(readFileSync(resolve(from), 'utf8')) as { configs: Config[]; budgets: number[]; records: RunRecord[] };
  configs.splice(0, configs.length, ...saved.configs);
  budgets.splice(0, budgets.length, ...saved.budgets);
  records = saved.records;
} else {
  records = await run();
}

async function run(): Promise<RunRecord[]> {
  const modelDir = resolve(val('model') ?? (await import('@stabledrag/backends-gan/node')).defaultModelDir);
  // one backend per number of optimised W+ rows the configurations ask for (model.json's when unset)
  const gan = await import('@stabledrag/backends-gan/node');
  const backends = new Map<number | undefined, DragBackend>();
  for (const rows of new Set(configs.map((c) => c.rows))) backends.set(rows, await gan.loadGanBackend({ modelDir, ...(rows !== undefined ? { optimizeWs: rows } : {}) }));
  const size = backends.values().next().value!.info.imageWidth;
  const { defaultRadii } = (await import('@stabledrag/cli')) as unknown as { defaultRadii(resolution: number): { r1: number; r2: number } };
  const radii = defaultRadii(size);
  const sets = defaultTaskSets(resolve('.'), modelRenderer(modelDir));
  const inSplit = <T>(all: T[]): T[] => all.filter((_, i) => split === 'all' || (split === 'tune' ? i % 2 === 0 : i % 2 === 1)).slice(0, limit);
  const picked = inSplit(await loadTasks(resolve(val('tasks') ?? sets.tasks)));
  const longDir = val('long-tasks') ?? sets.long;
  const long = longDir ? inSplit(await loadTasks(resolve(longDir))) : longDragTasks(picked, size);
  const tasks = [...(which !== 'long' ? picked : []), ...(which !== 'short' ? long : [])];
  const factory = await loadMethodFactory();
  const records: RunRecord[] = [];
  const t0 = performance.now();
  for (const task of tasks) {
    const prepared = new Map<number | undefined, PreparedTask>();
    for (const [rows, b] of backends) prepared.set(rows, await prepareTask(b, task));
    for (const c of configs) {
      const built = c.r1 !== undefined || c.r2 !== undefined ? factory(c, size, { r1: c.r1 ?? radii.r1, r2: c.r2 ?? radii.r2 }) : factory(c, size);
      records.push(await runDrag(backends.get(c.rows)!, prepared.get(c.rows)!, c, built, budgets, {
        ...(c.lr !== undefined ? { learningRate: c.lr } : {}),
        ...(c.minConfidenceRatio !== undefined ? { minConfidenceRatio: c.minConfidenceRatio } : {}),
        ...(c.stopDistance !== undefined ? { stopDistance: c.stopDistance } : {}),
      }));
    }
    process.stderr.write(`\r${records.length / configs.length}/${tasks.length} tasks, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  process.stderr.write('\n');
  const out = resolve('.bench-out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `stability-${split}-${Date.now()}.json`), JSON.stringify({ configs, budgets, records }, null, 1));

  for (const b of backends.values()) await b.dispose();
  return records;
}

const md: string[] = [];
const say = (line: string): void => {
  console.log(line);
  md.push(line);
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
for (const set of ['short', 'long', 'all']) {
  const inSet = (r: RunRecord): boolean => set === 'all' || (set === 'long') === r.task.startsWith('long-');
  const recs = records.filter(inSet);
  if (recs.length === 0) continue;
  say(`\n#### ${set} drags (${recs.length / configs.length} tasks, split '${split}')\n`);
  say('| steps | configuration | MD | tracker MD | 1 − MAE outside | destroyed | converged | diverged | max RMS ratio | template share | ΔMD vs first row [95 %] |');
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const b of budgets) {
    for (const c of configs) {
      const rows = recs.filter((r) => r.method === c.id).map((r) => ({ r, b: r.budgets.find((x) => x.budget === b)! }));
      const pairs = rows.flatMap((x) => x.b.pairs);
      const cmp = c === configs[0] ? null : compare(recs, c.id, configs[0]!.id, b);
      say(
        `| ${b} | ${c.label} | ${mean(pairs.map((p) => p.distance)).toFixed(2)} | ${mean(rows.flatMap((x) => x.b.trackerDistances)).toFixed(2)} | ` +
          `${mean(rows.map((x) => x.b.mae1Outside)).toFixed(4)} | ${rows.filter((x) => x.b.destroyed).length}/${rows.length} | ` +
          `${rows.filter((x) => x.b.converged).length} | ${rows.filter((x) => x.r.stopReason === 'diverged').length} | ` +
          `${Math.max(...rows.map((x) => x.r.maxFeatureRmsRatio)).toFixed(2)} | ` +
          `${mean(rows.map((x) => x.r.branches.template / Math.max(1, x.r.branches.template + x.r.branches.motion))).toFixed(2)} | ` +
          `${cmp ? `${cmp.meanDiff.toFixed(2)} [${cmp.ci[0].toFixed(2)}, ${cmp.ci[1].toFixed(2)}]` : '—'} |`,
      );
    }
  }
}
const name = val('md');
if (name) {
  const file = resolve('results', `${name}.md`);
  const header = `### ${val('title') ?? name}\n\n\`scripts/stability-sweep.ts --split ${split} --budgets ${budgets.join(',')}\` on ${new Date().toISOString().slice(0, 10)}; configurations: ${configs.map((c) => `${c.label} = \`${JSON.stringify({ ...c, id: undefined, label: undefined })}\``).join('; ')}.\n`;
  writeFileSync(file, `${header}${md.join('\n')}\n`);
  console.log(`wrote ${file}`);
}
