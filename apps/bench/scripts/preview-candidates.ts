// Contact sheet of candidates: original with handle (red) → target (blue), oracle edit with the
// NCC-found point (green). Usage: tsx scripts/preview-candidates.ts CANDIDATE_DIR OUT.png [filter]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPng, toFloat, writePng } from '../src/image.js';
import { locatePatch } from '../src/metrics/ncc.js';
import { contactSheet, markPoints, upscale } from '../src/sheet.js';

interface Cand { id: string; pairs: { handle: [number, number]; target: [number, number] }[] }
const [dir, out, filter] = process.argv.slice(2) as [string, string, string | undefined];
const cands = (JSON.parse(readFileSync(join(dir, 'candidates.json'), 'utf8')) as Cand[]).filter((c) => !filter || c.id.includes(filter)).slice(0, 24);
const tiles = [];
for (const c of cands) {
  const o = readPng(join(dir, `${c.id}-original.png`));
  const e = readPng(join(dir, `${c.id}-oracle.png`));
  const hs = c.pairs.map((p) => ({ x: p.handle[0], y: p.handle[1] }));
  const ts = c.pairs.map((p) => ({ x: p.target[0], y: p.target[1] }));
  const found = hs.map((h, i) => locatePatch(toFloat(o), toFloat(e), h, ts[i]!).point);
  const a = upscale(o, 3);
  markPoints(a, 3, [{ points: ts, colour: [40, 90, 240] }, { points: hs, colour: [230, 30, 30] }]);
  const b = upscale(e, 3);
  markPoints(b, 3, [{ points: ts, colour: [40, 90, 240] }, { points: found, colour: [30, 220, 60] }]);
  tiles.push(a, b);
  console.log(c.id, c.pairs.map((p, i) => `${JSON.stringify(p.handle)}->${JSON.stringify(p.target)} found ${found[i]!.x.toFixed(1)},${found[i]!.y.toFixed(1)}`).join(' | '));
}
writePng(out, contactSheet(tiles, 6));
