import { dirname } from 'node:path';
import { stopDistanceFor } from '@stabledrag/core';
import type { DragLatent, DragPair, Mask } from '@stabledrag/core';
import type { CliContext } from '../context.js';
import { usageError } from '../errors.js';
import { interruptible } from '../interruptible.js';
import { DEFAULT_LAMBDA, DEFAULT_MASK_WEIGHT, DEFAULT_TAU, defaultRadii } from '../methods.js';
import type { LoadedModel } from '../models.js';
import type { Photo } from '../read-photo.js';
import { readSession } from '../session-file.js';
import type { DragSettings, SessionFile } from '../session-file.js';
import type { StageProgress } from '../stage-progress.js';
import { readTask, resolveTaskModel } from '../task.js';
import type { DragTask } from '../task.js';
import type { DragArgs } from './drag-args.js';

/** Where a drag starts: a seed (from flags or a task), a photo, or a saved session. */
export interface Start {
  readonly modelSpec: string;
  readonly seed?: number;
  readonly truncation?: number;
  readonly image?: string;
  readonly pairs: readonly DragPair[];
  readonly maskPath?: string;
  readonly sessionMask?: Mask;
  readonly session?: SessionFile;
  readonly task?: DragTask;
  readonly steps?: number;
}

export async function resolveStart(args: DragArgs): Promise<Start> {
  if (args.session) {
    const session = await readSession(args.session);
    const pairs = args.pairs ?? session.pairs;
    return {
      modelSpec: args.model ?? session.model,
      session,
      ...(session.seed !== undefined ? { seed: session.seed } : {}),
      ...(session.truncation !== undefined ? { truncation: session.truncation } : {}),
      ...(session.image !== undefined ? { image: session.image } : {}),
      pairs,
      ...(args.mask ? { maskPath: args.mask } : session.mask ? { sessionMask: session.mask } : {}),
      steps: args.steps ?? session.settings.steps,
    };
  }
  if (args.task) {
    const task = await readTask(args.task);
    const maskPath = args.mask ?? task.mask;
    const truncation = args.truncation ?? task.truncation;
    const steps = args.steps ?? task.steps;
    return {
      modelSpec: args.model ?? (task.model !== undefined ? resolveTaskModel(task.model, dirname(args.task)) : 'default'),
      task,
      seed: args.seed ?? task.seed,
      ...(truncation !== undefined ? { truncation } : {}),
      pairs: task.pairs,
      ...(maskPath ? { maskPath } : {}),
      ...(steps !== undefined ? { steps } : {}),
    };
  }
  const fromPhoto = args.image !== undefined;
  return {
    // A photograph without --model goes to the embedded diffusion model: DragDiffusion's setting.
    modelSpec: args.model ?? (fromPhoto ? 'diffusion' : 'default'),
    ...(fromPhoto ? { image: args.image } : { seed: args.seed ?? 0 }),
    ...(args.truncation !== undefined ? { truncation: args.truncation } : {}),
    pairs: args.pairs ?? [],
    ...(args.mask ? { maskPath: args.mask } : {}),
    ...(args.steps !== undefined ? { steps: args.steps } : {}),
  };
}

/** Everything one drag needs, passed as one object so the steps below stay short. */
export interface DragRun {
  readonly args: DragArgs;
  readonly start: Start;
  readonly model: LoadedModel;
  readonly ctx: CliContext;
  readonly log: (text: string) => void;
  readonly progress: StageProgress;
  readonly photo?: Photo & { readonly path: string };
}

/** The latent the drag starts from: a saved one, the photo's (projection or inversion), or a seed's. */
export async function startingLatent(run: DragRun): Promise<DragLatent> {
  const { start, model, progress, ctx, photo } = run;
  const session = start.session;
  if (session) return model.backend.createLatent({ type: 'latent', latent: session.latent });
  if (photo) {
    if (!model.latentFromImage) throw usageError(`${start.modelSpec} cannot start from a photo; use a diffusion or GAN model with --image.`);
    const from = model.latentFromImage;
    return interruptible(progress, ctx.signal, async () => {
      try {
        return await from(photo.image, { progress, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      } finally {
        progress.end();
      }
    });
  }
  return model.latentFromSeed(start.seed ?? 0, start.truncation);
}

/** Settings: flags first, then the session's, then the model's defaults (diffusion: model.json and the backend's dragDefaults). */
export function resolveSettings(run: DragRun): DragSettings {
  const { args, start, model } = run;
  const info = model.backend.info;
  const diffusion = model.diffusion;
  const radii = diffusion?.radii ?? defaultRadii(Math.max(info.imageWidth, info.imageHeight));
  const saved = start.session?.settings;
  const methodName = args.method ?? saved?.method ?? 'stabledrag';
  // The ablation switches belong to StableDrag; a saved session's switches carry over only to the same method.
  const inherit = saved?.method === methodName ? saved : undefined;
  const stable = methodName === 'stabledrag';
  const modelSteps = diffusion ? (stable ? diffusion.defaults.stabledragDragSteps : diffusion.defaults.dragSteps) : 300;
  return {
    method: methodName,
    discriminative: stable && (args.discriminative ?? inherit?.discriminative ?? true),
    confident: stable && (args.confident ?? inherit?.confident ?? true),
    steps: start.steps ?? modelSteps,
    lr: args.lr ?? saved?.lr ?? info.defaultLearningRate,
    r1: args.r1 ?? saved?.r1 ?? radii.r1,
    r2: args.r2 ?? saved?.r2 ?? radii.r2,
    lambda: args.lambda ?? saved?.lambda ?? DEFAULT_LAMBDA,
    tau: args.tau ?? saved?.tau ?? DEFAULT_TAU,
    maskWeight: args.maskWeight ?? saved?.maskWeight ?? DEFAULT_MASK_WEIGHT,
    stopDistance: args.stopDistance ?? saved?.stopDistance ?? stopDistanceFor(info),
    ...(diffusion ? { loraSteps: diffusion.loraSteps, inversionStrength: diffusion.inversionStrength } : {}),
  };
}

