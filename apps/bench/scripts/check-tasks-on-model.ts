// Renders every task's seed with the generator and checks it against the face renderer's image the
// task was built from (scripts/make_candidates.py output): MAE of the two images, and whether each
// handle's renderer patch is found at the handle in the generator's sample (NCC, ≤ 2 px).
// Usage: tsx scripts/check-tasks-on-model.ts CANDIDATE_DIR [MODEL_DIR] [SHEET.png]
import { join, resolve } from 'node:path';
import { loadBackend } from '../src/backends.js';
import { readPng, toFloat, writePng } from '../src/image.js';
import { locatePatch } from '../src/metrics/ncc.js';
import { oneMinusMae } from '../src/metrics/fidelity.js';
import { contactSheet, markPoints, upscale } from '../src/sheet.js';
import { loadTasks } from '../src/tasks.js';

const [candDir, modelDir, sheet] = process.argv.slice(2) as [string, string | undefined, string | undefined];
const { backend } = await loadBackend('node', modelDir ? resolve(modelDir) : undefined);
const tasks = await loadTasks(join(import.meta.dirname, '..', 'tasks'));
const tiles = [];
let bad = 0;
let maeSum = 0;
for (const t of tasks) {
  const latent = await backend.createLatent({ type: 'seed', seed: t.seed, truncation: t.truncation ?? 1 });
  const img = await backend.render(latent);
  const ref = readPng(join(candDir, `${t.id}-original.png`));
  const a = toFloat(ref);
  const b = toFloat(img);
  const mae = 1 - oneMinusMae(a, b).all;
  maeSum += mae;
  const errs = t.pairs.map((p) => {
    const r = locatePatch(a, b, p.handle, p.handle);
    return { err: Math.hypot(r.point.x - p.handle.x, r.point.y - p.handle.y), ncc: r.score };
  });
  const ok = errs.every((e) => e.err <= 2 && e.ncc >= 0.6);
  if (!ok) bad++;
  console.log(`${ok ? 'ok ' : 'BAD'} ${t.id} MAE ${mae.toFixed(3)} ${errs.map((e) => `${e.err.toFixed(1)}px/${e.ncc.toFixed(2)}`).join(' ')}`);
  if (sheet && tiles.length < 48) {
    const u = upscale(ref, 2);
    const v = upscale(img, 2);
    for (const im of [u, v]) markPoints(im, 2, [{ points: t.pairs.map((p) => p.target), colour: [40, 90, 240] }, { points: t.pairs.map((p) => p.handle), colour: [230, 30, 30] }]);
    tiles.push(u, v);
  }
}
console.log(`${tasks.length - bad} of ${tasks.length} tasks match the generator; mean MAE ${(maeSum / tasks.length).toFixed(3)}`);
if (sheet) writePng(sheet, contactSheet(tiles, 8));
await backend.dispose();
