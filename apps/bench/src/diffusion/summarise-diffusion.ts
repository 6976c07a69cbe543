import { bootstrapInterval, TEXTURED } from '../aggregate.js';
import type { DiffusionRunRecord, DiffusionTaskRecord } from './run-diffusion-task.js';
import type { DiffusionEditScore } from './score-diffusion-edit.js';

/** The measures of one set of edits (one method at one budget, or a reference row). */
export interface DiffusionSummary {
  readonly tasks: number;
  readonly pairs: number;
  /** (a) Mean Distance, patch matcher vs target, pixels. */
  readonly md: number;
  /** (a) over the pairs with a textured handle patch only (null when none). */
  readonly mdTextured: number | null;
  /** (b) Mean Distance, patch matcher vs the exact edit's landing point (null for photos). */
  readonly mdExact: number | null;
  readonly outsideMae1: number | null;
  readonly outsideSsim: number | null;
  readonly exactMae1: number | null;
  readonly exactSsim: number | null;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanOrNull = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? mean(v) : null;
};

/** Averages scores: distances over all pairs of all tasks (as DragBench's MD), fidelity over tasks. */
export function summariseScores(scores: readonly DiffusionEditScore[]): DiffusionSummary | null {
  if (scores.length === 0) return null;
  const pairs = scores.flatMap((s) => s.pairs);
  return {
    tasks: scores.length,
    pairs: pairs.length,
    md: mean(pairs.map((p) => p.distance)),
    mdTextured: meanOrNull(pairs.filter((p) => p.texture >= TEXTURED).map((p) => p.distance)),
    mdExact: meanOrNull(pairs.map((p) => p.exactDistance)),
    outsideMae1: meanOrNull(scores.map((s) => s.outsideMae1)),
    outsideSsim: meanOrNull(scores.map((s) => s.outsideSsim)),
    exactMae1: meanOrNull(scores.map((s) => s.exactMae1)),
    exactSsim: meanOrNull(scores.map((s) => s.exactSsim)),
  };
}

export function scoreAt(run: DiffusionRunRecord, budget: number): DiffusionEditScore | undefined {
  return run.scores.find((s) => s.budget === budget)?.score;
}

/** One method at one budget over the tasks it ran. */
export function summariseMethod(runs: readonly DiffusionRunRecord[], method: string, budget: number): DiffusionSummary | null {
  return summariseScores(runs.filter((r) => r.method === method).flatMap((r) => scoreAt(r, budget) ?? []));
}

/** A reference row from the task records: the unedited source, the reconstruction, the exact edit. */
export function summariseReference(tasks: readonly DiffusionTaskRecord[], which: 'noEdit' | 'reconstruction' | 'exactEdit'): DiffusionSummary | null {
  return summariseScores(tasks.flatMap((t) => t[which] ?? []));
}

/** Which measures the paired comparison covers, and whether lower is better. */
export const PAIRED_METRICS = [
  { key: 'md', label: 'MD (a), px', lowerIsBetter: true, perTask: (s: DiffusionEditScore) => s.pairs.map((p) => p.distance) },
  { key: 'mdExact', label: 'MD (b) vs exact landing point, px', lowerIsBetter: true, perTask: (s: DiffusionEditScore) => s.pairs.flatMap((p) => (p.exactDistance === null ? [] : [p.exactDistance])) },
  { key: 'outsideMae1', label: '1 − MAE outside', lowerIsBetter: false, perTask: (s: DiffusionEditScore) => (s.outsideMae1 === null ? [] : [s.outsideMae1]) },
  { key: 'outsideSsim', label: 'SSIM outside', lowerIsBetter: false, perTask: (s: DiffusionEditScore) => (s.outsideSsim === null ? [] : [s.outsideSsim]) },
  { key: 'exactMae1', label: '1 − MAE vs exact edit, in region', lowerIsBetter: false, perTask: (s: DiffusionEditScore) => (s.exactMae1 === null ? [] : [s.exactMae1]) },
  { key: 'exactSsim', label: 'SSIM vs exact edit, in region', lowerIsBetter: false, perTask: (s: DiffusionEditScore) => (s.exactSsim === null ? [] : [s.exactSsim]) },
] as const;

export interface PairedDifference {
  readonly metric: (typeof PAIRED_METRICS)[number]['key'];
  readonly label: string;
  readonly lowerIsBetter: boolean;
  readonly budget: number;
  /** Tasks both methods ran, and the values compared (pairs for distances, tasks for fidelity). */
  readonly tasks: number;
  readonly n: number;
  /** mean(a − b) over the paired values. */
  readonly meanDiff: number;
  /** 95 % bootstrap interval (aggregate.ts: whole tasks resampled). */
  readonly ci: readonly [number, number];
}

/**
 * a − b on every measure at one budget, paired by task (and pair), with the GAN benchmark's
 * bootstrap interval. The interval excluding 0 is what the report calls a difference.
 */
export function pairedDifferences(runs: readonly DiffusionRunRecord[], a: string, b: string, budget: number): PairedDifference[] {
  const byTask = new Map<string, { a?: DiffusionEditScore; b?: DiffusionEditScore }>();
  for (const r of runs) {
    if (r.method !== a && r.method !== b) continue;
    const s = scoreAt(r, budget);
    if (!s) continue;
    const e = byTask.get(r.task) ?? {};
    e[r.method === a ? 'a' : 'b'] = s;
    byTask.set(r.task, e);
  }
  const both = [...byTask.values()].filter((e): e is { a: DiffusionEditScore; b: DiffusionEditScore } => !!e.a && !!e.b);
  const out: PairedDifference[] = [];
  for (const m of PAIRED_METRICS) {
    const groups = both.map((e) => {
      const va = m.perTask(e.a);
      const vb = m.perTask(e.b);
      return va.length === vb.length ? va.map((v, i) => v - vb[i]!) : [];
    }).filter((g) => g.length > 0);
    if (groups.length === 0) continue;
    const flat = groups.flat();
    out.push({ metric: m.key, label: m.label, lowerIsBetter: m.lowerIsBetter, budget, tasks: groups.length, n: flat.length, meanDiff: mean(flat), ci: bootstrapInterval(groups) });
  }
  return out;
}

/** Where the time of one edit goes, per method (means over its runs). */
export interface DiffusionTimeSplit {
  readonly method: string;
  readonly runs: number;
  readonly encodeMs: number;
  readonly invertMs: number;
  readonly loraMs: number;
  /** Per drag step (steps that took an update): DragSession's own timings. */
  readonly step: { readonly forward: number; readonly backward: number; readonly track: number; readonly supervise: number; readonly optimizer: number; readonly total: number };
  readonly steps: number;
  /** Tracker init (templates; StableDrag-Diff also learns its filters, Eq. 3), ms. */
  readonly trackerInitMs: number;
  /** The whole drag loop of the largest budget (setup, steps, tracking), ms. */
  readonly dragMs: number;
  readonly denoiseMs: number;
  readonly decodeMs: number;
  /** encode + inversion + LoRA + drag loop + one denoise and decode: one user's edit, ms. */
  readonly editMs: number;
  readonly peakRssMiB: number;
}

export function timeSplit(tasks: readonly DiffusionTaskRecord[], runs: readonly DiffusionRunRecord[], method: string): DiffusionTimeSplit | null {
  const rs = runs.filter((r) => r.method === method);
  if (rs.length === 0) return null;
  const prep = new Map(tasks.map((t) => [t.task, t]));
  const n = rs.reduce((a, r) => a + r.timings.n, 0);
  const per = (k: 'forward' | 'backward' | 'track' | 'supervise' | 'optimizer' | 'total'): number => (n > 0 ? rs.reduce((a, r) => a + r.timings[k], 0) / n : Number.NaN);
  const edits = rs.map((r) => {
    const t = prep.get(r.task);
    return (t ? t.encodeMs + t.invertMs + t.loraMs : 0) + r.wallMs + r.denoiseMs + r.decodeMs;
  });
  const own = rs.map((r) => prep.get(r.task)).filter((t): t is DiffusionTaskRecord => t !== undefined);
  return {
    method,
    runs: rs.length,
    encodeMs: own.length ? mean(own.map((t) => t.encodeMs)) : Number.NaN,
    invertMs: own.length ? mean(own.map((t) => t.invertMs)) : Number.NaN,
    loraMs: own.length ? mean(own.map((t) => t.loraMs)) : Number.NaN,
    step: { forward: per('forward'), backward: per('backward'), track: per('track'), supervise: per('supervise'), optimizer: per('optimizer'), total: per('total') },
    steps: mean(rs.map((r) => r.steps)),
    trackerInitMs: mean(rs.map((r) => r.trackerInitMs)),
    dragMs: mean(rs.map((r) => r.wallMs)),
    denoiseMs: mean(rs.map((r) => r.denoiseMs)),
    decodeMs: mean(rs.map((r) => r.decodeMs)),
    editMs: mean(edits),
    peakRssMiB: Math.max(...rs.map((r) => r.peakRssMiB)),
  };
}
