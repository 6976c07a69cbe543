import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_FEATURE_RMS_LIMIT, DragSession, defaultStopDistance, validatePairs } from '@stabledrag/core';
import type { DragLatent, DragPair, DragResult, Mask, RgbaImage } from '@stabledrag/core';
import { checkOutputs, writeFileAtomic } from '../atomic-write.js';
import type { OutputCheck } from '../atomic-write.js';
import type { CliContext } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import type { ExitCodeValue } from '../errors.js';
import { DragGifWriter } from '../gif.js';
import { encodeImage, imageFormatOf } from '../image-file.js';
import { recordLatents } from '../latent-recorder.js';
import { DEFAULT_LAMBDA, DEFAULT_MASK_WEIGHT, DEFAULT_TAU, defaultRadii } from '../methods.js';
import { isModelName } from '../models.js';
import type { LoadedModel, ModelLoadOptions } from '../models.js';
import { toJson } from '../parse-values.js';
import { readMask } from '../png.js';
import { DragProgress } from '../progress.js';
import { fitPhoto, readPhotoFile } from '../read-photo.js';
import type { DecodedPhoto, Photo } from '../read-photo.js';
import { readSession, serializeSession } from '../session-file.js';
import type { DragSettings, SessionFile } from '../session-file.js';
import { StageProgress, stageLabel } from '../stage-progress.js';
import { readTask, resolveTaskModel } from '../task.js';
import type { DragTask } from '../task.js';
import { DRAG_HELP, parseDragArgs } from './drag-args.js';
import type { DragArgs } from './drag-args.js';
import { buildDragReport, finalDistances } from './drag-report.js';

export { DRAG_HELP, parseDragArgs } from './drag-args.js';
export type { DragArgs } from './drag-args.js';
export type { DragReport } from './drag-report.js';

/** Diffusion GIFs: a frame (a full denoise) every this many steps unless --gif-every. */
export const DEFAULT_GIF_EVERY = 10;

/** Where a drag starts: a seed (from flags or a task), a photo, or a saved session. */
interface Start {
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

async function resolveStart(args: DragArgs): Promise<Start> {
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

/** Runs a stage before the drag; Ctrl-C there leaves nothing to write, so it ends the command (exit 130). */
async function interruptible<T>(progress: StageProgress, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!signal?.aborted) throw error;
    const stage = progress.lastStage;
    progress.end();
    throw new CliError(ExitCode.INTERRUPTED, `Interrupted${stage ? ` during ${stageLabel(stage)}` : ''}; nothing was written.`, { cause: error });
  }
}

/** `stabledrag drag`: returns the exit code; throws CliError/StableDragError for the caller to map. */
export async function runDrag(argv: readonly string[], ctx: CliContext): Promise<ExitCodeValue> {
  const args = parseDragArgs(argv, ctx.cwd);
  if (args.help) {
    ctx.stdout.write(DRAG_HELP);
    return ExitCode.OK;
  }
  const log = (text: string): void => {
    if (!args.quiet) ctx.stderr.write(`${text}\n`);
  };
  const start = await resolveStart(args);

  // Check every output before the (long) drag, so a typo in a path costs nothing.
  const outputs: OutputCheck[] = [
    ...(args.out ? [{ option: '--out', path: args.out }] : []),
    ...(args.before ? [{ option: '--before', path: args.before }] : []),
    ...(args.gif ? [{ option: '--gif', path: args.gif }] : []),
    ...(args.saveSession ? [{ option: '--save-session', path: args.saveSession }] : []),
  ];
  const inputs = [args.task, args.session, args.image, start.maskPath].filter((p): p is string => p !== undefined);
  if (!isModelName(start.modelSpec)) {
    // The model folder's files are inputs too (model.json, the ONNX files, w_avg.bin).
    const files = await readdir(start.modelSpec).catch(() => [] as string[]);
    inputs.push(...files.map((f) => join(start.modelSpec, f)));
  }
  // An image output's extension picks its format; an unknown one is refused now, not after the drag.
  if (args.out) imageFormatOf(args.out, '--out');
  if (args.before) imageFormatOf(args.before, '--before');
  await checkOutputs(outputs, inputs);

  // The photo is read before the model loads, so a bad file fails in a moment.
  const decoded = args.image ? await readPhotoFile(args.image) : undefined;
  const progress = new StageProgress(args.quiet ? undefined : ctx.stderr);
  let photo: Photo | undefined;
  const fit = async (size: number): Promise<RgbaImage> => {
    if (!decoded) throw usageError('No --image to fit.');
    if (photo?.image.width !== size) {
      // Checked before LoRA and inversion: a point off the fitted photo should not cost minutes.
      validatePairs(start.pairs, { imageWidth: size, imageHeight: size }, args.stopDistance ?? defaultStopDistance(size));
      photo = await fitPhoto(decoded, size);
      // One line for all the changes: the user learns the photo was altered, and how, at a glance.
      if (photo.notices.length > 0) log(`notice: ${args.image}: ${photo.notices.join(' ')}`);
    }
    return photo.image;
  };
  if (args.loraSteps !== undefined && start.session) throw usageError('--session brings the LoRA adapters it was saved with (or none); --lora-steps cannot change them.');
  const loadOptions: ModelLoadOptions = {
    progress,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(decoded ? { photo: fit } : {}),
    ...(args.loraSteps !== undefined ? { loraSteps: args.loraSteps } : start.session?.settings.loraSteps !== undefined ? { loraSteps: start.session.settings.loraSteps } : {}),
    ...(start.session?.lora ? { loraWeights: start.session.lora } : {}),
  };
  const model: LoadedModel = await interruptible(progress, ctx.signal, () => progress.run('load', () => ctx.loadModel(start.modelSpec, loadOptions)));
  try {
    if (args.loraSteps !== undefined && !model.diffusion) throw usageError(`--lora-steps applies to diffusion models; ${start.modelSpec} is not one.`);
    const fitted = decoded ? { decoded, image: await fit(model.backend.info.imageWidth) } : undefined;
    return await dragWithModel({ args, start, model, ctx, log, progress, ...(fitted ? { photo: { ...photo!, path: fitted.decoded.path } } : {}) });
  } finally {
    await model.dispose();
  }
}

/** Everything one drag needs, passed as one object so the steps below stay short. */
interface DragRun {
  readonly args: DragArgs;
  readonly start: Start;
  readonly model: LoadedModel;
  readonly ctx: CliContext;
  readonly log: (text: string) => void;
  readonly progress: StageProgress;
  readonly photo?: Photo & { readonly path: string };
}

/** The latent the drag starts from: a saved one, the photo's (projection or inversion), or a seed's. */
async function startingLatent(run: DragRun): Promise<DragLatent> {
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
function resolveSettings(run: DragRun): DragSettings {
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
    stopDistance: args.stopDistance ?? saved?.stopDistance ?? defaultStopDistance(info.imageHeight),
    ...(diffusion ? { loraSteps: diffusion.loraSteps } : {}),
  };
}

/** `backend.render`, with stage progress and Ctrl-C where the model offers them (diffusion: denoise + decode). */
async function render(run: DragRun, latent: DragLatent, withSignal: boolean): Promise<RgbaImage> {
  const { model, progress, ctx } = run;
  if (!model.renderLatent) return model.backend.render(latent);
  try {
    return await model.renderLatent(latent, { progress, ...(withSignal && ctx.signal ? { signal: ctx.signal } : {}) });
  } finally {
    progress.end();
  }
}

async function dragWithModel(run: DragRun): Promise<ExitCodeValue> {
  const { args, start, model, ctx, log, progress, photo } = run;
  const { backend } = model;
  const info = backend.info;
  const session = start.session;
  if (session && session.modelName !== info.name) {
    throw usageError(`${args.session} was saved with model "${session.modelName}" but --model loads "${info.name}"; pass the model it was saved with.`);
  }
  const latent = await startingLatent(run);
  const mask = start.maskPath ? await readMask(start.maskPath, info.imageWidth, info.imageHeight) : start.sessionMask;
  const settings = resolveSettings(run);
  validatePairs(start.pairs, { imageWidth: info.imageWidth, imageHeight: info.imageHeight }, settings.stopDistance);

  const method = ctx.createMethod(settings.method, settings);
  // DragDiffusion is DragGAN's method on a UNet's features: same code, its own name in reports.
  const label = model.diffusion ? method.label.replace(/^draggan/, 'dragdiffusion') : method.label;
  // A diffusion step gives no image, so GIF frames are rendered from the latent of every n-th step.
  const renderFrames = model.diffusion !== undefined && args.gif !== undefined;
  const recorder = renderFrames ? recordLatents(backend) : undefined;
  const drag = new DragSession({
    backend: recorder?.backend ?? backend,
    tracker: method.tracker,
    supervisor: method.supervisor,
    latent,
    pairs: start.pairs,
    ...(mask ? { mask } : {}),
    maxSteps: settings.steps,
    learningRate: settings.lr,
    stopDistance: settings.stopDistance,
    withImages: args.gif !== undefined && !renderFrames,
  });

  // --before: the photo as the model takes it, or the seed's image.
  const before: RgbaImage | undefined = args.before || args.gif ? photo?.image ?? (await interruptible(progress, ctx.signal, () => render(run, latent, true))) : undefined;
  const gif = args.gif ? new DragGifWriter() : undefined;
  const gifEvery = args.gifEvery ?? DEFAULT_GIF_EVERY;
  const stepProgress = args.quiet ? undefined : new DragProgress(ctx.stderr);
  log(
    `Dragging ${start.pairs.length} point${start.pairs.length === 1 ? '' : 's'} on ${info.name} (${info.imageWidth}×${info.imageHeight}) with ${label}; r1 ${settings.r1}, r2 ${settings.r2}, lr ${settings.lr}, up to ${settings.steps} steps.`,
  );
  const t0 = performance.now();
  progress.begin('drag');
  let result: DragResult;
  try {
    result = await drag.run({
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onStep: async (e) => {
        // Let the event loop run between steps: a backend that never leaves the microtask queue
        // (the pure-TS reference) would otherwise keep the SIGINT handler from ever firing.
        await new Promise((resolve) => setImmediate(resolve));
        stepProgress?.step(e);
        let frame = e.image ?? (gif?.frames === 0 ? before : undefined);
        if (recorder && gif && gif.frames > 0 && e.step % gifEvery === 0 && !e.converged) {
          const f0 = performance.now();
          frame = await model.renderLatent!(recorder.latest(), {});
          progress.add('gif', performance.now() - f0);
        }
        if (gif && frame) gif.add(frame, e.points, e.targets);
      },
    });
  } finally {
    stepProgress?.done();
    progress.end();
  }
  const totalMs = performance.now() - t0;

  // The final image: rendered from the last latent, whether the drag converged, ran out of steps
  // or was interrupted (Ctrl-C still leaves a result, so that render is not interrupted again).
  const aborted = result.stopReason === 'aborted';
  const image = await interruptible(progress, ctx.signal, () => render(run, result.latent, !aborted));
  // A converged last step takes no update, so its frame already shows the final image.
  const lastFrameIsFinal = !renderFrames && result.stopReason === 'converged' && result.history.length > 0 && (gif?.frames ?? 0) > result.history.length - 1;
  if (gif && !lastFrameIsFinal) gif.add(image, result.points, result.targets);

  const written = await writeOutputs(run, { image, before, gif, result, settings, mask, latent });
  const distances = finalDistances(result);
  if (result.stopReason === 'diverged') {
    log(
      `warning: the drag left the generator's range after ${result.steps} steps (its features grew past ${DEFAULT_FEATURE_RMS_LIMIT}× their size at the start); ` +
        `the outputs hold the latent after ${result.bestStep} steps, the best seen before. Try a lower --lr (now ${settings.lr}) or a shorter drag.`,
    );
  }
  log(
    `${describeStop(result, settings.tau)}; handle distances ${distances.map((d) => d.toFixed(1)).join(', ')} px; ${(totalMs / 1000).toFixed(1)} s.${
      Object.keys(written).length ? ` Wrote ${Object.values(written).join(', ')}.` : ''
    }`,
  );

  if (args.json) {
    const report = buildDragReport({
      model: start.modelSpec,
      modelName: info.name,
      imageSize: [info.imageWidth, info.imageHeight],
      method: label,
      ...(start.seed !== undefined ? { seed: start.seed } : {}),
      ...(start.truncation !== undefined ? { truncation: start.truncation } : {}),
      ...(start.task?.name !== undefined ? { task: start.task.name } : {}),
      ...(photo ? { image: { path: photo.path, originalSize: photo.originalSize, notices: photo.notices } } : {}),
      ...(model.diffusion ? { loraSteps: model.diffusion.loraSteps } : {}),
      settings,
      result,
      startPairs: start.pairs,
      totalMs,
      stagesMs: progress.timings,
      outputs: written,
    });
    ctx.stdout.write(`${toJson(report)}\n`);
  }
  return aborted ? ExitCode.INTERRUPTED : result.stopReason === 'diverged' ? ExitCode.DIVERGED : ExitCode.OK;
}

/** Writes every output asked for, each atomically; returns option → path of what was written. */
async function writeOutputs(
  run: DragRun,
  o: { image: RgbaImage; before: RgbaImage | undefined; gif: DragGifWriter | undefined; result: DragResult; settings: DragSettings; mask: Mask | undefined; latent: DragLatent },
): Promise<Record<string, string>> {
  const { args, start, model } = run;
  const { result } = o;
  const written: Record<string, string> = {};
  if (args.out) {
    await writeFileAtomic(args.out, encodeImage(o.image, imageFormatOf(args.out, '--out')));
    written.out = args.out;
  }
  if (args.before && o.before) {
    await writeFileAtomic(args.before, encodeImage(o.before, imageFormatOf(args.before, '--before')));
    written.before = args.before;
  }
  if (args.gif && o.gif) {
    await writeFileAtomic(args.gif, o.gif.finish());
    written.gif = args.gif;
  }
  if (args.saveSession) {
    const session = start.session;
    const lora = model.diffusion?.lora;
    const text = serializeSession({
      model: start.modelSpec,
      modelName: model.backend.info.name,
      ...(start.seed !== undefined ? { seed: start.seed } : {}),
      ...(start.truncation !== undefined ? { truncation: start.truncation } : model.defaultTruncation !== undefined ? { truncation: model.defaultTruncation } : {}),
      ...(start.image !== undefined ? { image: start.image } : {}),
      ...(lora ? { lora } : {}),
      latent: result.latent,
      pairs: result.points.map((p, i) => ({ handle: p, target: result.targets[i]! })),
      initialPairs: session?.initialPairs.length ? session.initialPairs : start.pairs,
      ...(o.mask ? { mask: o.mask } : {}),
      settings: o.settings,
      result: { stopReason: result.stopReason, steps: result.steps },
    });
    await writeFileAtomic(args.saveSession, text);
    written.saveSession = args.saveSession;
  }
  return written;
}

/**
 * The one-line verdict. "converged" only when every handle is at its target *and* its confidence
 * is above τ·s_1 (Eq. 5's threshold): a tracker can put a handle on its target while the content
 * has not followed, and that is said instead.
 */
export function describeStop(result: Pick<DragResult, 'stopReason' | 'steps' | 'history' | 'bestStep'>, tau: number): string {
  if (result.stopReason === 'aborted') return `interrupted after ${result.steps} steps`;
  if (result.stopReason === 'diverged') return `diverged after ${result.steps} steps (kept step ${result.bestStep})`;
  if (result.stopReason === 'max-steps') return `stopped at the step limit (${result.steps})`;
  const s1 = result.history[0]?.confidences ?? [];
  const last = result.history.at(-1)?.confidences ?? [];
  const low = last.map((c, i) => ({ c, i, s1: s1[i] ?? 0 })).filter((x) => x.c < tau * x.s1);
  if (low.length === 0) return `converged in ${result.steps} steps`;
  const which = low.map((x) => `handle ${x.i + 1} ${x.c.toFixed(2)} < ${(tau * x.s1).toFixed(2)}`).join(', ');
  return `reached the targets in ${result.steps} steps, but with low confidence (${which}: τ·s_1, τ = ${tau}); the content may not have followed`;
}
