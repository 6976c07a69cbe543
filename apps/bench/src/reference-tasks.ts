import type { BenchTask } from './tasks.js';
import { createRng } from '@stabledrag/core';

/**
 * Tasks for the reference backend (64 px Gaussian blobs, `--backend reference`): drag the centre of
 * movable blob 0 by 4–14 px. Used to develop and test the pipeline while no GAN model exists; the
 * blob centres of a seed come from the backend's own createLatent, so the handles sit on blobs.
 */
export function referenceTasks(count = 6): BenchTask[] {
  const tasks: BenchTask[] = [];
  for (let seed = 1; tasks.length < count && seed < 100; seed++) {
    // The first two draws of GaussianBlobBackend.createLatent's generator are blob 0's centre.
    const rng = createRng(seed);
    const margin = 2.5 * 4;
    const place = (): number => margin + rng() * (64 - 2 * margin);
    const hx = Math.round(place());
    const hy = Math.round(place());
    const dir = createRng(seed + 1000)() * 2 * Math.PI;
    const len = 4 + (seed % 6) * 2;
    const tx = Math.round(hx + len * Math.cos(dir));
    const ty = Math.round(hy + len * Math.sin(dir));
    if (tx < 6 || ty < 6 || tx > 57 || ty > 57) continue;
    tasks.push({ id: `ref-${seed}`, name: `reference/blob-${seed}`, part: 'blob', seed, pairs: [{ handle: { x: hx, y: hy }, target: { x: tx, y: ty } }] });
  }
  return tasks;
}
