import { bootstrapInterval, mean } from '../aggregate.js';
import type { BudgetResult, RunRecord } from '../runner.js';

/** One method at one budget against the exact answers. */
export interface ExactSummary {
  readonly method: string;
  readonly budget: number;
  readonly tasks: number;
  readonly pairs: number;
  /** Mean drag length of the pairs, px. */
  readonly meanLength: number;
  /** Mean Distance by the exact template, and by patch matching on the same pairs, px. */
  readonly md: number;
  readonly mdPatch: number;
  /** Against the model's image of the exact answer, mean over tasks. */
  readonly ssim: number;
  readonly mae1: number;
  /** Against the renderer's image of the exact answer. */
  readonly ssimRenderer: number;
  readonly mae1Renderer: number;
}

/** A mean of paired per-pair or per-task values with the bench's 95 % interval (tasks resampled). */
export interface PairedMean {
  readonly n: number;
  readonly mean: number;
  readonly ci: readonly [number, number];
}

/** MD by the exact template, MD by patch matching (on the same pairs), the similarities to the exact edit. */
export type ExactMeasure = 'md' | 'mdPatch' | 'ssim' | 'mae1';

/** Budget results of one method at one budget that carry exact scores, by task. */
function rowsOf(records: readonly RunRecord[], method: string, budget: number): Map<string, BudgetResult> {
  const out = new Map<string, BudgetResult>();
  for (const r of records) {
    if (r.method !== method) continue;
    const b = r.budgets.find((x) => x.budget === budget);
    if (b?.exact) out.set(r.task, b);
  }
  return out;
}

/** Per task, the values of a measure: one per pair for MD, one per task for the similarities. */
function values(b: BudgetResult, measure: ExactMeasure): number[] {
  const e = b.exact!;
  if (measure === 'md') return e.pairs.map((p) => p.distance);
  if (measure === 'mdPatch') return b.pairs.map((p) => p.distance);
  return [measure === 'ssim' ? e.ssim : e.mae1];
}

export function summariseExact(records: readonly RunRecord[], method: string, budget: number): ExactSummary | null {
  const rows = [...rowsOf(records, method, budget).values()];
  if (rows.length === 0) return null;
  const exact = rows.map((b) => b.exact!);
  return {
    method,
    budget,
    tasks: rows.length,
    pairs: exact.reduce((a, e) => a + e.pairs.length, 0),
    meanLength: mean(rows.flatMap((b) => b.pairs.map((p) => p.length))),
    md: mean(exact.flatMap((e) => e.pairs.map((p) => p.distance))),
    mdPatch: mean(rows.flatMap((b) => b.pairs.map((p) => p.distance))),
    ssim: mean(exact.map((e) => e.ssim)),
    mae1: mean(exact.map((e) => e.mae1)),
    ssimRenderer: mean(exact.map((e) => e.ssimRenderer)),
    mae1Renderer: mean(exact.map((e) => e.mae1Renderer)),
  };
}

function paired(groups: number[][]): PairedMean | null {
  const flat = groups.flat();
  return flat.length ? { n: flat.length, mean: mean(flat), ci: bootstrapInterval(groups) } : null;
}

/** measure(a at budgetA) − measure(b at budgetB) on the tasks both ran (e.g. a method against the unedited original: b = a, budgetB = 0). */
export function pairedExact(records: readonly RunRecord[], measure: ExactMeasure, a: string, budgetA: number, b: string, budgetB: number): PairedMean | null {
  const ra = rowsOf(records, a, budgetA);
  const rb = rowsOf(records, b, budgetB);
  const groups: number[][] = [];
  for (const [task, x] of ra) {
    const y = rb.get(task);
    if (!y) continue;
    const va = values(x, measure);
    const vb = values(y, measure);
    groups.push(va.map((v, i) => v - vb[i]!));
  }
  return paired(groups);
}

/** MD by patch matching minus MD by the exact template, pair by pair: how far the two measures disagree. */
export function measureGap(records: readonly RunRecord[], method: string, budget: number): PairedMean | null {
  return paired([...rowsOf(records, method, budget).values()].map((b) => b.pairs.map((p, i) => p.distance - b.exact!.pairs[i]!.distance)));
}
