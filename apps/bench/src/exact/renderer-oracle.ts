import { mean, type Summary } from '../aggregate.js';
import { oneMinusMae, ssim } from '../metrics/fidelity.js';
import { locatePatch } from '../metrics/ncc.js';
import type { PreparedTask } from '../runner.js';

/**
 * Table 2's "(renderer's exact edit)" row for tasks with exact answers: the patch matcher and the
 * fidelity measures on the renderer's own original and exact edit, i.e. the floor of MD on an edit
 * that really happened. Null when no task has an answer.
 */
export function rendererOracle(prepared: readonly PreparedTask[]): Summary | null {
  const rows = prepared.filter((p) => p.exact);
  if (rows.length === 0) return null;
  const located = rows.flatMap(({ task, exact }) =>
    task.pairs.map((p) => ({ p, r: locatePatch(exact!.answer.rendererOriginal, exact!.answer.rendererEdit, p.handle, p.target) })),
  );
  const mds = located.map(({ p, r }) => Math.hypot(r.point.x - p.target.x, r.point.y - p.target.y));
  return {
    method: 'oracle', budget: 0, tasks: rows.length, pairs: mds.length, md: mean(mds),
    mdShort: null, mdMedium: null, mdLong: null, mdTextured: null, texturedPairs: 0,
    ssim: mean(rows.map((p) => ssim(p.exact!.answer.rendererOriginal, p.exact!.answer.rendererEdit).all)), ssimFixed: null,
    mae1: mean(rows.map((p) => oneMinusMae(p.exact!.answer.rendererOriginal, p.exact!.answer.rendererEdit).all)), mae1Fixed: null,
    converged: Number.NaN, meanUpdates: Number.NaN, ncc: Number.NaN, edgePeaks: located.filter(({ r }) => r.onEdge).length, trackerMd: Number.NaN, templateShare: Number.NaN, dragSeconds: Number.NaN,
  };
}
