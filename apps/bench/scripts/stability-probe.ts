/**
 * Diagnostic: runs drags step by step and prints, per setting, where the tracker thinks the
 * handle is, the confidence, the template-branch share, the feature RMS relative to F0, and at
 * the end the patch matcher's distance and 1−MAE outside the pairs' region.
 *
 *   pnpm --filter bench exec tsx --conditions=@stabledrag/source scripts/stability-probe.ts [--steps 300]
 */
import { DragSession, type DragBackend, type DragLatent, type ForwardOptions, type ForwardPass, type Point } from '@stabledrag/core';
import { createMethod, defaultRadii } from '@stabledrag/cli';
import { loadBackend } from '../src/backends.js';
import { toFloat } from '../src/image.js';
import { locatePatch } from '../src/metrics/ncc.js';

interface Drag { name: string; seed: number; pairs: { handle: Point; target: Point }[] }
const DRAGS: Drag[] = [
  { name: 'seed4 60,70→90,70', seed: 4, pairs: [{ handle: { x: 60, y: 70 }, target: { x: 90, y: 70 } }] },
  { name: 'seed76 64,30→64,15', seed: 76, pairs: [{ handle: { x: 64, y: 30 }, target: { x: 64, y: 15 } }] },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

/** Wraps a backend to record the RMS of every forward's features. */
class RmsBackend implements DragBackend {
  readonly specificationVersion = 'v1' as const;
  rms: number[] = [];
  constructor(private readonly inner: DragBackend) {}
  get info() { return this.inner.info; }
  createLatent(...a: Parameters<DragBackend['createLatent']>) { return this.inner.createLatent(...a); }
  render(...a: Parameters<DragBackend['render']>) { return this.inner.render(...a); }
  dispose() { return this.inner.dispose(); }
  async forward(latent: DragLatent, options?: ForwardOptions): Promise<ForwardPass> {
    const pass = await this.inner.forward(latent, options);
    const d = pass.features.data;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
    this.rms.push(Math.sqrt(s / d.length));
    return pass;
  }
}

/** 1 − MAE over pixels farther than `radius` from every handle and target. */
function outsideFidelity(a: Float32Array, b: Float32Array, size: number, pts: Point[], radius: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    if (pts.some((p) => Math.hypot(p.x - x, p.y - y) < radius)) continue;
    for (let c = 0; c < 3; c++) { const k = (y * size + x) * 3 + c; sum += Math.abs(a[k]! - b[k]!); n++; }
  }
  return 1 - sum / n;
}

const settings: { label: string; method: 'stabledrag' | 'draggan'; normalisation?: 'gated' | 'magnitude' | 'cosine' | 'none'; lr?: number; lambda?: number; tau?: number }[] = JSON.parse(arg('settings', JSON.stringify([
  { label: 'draggan', method: 'draggan' },
  { label: 'stable none', method: 'stabledrag', normalisation: 'none' },
  { label: 'stable magnitude', method: 'stabledrag', normalisation: 'magnitude' },
  { label: 'stable cosine', method: 'stabledrag', normalisation: 'cosine' },
])));
const steps = Number(arg('steps', '300'));
const { backend: base } = await loadBackend('node');
const backend = new RmsBackend(base);
const { r1, r2 } = defaultRadii(backend.info.imageHeight);
for (const drag of DRAGS) {
  const latent = await backend.createLatent({ type: 'seed', seed: drag.seed });
  const original = toFloat(await backend.render(latent));
  for (const s of settings) {
    const m = createMethod(s.method, { r1, r2, ...(s.normalisation ? { normalisation: s.normalisation as 'gated' } : {}), ...(s.lambda !== undefined ? { lambda: s.lambda } : {}), ...(s.tau !== undefined ? { tau: s.tau } : {}) });
    backend.rms = [];
    const session = new DragSession({ backend, tracker: m.tracker, supervisor: m.supervisor, latent, pairs: drag.pairs, maxSteps: steps, ...(s.lr ? { learningRate: s.lr } : {}) });
    const res = await session.run();
    const img = toFloat(await backend.render(res.latent));
    const pts = drag.pairs.flatMap((p) => [p.handle, p.target]);
    const fid = outsideFidelity(original.data, img.data, original.width, pts, 20);
    const found = drag.pairs.map((p) => locatePatch(original, img, p.handle, p.target));
    const md = found.map((f, i) => Math.hypot(f.point.x - drag.pairs[i]!.target.x, f.point.y - drag.pairs[i]!.target.y));
    const conf = res.history.map((e) => e.confidences[0]!);
    const tmpl = res.history.filter((e) => e.branches.includes('template')).length;
    const rmsMax = Math.max(...backend.rms) / backend.rms[0]!;
    const trace = [1, 10, 25, 50, 100, 150, 200, 250, 300].filter((k) => k <= res.history.length).map((k) => {
      const e = res.history[k - 1]!;
      return `${k}:${e.distances[0]!.toFixed(0)}px c${e.confidences[0]!.toFixed(2)} rms${(backend.rms[k - 1]! / backend.rms[0]!).toFixed(2)}`;
    }).join(' | ');
    console.log(`${drag.name} | ${s.label}: ${res.stopReason} after ${res.steps}; tracker ${res.history.at(-1)!.distances.map((d) => d.toFixed(1))} px; patch MD ${md.map((d) => d.toFixed(1))} (ncc ${found.map((f) => f.score.toFixed(2))}); outside 1-MAE ${fid.toFixed(3)}; conf max ${Math.max(...conf).toFixed(2)} min ${Math.min(...conf).toFixed(2)}; template steps ${tmpl}; rms max ×${rmsMax.toFixed(2)}`);
    console.log('   ', trace);
  }
}
await backend.dispose();
