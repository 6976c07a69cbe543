import { createRng } from '@stabledrag/core';
import type { RunRecord } from './runner.js';

export interface Summary {
  readonly method: string;
  readonly budget: number;
  readonly tasks: number;
  readonly pairs: number;
  /** Mean Distance over all pairs of all tasks, pixels. */
  readonly md: number;
  /** MD by drag length: ≤ 10 px, 10–20 px, > 20 px (null where no pair falls in the bucket). */
  readonly mdShort: number | null;
  readonly mdMedium: number | null;
  readonly mdLong: number | null;
  /** MD over the pairs whose handle patch is textured (weighted std ≥ 0.03), and their count. */
  readonly mdTextured: number | null;
  readonly texturedPairs: number;
  readonly ssim: number;
  /** Over the tasks with a mask only. */
  readonly ssimFixed: number | null;
  readonly mae1: number;
  readonly mae1Fixed: number | null;
  /** Share of drags whose tracked handles all reached their targets within the budget. */
  readonly converged: number;
  readonly meanUpdates: number;
  /** Mean ZNCC peak of the located handles (how recognisable the content stayed). */
  readonly ncc: number;
  /** Pairs whose NCC peak lay on the search box's edge: their MD is a guess, not a measurement. */
  readonly edgePeaks: number;
  /** Mean of the tracker's own final handle-to-target distance, pixels. */
  readonly trackerMd: number;
  /** Share of supervised handle-steps that used the template branch (Eq. 4) over the whole run. */
  readonly templateShare: number;
  /** Mean wall time of one drag (the whole run, up to the largest budget), seconds. */
  readonly dragSeconds: number;
}

/** Weighted patch std above which a handle counts as textured (NCC places it reliably). */
export const TEXTURED = 0.03;

/** Arithmetic mean; NaN for no values. */
export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const meanOrNull = (xs: readonly number[]): number | null => (xs.length ? mean(xs) : null);

export function summarise(records: readonly RunRecord[], method: string, budget: number, taskFilter?: ReadonlySet<string>): Summary | null {
  const runs = records.filter((r) => r.method === method && (!taskFilter || taskFilter.has(r.task)) && r.budgets.some((b) => b.budget === budget));
  const rows = runs.map((r) => r.budgets.find((b) => b.budget === budget)!);
  if (rows.length === 0) return null;
  const pairs = rows.flatMap((b) => b.pairs);
  const bucket = (lo: number, hi: number): number | null => meanOrNull(pairs.filter((p) => p.length > lo && p.length <= hi).map((p) => p.distance));
  return {
    method,
    budget,
    tasks: rows.length,
    pairs: pairs.length,
    md: mean(pairs.map((p) => p.distance)),
    mdShort: bucket(0, 10),
    mdMedium: bucket(10, 20),
    mdLong: bucket(20, Infinity),
    mdTextured: meanOrNull(pairs.filter((p) => p.texture >= TEXTURED).map((p) => p.distance)),
    texturedPairs: pairs.filter((p) => p.texture >= TEXTURED).length,
    ssim: mean(rows.map((b) => b.ssim)),
    ssimFixed: meanOrNull(rows.flatMap((b) => (b.ssimFixed === null ? [] : [b.ssimFixed]))),
    mae1: mean(rows.map((b) => b.mae1)),
    mae1Fixed: meanOrNull(rows.flatMap((b) => (b.mae1Fixed === null ? [] : [b.mae1Fixed]))),
    converged: mean(rows.map((b) => (b.converged ? 1 : 0))),
    meanUpdates: mean(rows.map((b) => b.updates)),
    ncc: mean(pairs.map((p) => p.ncc)),
    edgePeaks: pairs.filter((p) => p.onEdge === true).length,
    trackerMd: mean(rows.flatMap((b) => b.trackerDistances)),
    templateShare: (() => {
      const t = runs.reduce((a, r) => a + r.branches.template, 0);
      const m = runs.reduce((a, r) => a + r.branches.motion, 0);
      return t + m > 0 ? t / (t + m) : 0;
    })(),
    dragSeconds: mean(runs.map((r) => r.wallMs / 1000)),
  };
}

/**
 * 95 % bootstrap interval of the mean of all values, resampling whole groups (tasks) with
 * replacement: the pairs of one task share its image and are not independent. 2000 resamples,
 * seeded, so a report is reproducible.
 */
export function bootstrapInterval(groups: readonly (readonly number[])[], resamples = 2000, seed = 12345): [number, number] {
  const rng = createRng(seed);
  const boots: number[] = [];
  for (let k = 0; k < resamples; k++) {
    const sample: number[] = [];
    for (let i = 0; i < groups.length; i++) sample.push(...groups[Math.floor(rng() * groups.length)]!);
    boots.push(mean(sample));
  }
  boots.sort((x, y) => x - y);
  return [boots[Math.floor(0.025 * boots.length)]!, boots[Math.floor(0.975 * boots.length)]!];
}

export interface PairedComparison {
  readonly a: string;
  readonly b: string;
  readonly budget: number;
  readonly pairs: number;
  /** mean(MD_a − MD_b) over the same pairs; negative = a is closer to the targets. */
  readonly meanDiff: number;
  /** 95 % bootstrap interval of meanDiff (2000 resamples of tasks, seeded). */
  readonly ci: readonly [number, number];
  /** Pairs where a is closer by more than 0.5 px / where b is / neither. */
  readonly aBetter: number;
  readonly bBetter: number;
  readonly ties: number;
}

/** Method a against method b on the pairs both ran, resampling whole tasks for the interval. */
export function compare(records: readonly RunRecord[], a: string, b: string, budget: number, texturedOnly = false): PairedComparison | null {
  const byTask = new Map<string, { a?: number[]; b?: number[]; t?: number[] }>();
  for (const r of records) {
    if (r.method !== a && r.method !== b) continue;
    const res = r.budgets.find((x) => x.budget === budget);
    if (!res) continue;
    const e = byTask.get(r.task) ?? {};
    e[r.method === a ? 'a' : 'b'] = res.pairs.map((p) => p.distance);
    e.t = res.pairs.map((p) => p.texture);
    byTask.set(r.task, e);
  }
  const diffs: number[][] = [];
  for (const e of byTask.values()) {
    if (!e.a || !e.b) continue;
    const d = e.a.map((v, i) => v - e.b![i]!).filter((_, i) => !texturedOnly || e.t![i]! >= TEXTURED);
    if (d.length) diffs.push(d);
  }
  if (diffs.length === 0) return null;
  const flat = diffs.flat();
  return {
    a,
    b,
    budget,
    pairs: flat.length,
    meanDiff: mean(flat),
    ci: bootstrapInterval(diffs),
    aBetter: flat.filter((d) => d < -0.5).length,
    bBetter: flat.filter((d) => d > 0.5).length,
    ties: flat.filter((d) => Math.abs(d) <= 0.5).length,
  };
}
