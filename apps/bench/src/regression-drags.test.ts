/**
 * Issue #12's two runaway drags, as a user ran them (`stabledrag drag --seed 4 --points
 * "60,70:90,70"` and `--seed 76 --points "64,30:64,15"`, default settings, 300 steps): both
 * methods must keep the face. Before the fix, StableDrag ended both in flat colour blocks
 * (1 − MAE outside the edit region 0.52 and 0.66) while reporting "converged".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DragSession, type DragBackend, type DragPair } from '@stabledrag/core';
import { createMethod, defaultRadii } from '@stabledrag/cli';
import { loadBackend } from './backends.js';
import { toFloat } from './image.js';
import { locatePatch } from './metrics/ncc.js';
import { outsideFidelity } from './stability.js';

const DRAGS: { seed: number; pairs: DragPair[] }[] = [
  { seed: 4, pairs: [{ handle: { x: 60, y: 70 }, target: { x: 90, y: 70 } }] },
  { seed: 76, pairs: [{ handle: { x: 64, y: 30 }, target: { x: 64, y: 15 } }] },
];
/**
 * DragGAN measured 0.94–0.95 on these two with the region of stability.ts; images destroyed by
 * the runaway measured 0.52–0.66. 0.90 leaves room for a legitimate edit around the pair.
 */
const MIN_OUTSIDE_FIDELITY = 0.9;

let backend: DragBackend;
beforeAll(async () => {
  backend = (await loadBackend('node')).backend;
});
afterAll(async () => {
  await backend?.dispose();
});

describe.each(['stabledrag', 'draggan'] as const)('%s on the drags of issue #12', (method) => {
  it.each(DRAGS)('seed $seed keeps the face and does not claim a runaway converged', async ({ seed, pairs }) => {
    const latent = await backend.createLatent({ type: 'seed', seed });
    const original = toFloat(await backend.render(latent));
    const m = createMethod(method, defaultRadii(backend.info.imageHeight));
    const result = await new DragSession({ backend, tracker: m.tracker, supervisor: m.supervisor, latent, pairs, maxSteps: 300 }).run();
    const edited = toFloat(await backend.render(result.latent));
    expect(outsideFidelity(original, edited, pairs)).toBeGreaterThanOrEqual(MIN_OUTSIDE_FIDELITY);
    // Stays in the generator's range by itself (the guard would stop a runaway with 'diverged').
    expect(result.stopReason).not.toBe('diverged');
    expect(Math.max(...result.history.map((e) => e.featureRmsRatio))).toBeLessThan(2);
    // The handle's content is still recognisable somewhere near the drag (ZNCC of its patch).
    const found = locatePatch(original, edited, pairs[0]!.handle, pairs[0]!.target);
    expect(found.score).toBeGreaterThan(0.5);
  });
});
