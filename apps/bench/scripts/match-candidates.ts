// For every candidate pair, checks that the generator renders the handle's content: the
// renderer's patch around the handle is found at the handle in the generator's sample of the seed
// (NCC ≤ 2 px, peak ≥ 0.6) and the generator's patch there is textured. Writes CANDIDATE_DIR/
// generator-match.json, which select-tasks.ts uses as a filter.
// Usage: tsx scripts/match-candidates.ts CANDIDATE_DIR [MODEL_DIR]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBackend } from '../src/backends.js';
import { readPng, toFloat, type FloatImage } from '../src/image.js';
import { locatePatch } from '../src/metrics/ncc.js';

interface Cand { id: string; seed: number; pairs: { handle: [number, number]; target: [number, number]; landmark: string }[] }
const [dir, modelDir] = process.argv.slice(2) as [string, string | undefined];
const { backend } = await loadBackend('node', modelDir ? resolve(modelDir) : undefined);
const cands = JSON.parse(readFileSync(join(dir, 'candidates.json'), 'utf8')) as Cand[];
const samples = new Map<number, FloatImage>();
const ok: string[] = [];
for (const c of cands) {
  let g = samples.get(c.seed);
  if (!g) {
    g = toFloat(await backend.render(await backend.createLatent({ type: 'seed', seed: c.seed, truncation: 1 })));
    samples.set(c.seed, g);
  }
  const o = toFloat(readPng(join(dir, `${c.id}-original.png`)));
  for (const p of c.pairs) {
    const h = { x: p.handle[0], y: p.handle[1] };
    const r = locatePatch(o, g, h, h);
    const self = locatePatch(g, g, h, h);
    if (Math.hypot(r.point.x - h.x, r.point.y - h.y) <= 2 && r.score >= 0.6 && self.templateStd >= 0.03) ok.push(`${c.id}|${p.landmark}`);
  }
}
writeFileSync(join(dir, 'generator-match.json'), JSON.stringify(ok));
console.log(`${ok.length} of ${cands.reduce((a, c) => a + c.pairs.length, 0)} candidate pairs are rendered by the generator`);
await backend.dispose();
