import type { RgbaImage } from '@stabledrag/core';
import { toFloat, type FloatImage } from '../image.js';
import type { MethodFactory, MethodSpec } from '../methods.js';
import { runDrag, type PreparedTask, type RunRecord } from '../runner.js';
import { editRegionMask } from './edit-region-mask.js';
import type { DiffusionTask } from './load-diffusion-tasks.js';
import { scoreDiffusionEdit, type DiffusionEditScore } from './score-diffusion-edit.js';
import type { TimedDiffusionBackend } from './timed-diffusion-backend.js';

/** One drag on the diffusion backend: the GAN runner's record plus the exact-answer scores and the render split. */
export interface DiffusionRunRecord extends RunRecord {
  /** Per budget (ascending), the scores of scoreDiffusionEdit. */
  readonly scores: readonly { readonly budget: number; readonly score: DiffusionEditScore }[];
  /** Mean ms of one render (denoise with mutual self-attention, VAE decode) of this run's budgets. */
  readonly denoiseMs: number;
  readonly decodeMs: number;
  /** Peak resident set of the process so far, MiB. */
  readonly peakRssMiB: number;
}

/** What a task costs and scores before any drag. */
export interface DiffusionTaskRecord {
  readonly task: string;
  readonly name: string;
  readonly pairs: number;
  readonly masked: boolean;
  readonly encodeMs: number;
  readonly invertMs: number;
  /** LoRA fine-tuning on the image (0 when off). */
  readonly loraMs: number;
  /** The unedited latent rendered back (inversion + denoise + decode error). */
  readonly reconstruction: DiffusionEditScore;
  /** The source image itself: MD = the drag lengths, the starting point of every method. */
  readonly noEdit: DiffusionEditScore;
  /** The exact edit scored like an edit: the floor of the measures (renderer tasks only). */
  readonly exactEdit: DiffusionEditScore | null;
}

export const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

/**
 * Runs every method on one task. createLatent (VAE encode + DDIM inversion) happens once per task
 * and the latent is shared (the backend also caches it by image content); each method's drag runs
 * to the largest budget and the smaller budgets are read from the recorded latents (runner.ts).
 */
export async function runDiffusionTask(
  timed: TimedDiffusionBackend,
  task: DiffusionTask,
  specs: readonly MethodSpec[],
  factory: MethodFactory,
  budgets: readonly number[],
  options: { loraMs?: number; onImage?: (method: string, budget: number, image: RgbaImage) => void; onRun?: (record: DiffusionRunRecord) => void } = {},
): Promise<{ task: DiffusionTaskRecord; runs: DiffusionRunRecord[]; reconstruction: RgbaImage }> {
  const backend = timed.inner;
  const width = backend.info.imageWidth;
  const region = editRegionMask(task.pairs, width, width, task.mask);
  const source = toFloat(task.source);
  const exact = task.exact ? toFloat(task.exact) : undefined;
  const score = (edited: FloatImage): DiffusionEditScore => scoreDiffusionEdit({ source, edited, pairs: task.pairs, region, ...(exact ? { exact } : {}) });

  const before = { ...timed.times };
  const latent = await timed.createLatent({ type: 'image', image: task.image });
  const encodeMs = timed.times.encode - before.encode;
  const invertMs = timed.times.invert - before.invert;
  const reconstruction = await backend.render(latent);
  const taskRecord: DiffusionTaskRecord = {
    task: task.id,
    name: task.name,
    pairs: task.pairs.length,
    masked: task.mask !== undefined,
    encodeMs,
    invertMs,
    loraMs: options.loraMs ?? 0,
    reconstruction: score(toFloat(reconstruction)),
    noEdit: score(source),
    exactEdit: exact ? score(exact) : null,
  };

  const prepared: PreparedTask = {
    task: { id: task.id, name: task.name, seed: 0, pairs: task.pairs, part: task.name.split('/')[0] ?? task.name, ...(task.mask ? { mask: task.mask } : {}) },
    latent,
    original: task.source,
    originalFloat: source,
  };
  const { learningRate, imageRadii } = backend.dragDefaults;
  const radii = { r1: imageRadii.motion, r2: imageRadii.tracking };
  const runs: DiffusionRunRecord[] = [];
  for (const spec of specs) {
    const built = factory(spec, width, radii);
    const scores: { budget: number; score: DiffusionEditScore }[] = [];
    const t0 = { ...timed.times };
    const record = await runDrag(timed, prepared, spec, built, budgets, {
      learningRate,
      onImage: (budget, image) => {
        scores.push({ budget, score: score(toFloat(image)) });
        options.onImage?.(spec.id, budget, image);
      },
    });
    const renders = Math.max(1, timed.times.renders - t0.renders);
    const run: DiffusionRunRecord = {
      ...record,
      scores,
      denoiseMs: (timed.times.denoise - t0.denoise) / renders,
      decodeMs: (timed.times.decode - t0.decode) / renders,
      peakRssMiB: peakRssMiB(),
    };
    runs.push(run);
    options.onRun?.(run);
  }
  return { task: taskRecord, runs, reconstruction };
}
