// Validates the candidates of make_candidates.py with the benchmark's own NCC locator on the exact
// (oracle) edit, picks a balanced task set and writes tasks/*.json, tasks/masks/*.png and
// task-meta.json. Usage: tsx scripts/select-tasks.ts CANDIDATE_DIR [COUNT] [--match]
// --match keeps only the pairs listed in CANDIDATE_DIR/generator-match.json (match-candidates.ts).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readPng, toFloat, writeMaskPng } from '../src/image.js';
import { locatePatch } from '../src/metrics/ncc.js';
import { oneMinusMae, ssim } from '../src/metrics/fidelity.js';

interface CandPair { handle: [number, number]; target: [number, number]; landmark: string }
interface Cand { id: string; seed: number; edit: string; masked: boolean; params: Record<string, [number, number]>; pairs: CandPair[] }

const [dir, countArg] = process.argv.slice(2) as [string, string | undefined];
const COUNT = Number(countArg && !countArg.startsWith('--') ? countArg : 60);
const benchDir = resolve(import.meta.dirname, '..');
const cands = JSON.parse(readFileSync(join(dir, 'candidates.json'), 'utf8')) as Cand[];
const match = process.argv.includes('--match') ? new Set(JSON.parse(readFileSync(join(dir, 'generator-match.json'), 'utf8')) as string[]) : null;

interface Checked extends Cand { good: (CandPair & { err: number; ncc: number; len: number })[]; oracleSsim: number; oracleMae1: number }
const checked: Checked[] = [];
let dropped = 0;
for (const c of cands) {
  const o = toFloat(readPng(join(dir, `${c.id}-original.png`)));
  const e = toFloat(readPng(join(dir, `${c.id}-oracle.png`)));
  const good = c.pairs.flatMap((p) => {
    if (match && !match.has(`${c.id}|${p.landmark}`)) {
      dropped++;
      return [];
    }
    const h = { x: p.handle[0], y: p.handle[1] };
    const t = { x: p.target[0], y: p.target[1] };
    const r = locatePatch(o, e, h, t);
    const err = Math.hypot(r.point.x - t.x, r.point.y - t.y);
    // Keep a pair only if the measure itself recovers the exact edit: textured patch, clear peak, ≤ 2 px.
    if (err > 2 || r.score < 0.75 || r.templateStd < 0.04) {
      dropped++;
      return [];
    }
    return [{ ...p, err, ncc: r.score, len: Math.hypot(t.x - h.x, t.y - h.y) }];
  });
  if (good.length === 0) continue;
  checked.push({ ...c, good, oracleSsim: ssim(o, e).all, oracleMae1: oneMinusMae(o, e).all });
}
console.log(`${checked.length} of ${cands.length} candidates keep ≥ 1 pair (${dropped} pairs dropped)`);

// Balanced pick: one task per seed; length classes short ≤ 8, medium 8–16, long > 16 (by the
// longest pair), round-robin over edit types inside each class.
const cls = (c: Checked): 'short' | 'medium' | 'long' => {
  const m = Math.max(...c.good.map((p) => p.len));
  return m <= 8 ? 'short' : m <= 16 ? 'medium' : 'long';
};
const quota = { short: Math.round(COUNT * 0.35), medium: Math.round(COUNT * 0.35), long: COUNT - 2 * Math.round(COUNT * 0.35) };
const usedSeeds = new Set<number>();
const picked: Checked[] = [];
for (const k of ['long', 'medium', 'short'] as const) {
  const pool = checked.filter((c) => cls(c) === k);
  const byEdit = new Map<string, Checked[]>();
  for (const c of pool) byEdit.set(c.edit, [...(byEdit.get(c.edit) ?? []), c]);
  // Long drags: the longest of each kind first, so the set reaches towards ¼ of the image.
  if (k === 'long') for (const list of byEdit.values()) list.sort((a, b) => Math.max(...b.good.map((p) => p.len)) - Math.max(...a.good.map((p) => p.len)));
  let n = 0;
  let progress = true;
  while (n < quota[k] && progress) {
    progress = false;
    for (const list of byEdit.values()) {
      while (list.length && usedSeeds.has(list[0]!.seed)) list.shift();
      const c = list.shift();
      if (!c || n >= quota[k]) continue;
      picked.push(c);
      usedSeeds.add(c.seed);
      n++;
      progress = true;
    }
  }
  console.log(`${k}: ${n} of ${quota[k]} (pool ${pool.length})`);
}
picked.sort((a, b) => a.seed - b.seed);

const tasksDir = join(benchDir, 'tasks');
mkdirSync(join(tasksDir, 'masks'), { recursive: true });
for (const f of readdirSync(tasksDir)) if (f.endsWith('.json')) rmSync(join(tasksDir, f));
for (const f of readdirSync(join(tasksDir, 'masks'))) rmSync(join(tasksDir, 'masks', f));
const meta: Record<string, unknown> = {};
for (const c of picked) {
  const id = c.id;
  const pairs = c.good.map((p) => ({ handle: p.handle, target: p.target }));
  let mask: string | undefined;
  if (c.masked) {
    // Editable: discs around each drag (radius = half its length + 12 px, centred mid-way).
    const data = new Uint8Array(128 * 128);
    for (const p of c.good) {
      const mx = (p.handle[0] + p.target[0]) / 2;
      const my = (p.handle[1] + p.target[1]) / 2;
      const r = p.len / 2 + 12;
      for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) if ((x - mx) ** 2 + (y - my) ** 2 <= r * r) data[y * 128 + x] = 1;
    }
    mask = `masks/${id}.png`;
    writeMaskPng(join(tasksDir, mask), { data, width: 128, height: 128 });
  }
  const task = {
    name: `${c.edit}/${c.good.map((p) => p.landmark).join('+')}`,
    seed: c.seed,
    truncation: 1,
    pairs,
    ...(mask ? { mask } : {}),
  };
  writeFileSync(join(tasksDir, `${id}.json`), `${JSON.stringify(task, null, 2)}\n`);
  meta[id] = {
    edit: c.edit,
    params: c.params,
    lengths: c.good.map((p) => Math.round(p.len * 100) / 100),
    oracle: { md: c.good.map((p) => Math.round(p.err * 1000) / 1000), ssim: c.oracleSsim, mae1: c.oracleMae1 },
  };
}
writeFileSync(join(benchDir, 'task-meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
const lens = picked.flatMap((c) => c.good.map((p) => p.len)).sort((a, b) => a - b);
console.log(`${picked.length} tasks, ${lens.length} pairs, lengths ${lens[0]!.toFixed(1)}..${lens[lens.length - 1]!.toFixed(1)}, masked ${picked.filter((c) => c.masked).length}`);
const edits = new Map<string, number>();
for (const c of picked) edits.set(c.edit, (edits.get(c.edit) ?? 0) + 1);
console.log([...edits].map(([k, v]) => `${k} ${v}`).join(', '));
