import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { PairedComparison, Summary } from './aggregate.js';
import type { ErrorStats } from './ncc-error.js';
import type { SpeedResult } from './speed.js';

export interface ReportInput {
  /** Markdown lines of the exact-answers section (exact/render-exact-section.ts), after Table 2; empty without exact answers. */
  readonly exact: readonly string[];
  /** Markdown lines of the stability section (stability-report.ts), placed after Table 2. */
  readonly stability: readonly string[];
  readonly header: {
    readonly date: string;
    readonly cpu: string;
    readonly cores: number;
    readonly ramGiB: number;
    readonly os: string;
    readonly commit: string;
    readonly node: string;
    readonly ortNode: string;
    readonly ortWeb: string;
    readonly model: string;
    readonly command: string;
    readonly wallMinutes: number;
    readonly load: string;
  };
  readonly taskSet: { readonly tasks: number; readonly pairs: number; readonly masked: number; readonly lengths: string; readonly parts: string; readonly texture: string };
  readonly budgets: readonly number[];
  readonly noEdit: Summary | null;
  /** The face renderer's exact edit of each task, scored by the same measures. */
  readonly oracle: Summary | null;
  readonly table1: readonly { label: string; rows: readonly (Summary | null)[] }[];
  readonly table2: readonly { label: string; summary: Summary | null }[];
  readonly table2Budget: number;
  readonly comparisons: readonly PairedComparison[];
  /** Full StableDrag against each other Table 2 row at the Table 2 budget. */
  readonly ablations: readonly PairedComparison[];
  /** The same comparisons on textured handles only. */
  readonly comparisonsTextured: readonly PairedComparison[];
  readonly tauSweep: readonly { label: string; summary: Summary | null }[];
  readonly lambdaSweep: readonly { label: string; summary: Summary | null }[];
  readonly sweepNote: string;
  readonly nccError: readonly ErrorStats[];
  readonly speed: readonly (SpeedResult | { runtime: string; error: string })[];
  readonly speedNote: string;
  readonly trackerLearning: readonly { label: string; ms: number }[];
  readonly peakRssMiB: number;
  readonly notes: readonly string[];
  readonly closing: string;
  /** Path of the example sheet relative to the report, if one was made. */
  readonly examples: string | null;
  readonly repoRoot: string;
}

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));

function mdIf(s: Summary | null): string {
  return s ? `${f(s.md)} / ${f(s.ssim, 3)}` : '–';
}

/**
 * Sections other workspaces write: packages/<name>/bench/RESULTS.md, apps/demo/bench/RESULTS.md
 * and RESULTS-diffusion.md (the page against Node) and apps/demo/e2e/results.json (the end-to-end test's own run).
 */
function otherSections(root: string): string[] {
  const out: string[] = [];
  const pkgs = join(root, 'packages');
  const files = existsSync(pkgs) ? readdirSync(pkgs).sort().map((name) => join(pkgs, name, 'bench', 'RESULTS.md')) : [];
  files.push(join(root, 'apps', 'demo', 'bench', 'RESULTS.md'), join(root, 'apps', 'demo', 'bench', 'RESULTS-diffusion.md'));
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8').trim();
    // Demote the package's headings by one level so they nest under ours.
    const body = text.replace(/^(#+) /gm, (_m, h: string) => `${h}# `);
    out.push(`### From \`${relative(root, file)}\`\n\n${body}\n`);
  }
  const demo = join(root, 'apps', 'demo', 'e2e', 'results.json');
  if (existsSync(demo)) {
    let rendered: string;
    try {
      const data = JSON.parse(readFileSync(demo, 'utf8')) as unknown;
      rendered = renderJsonTable(data);
    } catch (e) {
      rendered = `(could not read: ${(e as Error).message})`;
    }
    out.push(`### From \`apps/demo/e2e/results.json\` (browser demo, the end-to-end test's drag: a few steps — the speed figures are the section above)\n\n${rendered}\n`);
  }
  return out;
}

function renderJsonTable(data: unknown): string {
  const rows: [string, string][] = [];
  const walk = (v: unknown, path: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path ? `${path}.${k}` : k);
    } else {
      rows.push([path, typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : JSON.stringify(v)]);
    }
  };
  walk(data, '');
  return ['| key | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/** The recorded default sweeps (apps/bench/results/stability-sweep-*.md), in name order. */
function stabilitySweeps(root: string): string[] {
  const dir = join(root, 'apps', 'bench', 'results');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => /^stability-sweep-.*\.md$/.test(n)).sort().map((n) => readFileSync(join(dir, n), 'utf8'));
}

export function renderReport(r: ReportInput): string {
  const h = r.header;
  const L: string[] = [];
  L.push('# Benchmarks');
  L.push('');
  L.push(`Made by one \`${h.command}\` run (${f(h.wallMinutes, 1)} min; the last step of the root \`pnpm bench\`, which first runs the package benches merged below). Raw numbers: \`apps/bench/results/*.json\`; method and task set: \`apps/bench/README.md\`.`);
  L.push('');
  L.push('| | |');
  L.push('|---|---|');
  L.push(`| date | ${h.date} |`);
  L.push(`| machine | ${h.cpu}, ${h.cores} cores, ${f(h.ramGiB, 1)} GiB RAM, ${h.os} |`);
  L.push(`| commit | \`${h.commit}\` |`);
  L.push(`| Node | ${h.node} |`);
  L.push(`| ONNX Runtime | onnxruntime-node ${h.ortNode}, onnxruntime-web ${h.ortWeb} |`);
  L.push(`| model | ${h.model} |`);
  L.push(`| load average | ${h.load} |`);
  L.push('');
  L.push('## Task set');
  L.push('');
  L.push(`${r.taskSet.tasks} tasks, ${r.taskSet.pairs} handle/target pairs, ${r.taskSet.masked} with a mask. Drag lengths: ${r.taskSet.lengths}. Parts: ${r.taskSet.parts}. Texture: ${r.taskSet.texture}.`);
  L.push('');
  L.push('**Mean Distance (MD, px, lower is better)**: where the handle\'s content ended up in the edited image — found by Gaussian-weighted zero-mean normalised cross-correlation of a 15×15 RGB patch of the original image, with sub-pixel peak refinement, independent of the generator features — against the target, averaged over all pairs. **Image fidelity (higher is better)**: SSIM (11×11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, per RGB channel) and 1 − MAE (RGB in [0, 1]) of the edited image against the original; "fixed" = only the pixels outside the editable mask, over the masked tasks.');
  L.push('');
  if (r.noEdit) {
    L.push(`Before any edit the MD is ${f(r.noEdit.md)} px (the drag lengths themselves): any method must go below it.`);
    L.push('');
  }
  L.push(`## Table 1 — DragGAN vs StableDrag at ${r.budgets.join(' / ')} steps`);
  L.push('');
  L.push('MD (px) / SSIM, the layout of the paper\'s Table 1 (there: DragBench, MD / 1 − LPIPS).');
  L.push('');
  L.push(`| optimisation steps | ${r.budgets.join(' | ')} |`);
  L.push(`|---|${r.budgets.map(() => '---').join('|')}|`);
  for (const row of r.table1) L.push(`| ${row.label} | ${row.rows.map(mdIf).join(' | ')} |`);
  L.push('');
  if (r.comparisons.length) {
    L.push('Paired comparison on the same pairs (ΔMD = StableDrag − DragGAN; negative = StableDrag closer; 95 % bootstrap interval over tasks; "better" = closer by more than 0.5 px):');
    L.push('');
    L.push('| steps | pairs | ΔMD (px) | 95 % interval | StableDrag better | DragGAN better | within 0.5 px |');
    L.push('|---|---|---|---|---|---|---|');
    for (const c of r.comparisons) {
      L.push(`| ${c.budget} | ${c.pairs} | ${f(c.meanDiff)} | [${f(c.ci[0])}, ${f(c.ci[1])}] | ${c.aBetter} | ${c.bBetter} | ${c.ties} |`);
    }
    for (const c of r.comparisonsTextured) {
      L.push(`| ${c.budget}, textured handles only | ${c.pairs} | ${f(c.meanDiff)} | [${f(c.ci[0])}, ${f(c.ci[1])}] | ${c.aBetter} | ${c.bBetter} | ${c.ties} |`);
    }
    L.push('');
  }
  if (r.examples) {
    L.push(`Examples at ${r.budgets[r.budgets.length - 1]} steps — per row: original (handle red, target blue), DragGAN, StableDrag (target blue, where NCC found the handle's content green):`);
    L.push('');
    L.push(`![examples](${r.examples})`);
    L.push('');
  }
  L.push(`## Table 2 — ablations at ${r.table2Budget} steps`);
  L.push('');
  L.push('DPT = discriminative point tracking, CMS = confident motion supervision. "(no edit)" scores the original image (MD = the drag lengths); "(renderer\'s exact edit)" scores the face renderer\'s own image of the edited parameters (the training target the generator imitates), i.e. the floor of MD on a perfect edit. "MD textured" = MD over the pairs whose handle patch in the generator\'s sample is textured (weighted std ≥ 0.03), where the measure is most reliable. "converged" = the tracker put every handle within 2 px of its target; "tracker MD" = the tracker\'s own final handle–target distance, which MD checks independently; "edge peaks" = pairs whose NCC peak lay on the edge of its search box (the box spanning handle and target, grown by 10 px), where the content was not found and MD is a guess; "template steps" = share of supervised handle-steps on the template branch of Eq. 4–5 (over the whole run of the largest budget); "s / drag" = wall time of that run.');
  L.push('');
  L.push('| method | MD ↓ | MD ≤10 px | MD 10–20 px | MD >20 px | MD textured | SSIM ↑ | SSIM fixed ↑ | 1−MAE ↑ | 1−MAE fixed ↑ | converged | mean steps | NCC peak | edge peaks | tracker MD | template steps | s / drag |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const row = (label: string, s: Summary | null): string =>
    s
      ? `| ${label} | ${f(s.md)} | ${f(s.mdShort)} | ${f(s.mdMedium)} | ${f(s.mdLong)} | ${f(s.mdTextured)} | ${f(s.ssim, 3)} | ${f(s.ssimFixed, 3)} | ${f(s.mae1, 4)} | ${f(s.mae1Fixed, 4)} | ${f(100 * s.converged, 0)} % | ${f(s.meanUpdates, 1)} | ${f(s.ncc, 3)} | ${s.edgePeaks} | ${f(s.trackerMd)} | ${f(100 * s.templateShare, 0)} % | ${f(s.dragSeconds, 1)} |`
      : `| ${label} | – | | | | | | | | | | | | | | | |`;
  if (r.noEdit) L.push(row('(no edit)', r.noEdit));
  if (r.oracle) L.push(row('(renderer\'s exact edit)', r.oracle));
  for (const m of r.table2) L.push(row(m.label, m.summary));
  L.push('');
  if (r.ablations.length) {
    L.push('');
    L.push('Full StableDrag against each row, paired on the same pairs (ΔMD = full − row; negative = full closer):');
    L.push('');
    L.push('| against | pairs | ΔMD (px) | 95 % interval | full better | row better | within 0.5 px |');
    L.push('|---|---|---|---|---|---|---|');
    for (const c of r.ablations) L.push(`| ${c.b} | ${c.pairs} | ${f(c.meanDiff)} | [${f(c.ci[0])}, ${f(c.ci[1])}] | ${c.aBetter} | ${c.bBetter} | ${c.ties} |`);
  }
  L.push('');
  if (r.exact.length) L.push(...r.exact);
  L.push(...r.stability);
  const sweeps = stabilitySweeps(r.repoRoot);
  if (sweeps.length) {
    L.push('### How the stability defaults were chosen', '');
    L.push('Sweeps on the tuning half of the tasks (even positions) and their long-drag variants, by `apps/bench/scripts/stability-sweep.ts`; the tables are its own output, kept in `apps/bench/results/stability-sweep-*.md` and copied here by every bench run.', '');
    for (const text of sweeps) L.push(text.trim().replace(/^### /, '#### ').replace(/\n#### /g, '\n##### '), '');
  }
  L.push('## Tables 4–5 — sensitivity to τ and λ');
  L.push('');
  L.push(r.sweepNote);
  L.push('');
  const sweep = (title: string, sym: string, rows: ReportInput['tauSweep']): void => {
    L.push(`${title}`);
    L.push('');
    L.push(`| ${sym} | ${rows.map((x) => x.label).join(' | ')} |`);
    L.push(`|---|${rows.map(() => '---').join('|')}|`);
    L.push(`| MD / SSIM | ${rows.map((x) => mdIf(x.summary)).join(' | ')} |`);
    L.push(`| 1−MAE | ${rows.map((x) => f(x.summary?.mae1, 4)).join(' | ')} |`);
    L.push('');
  };
  sweep('Table 4: τ, with λ = 0.', 'τ', r.tauSweep);
  sweep('Table 5: λ, with τ = 0.', 'λ', r.lambdaSweep);
  L.push('## Mean Distance: error of the measure itself');
  L.push('');
  L.push('The NCC locator run on the task images with a known answer (each handle of every task, the same search box as the benchmark).');
  L.push('');
  L.push('| case | what | n | mean error (px) | 95th pct | max | > 2 px |');
  L.push('|---|---|---|---|---|---|---|');
  for (const e of r.nccError) L.push(`| ${e.family} | ${e.description} | ${e.n} | ${f(e.mean, 3)} | ${f(e.p95, 3)} | ${f(e.max, 3)} | ${f(100 * e.gross, 1)} % |`);
  L.push('');
  L.push('## Speed');
  L.push('');
  L.push(r.speedNote);
  L.push('');
  L.push('Per optimisation step, ms (mean over steps 2…N of every run; forward = generator to the features, backward = the VJP to W+, tracking and supervision in TypeScript).');
  L.push('');
  L.push('| runtime | method | forward | backward | tracking | supervision | Adam | total / step | tracker learning | set-up (step 0) | model load | render | peak RSS |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of r.speed) {
    if ('error' in s) {
      L.push(`| ${s.runtime} | failed: ${s.error.replace(/\|/g, '/').slice(0, 200)} | | | | | | | | | | | |`);
      continue;
    }
    for (const [m, v] of Object.entries(s.methods)) {
      const p = v.perStep;
      L.push(
        `| ${s.description} | ${m} | ${f(p.forward, 1)} | ${f(p.backward, 1)} | ${f(p.track, 2)} | ${f(p.supervise, 2)} | ${f(p.optimizer, 2)} | ${f(p.total, 1)} | ${f(v.trackerInitMs, 1)} ms | ${f(v.setupMs, 1)} ms | ${f(s.loadMs / 1000, 2)} s | ${f(s.renderMs, 1)} ms | ${f(s.peakRssMiB, 0)} MiB |`,
      );
    }
  }
  L.push('');
  if (r.trackerLearning.length) {
    L.push('Tracker learning (step 0: templates, and for DPT the filters z_i of Eq. 3), mean per drag over the quality runs above:');
    L.push('');
    L.push(`| method | ${r.trackerLearning.map((t) => t.label).join(' | ')} |`);
    L.push(`|---|${r.trackerLearning.map(() => '---').join('|')}|`);
    L.push(`| ms | ${r.trackerLearning.map((t) => f(t.ms, 2)).join(' | ')} |`);
    L.push('');
  }
  L.push(`Peak RSS of the whole quality run (all methods, one process): ${f(r.peakRssMiB, 0)} MiB.`);
  L.push('');
  // The diffusion section is bench:diffusion's own output (src/diffusion/main.ts), copied as it is.
  const diffusion = join(r.repoRoot, 'apps', 'bench', 'results', 'diffusion.md');
  if (existsSync(diffusion)) L.push(readFileSync(diffusion, 'utf8').trim(), '');
  const others = otherSections(r.repoRoot);
  if (others.length) {
    L.push('## Other packages');
    L.push('');
    L.push(...others);
  }
  if (r.notes.length) {
    L.push('## Notes');
    L.push('');
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  L.push('## Conclusion');
  L.push('');
  L.push(r.closing);
  L.push('');
  return L.join('\n');
}
