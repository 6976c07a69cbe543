import type { RunRecord } from '../runner.js';
import type { LocatorErrors } from './exact-locator-error.js';
import { measureGap, pairedExact, summariseExact, type PairedMean } from './summarise-exact.js';

export interface ExactSectionInput {
  readonly records: readonly RunRecord[];
  /** Table 2's methods in order; the first is DragGAN, the last full StableDrag. */
  readonly methods: readonly { readonly id: string; readonly label: string }[];
  readonly budgets: readonly number[];
  readonly midBudget: number;
  readonly locator: LocatorErrors;
}

/** Share of the drag length at which the done-when of issue #13 item 3 draws the line. */
export const MD_SHARE_LIMIT = 0.4;

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const ci = (p: PairedMean | null, d = 2): string => (p ? `${f(p.mean, d)} [${f(p.ci[0], d)}, ${f(p.ci[1], d)}]` : '–');
const pct = (v: number, of: number): string => `${f((100 * v) / of, 0)} %`;

/** Markdown lines of the "Exact answers" section; empty when no run carried exact scores. */
export function renderExactSection(r: ExactSectionInput): string[] {
  const first = r.methods[0]!;
  const last = r.methods[r.methods.length - 1]!;
  const noEdit = summariseExact(r.records, first.id, 0);
  if (!noEdit) return [];
  const { locator } = r;
  const tol = locator.patch + locator.exact;
  const L: string[] = ['## Exact answers (faces2 renderer, issue #13)', ''];
  L.push(
    `On ${noEdit.tasks} tasks (${noEdit.pairs} pairs) the renderer knows the exact edit: the warp solved so each handle's content lands on its target (within 0.25 px) and the fixed region stays, inside the training range. ` +
      "**The model's image of the exact edit**: an exact edit changes only the renderer's warp, so it is the original scene moved; the model's image of the seed is moved by the same flow (`src/exact/faces2-flow.ts`; on the renderer's own images this reproduces its exact edit to 1 − MAE 0.995), which gives the exact geometry in the model's appearance. " +
      "(The model's own render of θ′ is not used: θ′ sets tens of warp entries near ±1 at once, far from any seed, where the model's displacement head moves content about 1.5× as far as the renderer, `tools/train/exact_head_check.py`; the last row of \"Error of the two locators\" shows where that render puts the content.) " +
      "**MD (exact)**: the handle's content is found in the method's edit with a template from the model's image of the exact edit around the point where the content landed (so it shows the content deformed as an exact edit deforms it), then its distance to the target. " +
      "**→ exact**: SSIM and 1 − MAE of the method's edit against the model's image of the exact edit; \"→ renderer\" against the renderer's own image (it carries the model's imitation error). " +
      '"(no edit)" scores the unedited image the same way, so the gain of an edit is the difference to that row.',
    '',
  );
  L.push(`### At ${r.midBudget} steps`, '');
  L.push('| method | MD patch (px) | MD exact (px) | MD exact / drag length | SSIM → exact ↑ | 1−MAE → exact ↑ | SSIM → renderer | 1−MAE → renderer |');
  L.push('|---|---|---|---|---|---|---|---|');
  const row = (label: string, id: string, budget: number): void => {
    const s = summariseExact(r.records, id, budget);
    if (s) L.push(`| ${label} | ${f(s.mdPatch)} | ${f(s.md)} | ${pct(s.md, s.meanLength)} | ${f(s.ssim, 3)} | ${f(s.mae1, 4)} | ${f(s.ssimRenderer, 3)} | ${f(s.mae1Renderer, 4)} |`);
  };
  row('(no edit)', first.id, 0);
  for (const m of r.methods) row(m.label, m.id, r.midBudget);
  L.push('');
  L.push(
    `### DragGAN and StableDrag per budget`,
    '',
    'MD as a share of the mean drag length (the done-when of issue #13 item 3: below 40 % at 60 steps by both measures); "patch − exact" = the two measures\' difference pair by pair, and the gains = the edit\'s similarity to the exact edit minus the unedited image\'s, with 95 % bootstrap intervals over tasks.',
    '',
  );
  L.push('| steps | method | drag length (px) | MD patch | MD exact | patch − exact (px) | SSIM → exact gain | 1−MAE → exact gain |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const b of r.budgets) {
    for (const m of [first, last]) {
      const s = summariseExact(r.records, m.id, b);
      if (!s) continue;
      L.push(
        `| ${b} | ${m.label} | ${f(s.meanLength)} | ${f(s.mdPatch)} (${pct(s.mdPatch, s.meanLength)}) | ${f(s.md)} (${pct(s.md, s.meanLength)}) | ${ci(measureGap(r.records, m.id, b))} | ${ci(pairedExact(r.records, 'ssim', m.id, b, m.id, 0), 3)} | ${ci(pairedExact(r.records, 'mae1', m.id, b, m.id, 0), 4)} |`,
      );
    }
  }
  L.push('', `Paired ${last.label} − ${first.label} on the same tasks (negative ΔMD: closer; positive Δsimilarity: nearer the exact edit):`, '');
  L.push('| steps | ΔMD exact (px) | ΔMD patch (px) | ΔSSIM → exact | Δ(1−MAE) → exact |');
  L.push('|---|---|---|---|---|');
  for (const b of r.budgets) {
    const md = pairedExact(r.records, 'md', last.id, b, first.id, b);
    if (!md) continue;
    const patch = pairedExact(r.records, 'mdPatch', last.id, b, first.id, b);
    L.push(`| ${b} | ${ci(md)} | ${ci(patch)} | ${ci(pairedExact(r.records, 'ssim', last.id, b, first.id, b), 3)} | ${ci(pairedExact(r.records, 'mae1', last.id, b, first.id, b), 4)} |`);
  }
  L.push('', '### Error of the two locators', '');
  L.push(
    "Both measures on images whose answer the renderer knows (each pair of every task). The mean over a measure's cases on the model's images (moved by the exact or half-way flow, or unmoved) is the error it states below. These images change the content's geometry as an edit does but not its rendering, so the stated errors are a floor: a method's edit also redraws the content.",
    '',
  );
  L.push('| measure | image | n | mean error (px) | 95th pct | max | > 2 px |');
  L.push('|---|---|---|---|---|---|---|');
  for (const e of locator.cases) L.push(`| ${e.family} | ${e.description} | ${e.n} | ${f(e.mean, 3)} | ${f(e.p95, 3)} | ${f(e.max, 3)} | ${f(100 * e.gross, 1)} % |`);
  L.push('', `Stated error: patch matching ${f(locator.patch)} px, exact template ${f(locator.exact)} px; the measures agree when their mean difference is within ${f(tol)} px.`, '');
  L.push(...verdicts(r, tol), '');
  return L;
}

/** The done-when of issue #13 item 3, per method, at 60 steps (or the middle budget without 60). */
function verdicts(r: ExactSectionInput, tol: number): string[] {
  const b = r.budgets.includes(60) ? 60 : r.midBudget;
  return [r.methods[0]!, r.methods[r.methods.length - 1]!].flatMap((m) => {
    const s = summariseExact(r.records, m.id, b);
    const gap = measureGap(r.records, m.id, b);
    if (!s || !gap) return [];
    const below = s.md < MD_SHARE_LIMIT * s.meanLength && s.mdPatch < MD_SHARE_LIMIT * s.meanLength;
    const agree = Math.abs(gap.mean) <= tol;
    return [
      `- ${m.label} at ${b} steps: MD ${f(s.mdPatch)} px by patch matching and ${f(s.md)} px by the exact template, ${pct(s.mdPatch, s.meanLength)} and ${pct(s.md, s.meanLength)} of the ${f(s.meanLength)} px drags (${below ? 'both below' : 'not both below'} 40 %); the measures differ by ${f(gap.mean)} px (${agree ? 'within' : 'beyond'} the stated ${f(tol)} px).`,
    ];
  });
}
