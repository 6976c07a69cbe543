import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_FEATURE_RMS_LIMIT, DragSession, defaultStopDistance, validatePairs } from '@stabledrag/core';
import type { DragLatent, DragResult, RgbaImage } from '@stabledrag/core';
import { checkOutputs } from '../atomic-write.js';
import type { OutputCheck } from '../atomic-write.js';
import type { CliContext } from '../context.js';
import { ExitCode, usageError } from '../errors.js';
import type { ExitCodeValue } from '../errors.js';
import { DragGifWriter } from '../gif.js';
import { imageFormatOf } from '../image-file.js';
import { interruptible } from '../interruptible.js';
import { recordLatents } from '../latent-recorder.js';
import { isModelName } from '../models.js';
import type { LoadedModel, ModelLoadOptions } from '../models.js';
import { toJson } from '../parse-values.js';
import { readMask } from '../png.js';
import { DragProgress } from '../progress.js';
import { fitPhoto, readPhotoFile } from '../read-photo.js';
import type { Photo } from '../read-photo.js';
import { StageProgress } from '../stage-progress.js';
import { DRAG_HELP, parseDragArgs } from './drag-args.js';
import { writeOutputs } from './drag-outputs.js';
import { buildDragReport, finalDistances } from './drag-report.js';
import { resolveStart, resolveSettings, startingLatent } from './drag-start.js';
import type { DragRun } from './drag-start.js';

export { DRAG_HELP, parseDragArgs } from './drag-args.js';
export type { DragArgs } from './drag-args.js';
export type { DragReport } from './drag-report.js';

/** Diffusion GIFs: a frame (a full denoise) every this many steps unless --gif-every. */
export const DEFAULT_GIF_EVERY = 10;

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
    ...(args.inversionStrength !== undefined ? { inversionStrength: args.inversionStrength } : start.session?.settings.inversionStrength !== undefined ? { inversionStrength: start.session.settings.inversionStrength } : {}),
  };
  const model: LoadedModel = await interruptible(progress, ctx.signal, () => progress.run('load', () => ctx.loadModel(start.modelSpec, loadOptions)));
  try {
    for (const [option, given] of [['--lora-steps', args.loraSteps], ['--inversion-strength', args.inversionStrength]] as const) {
      if (given !== undefined && !model.diffusion) throw usageError(`${option} applies to diffusion models; ${start.modelSpec} is not one.`);
    }
    const fitted = decoded ? { decoded, image: await fit(model.backend.info.imageWidth) } : undefined;
    return await dragWithModel({ args, start, model, ctx, log, progress, ...(fitted ? { photo: { ...photo!, path: fitted.decoded.path } } : {}) });
  } finally {
    await model.dispose();
  }
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
