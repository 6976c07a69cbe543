/**
 * Diagnostic: runs drags step by step and prints, per setting, where the tracker thinks the
 * handle is, the confidence, the template-branch share, the feature RMS relative to F0, and at
 * the end the patch matcher's distance and 1−MAE outside the edit region (stability.ts).
 *
 *   pnpm --filter bench exec tsx --conditions=@stabledrag/source scripts/stability-probe.ts [--steps 300]
 */
import { DragSession, type Point } from '@stabledrag/core';
import { createMethod, defaultRadii } from '@stabledrag/cli';
import { loadBackend } from '../src/backends.js';
import { toFloat } from '../src/image.js';
import { locatePatch } from '../src/metrics/ncc.js';
import { outsideFidelity } from '../src/stability.js';

interface Drag { name: string; seed: number; pairs: { handle: Point; target: Point }[] }
const DRAGS: Drag[] = [
  { name: 'seed4 60,70→90,70', seed: 4, pairs: [{ handle: { x: 60, y: 70 }, target: { x: 90, y: 70 } }] },
  { name: 'seed76 64,30→64,15', seed: 76, pairs: [{ handle: { x: 64, y: 30 }, target: { x: 64, y: 15 } }] },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const settings: { label: string; method: 'stabledrag' | 'draggan'; normalisation?: 'gated' | 'magnitude' | 'cosine' | 'none'; lr?: number; lambda?: number; tau?: number }[] = JSON.parse(arg('settings', JSON.stringify([
  { label: 'draggan', method: 'draggan' },
  { label: 'stable none', method: 'stabledrag', normalisation: 'none' },
  { label: 'stable magnitude', method: 'stabledrag', normalisation: 'magnitude' },
  { label: 'stable cosine', method: 'stabledrag', normalisation: 'cosine' },
])));
const steps = Number(arg('steps', '300'));
const { backend } = await loadBackend('node');
const { r1, r2 } = defaultRadii(backend.info.imageHeight);
for (const drag of DRAGS) {
  const latent = await backend.createLatent({ type: 'seed', seed: drag.seed });
  const original = toFloat(await backend.render(latent));
  for (const s of settings) {
    const m = createMethod(s.method, { r1, r2, ...(s.normalisation ? { normalisation: s.normalisation as 'gated' } : {}), ...(s.lambda !== undefined ? { lambda: s.lambda } : {}), ...(s.tau !== undefined ? { tau: s.tau } : {}) });
    const session = new DragSession({ backend, tracker: m.tracker, supervisor: m.supervisor, latent, pairs: drag.pairs, maxSteps: steps, ...(s.lr ? { learningRate: s.lr } : {}) });
    const res = await session.run();
    const img = toFloat(await backend.render(res.latent));
    const fid = outsideFidelity(original, img, drag.pairs);
    const found = drag.pairs.map((p) => locatePatch(original, img, p.handle, p.target));
    const md = found.map((f, i) => Math.hypot(f.point.x - drag.pairs[i]!.target.x, f.point.y - drag.pairs[i]!.target.y));
    const conf = res.history.map((e) => e.confidences[0]!);
    const tmpl = res.history.filter((e) => e.branches.includes('template')).length;
    const rmsMax = Math.max(...res.history.map((e) => e.featureRmsRatio));
    const trace = [1, 10, 25, 50, 100, 150, 200, 250, 300].filter((k) => k <= res.history.length).map((k) => {
      const e = res.history[k - 1]!;
      return `${k}:${e.distances[0]!.toFixed(0)}px c${e.confidences[0]!.toFixed(2)} rms${e.featureRmsRatio.toFixed(2)}`;
    }).join(' | ');
    console.log(`${drag.name} | ${s.label}: ${res.stopReason} after ${res.steps}; tracker ${res.history.at(-1)!.distances.map((d) => d.toFixed(1))} px; patch MD ${md.map((d) => d.toFixed(1))} (ncc ${found.map((f) => f.score.toFixed(2))}); outside 1-MAE ${fid.toFixed(3)}; conf max ${Math.max(...conf).toFixed(2)} min ${Math.min(...conf).toFixed(2)}; template steps ${tmpl}; rms max ×${rmsMax.toFixed(2)}`);
    console.log('   ', trace);
  }
}
await backend.dispose();
