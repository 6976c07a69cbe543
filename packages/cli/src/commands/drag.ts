import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_FEATURE_RMS_LIMIT, DragSession, defaultStopDistance, validatePairs } from '@stabledrag/core';
import type { DragPair, DragResult, DragStepEvent, Mask, RgbaImage } from '@stabledrag/core';
import { checkOutputs, writeFileAtomic } from '../atomic-write.js';
import type { OutputCheck } from '../atomic-write.js';
import type { CliContext } from '../context.js';
import { ExitCode, usageError } from '../errors.js';
import type { ExitCodeValue } from '../errors.js';
import { DragGifWriter } from '../gif.js';
import { encodeImage, imageFormatOf } from '../image-file.js';
import { DEFAULT_LAMBDA, DEFAULT_MASK_WEIGHT, DEFAULT_TAU, METHOD_NAMES, defaultRadii } from '../methods.js';
import type { MethodName } from '../methods.js';
import { resolveModelSpec } from '../models.js';
import type { LoadedModel } from '../models.js';
import { parseCommandLine } from '../parse-command-line.js';
import { parseBounded, parsePoints, toJson } from '../parse-values.js';
import { readMask } from '../png.js';
import { DragProgress } from '../progress.js';
import { readSession, serializeSession } from '../session-file.js';
import type { DragSettings, SessionFile } from '../session-file.js';
import { MODEL_NAMES, readTask, resolveTaskModel } from '../task.js';
import type { DragTask } from '../task.js';

export const DRAG_HELP = `Usage: stabledrag drag [options]

Drags handle points of a generated image to target points (StableDrag, or the DragGAN baseline).

Where the drag starts (one of):
  --points "hx,hy:tx,ty"   a handle → target pair in image pixels (x right, y down);
                           repeat the option for more pairs
  --task task.json         seed, pairs, mask and steps from a task file (see README)
  --session session.json   resume a drag saved with --save-session (latent, points, mask,
                           settings); --points then starts a new drag on that image

Model and image:
  --model <dir|name>       model folder (model.json + ONNX files), or a name: default (the
                           embedded model, the default), tiny, reference (pure-TS blobs)
  --seed <n>               generator seed (default 0)
  --truncation <psi>       truncation ψ in (0, 1] (default: the model's)
  --mask mask.png          editable region, white = may change, at the image size

Method:
  --method <name>          stabledrag (default) or draggan
  --no-discriminative      StableDrag ablation: DragGAN's nearest-neighbour tracker
  --no-confident           StableDrag ablation: plain motion supervision (Eq. 1) every step
  --steps <n>              maximum optimisation steps (default 300, or the task's)
  --lr <rate>              Adam learning rate (default: the model's, 0.001 for GANs)
  --r1 <px>                motion-supervision radius (image pixels)
  --r2 <px>                tracking radius (whole image pixels)
                           default radii: DragGAN's r1 = 3, r2 = 12 at 512 px, scaled by
                           resolution/512 and rounded, never below r1 = 2, r2 = 6
  --lambda <λ>             score-fusion weight of the tracker, Eq. 2 (default ${DEFAULT_LAMBDA})
  --tau <τ>                confidence threshold rate of Eq. 5 (default ${DEFAULT_TAU})
  --mask-weight <η>        weight of the fixed-region term when a mask is given (default ${DEFAULT_MASK_WEIGHT})
  --stop-distance <px>     a handle this close to its target is done (default max(2, 2·h/512))

Outputs (written atomically; an output may not be an input; missing folders are created):
  --out out.png            the dragged image: .png, or .jpg/.jpeg for JPEG
  --before before.png      the image before the drag (.png or .jpg/.jpeg)
  --gif drag.gif           every step, handles red, targets blue, arrows between
  --save-session s.json    seed, latent, points, mask and settings, reloadable with --session
  --json                   print a JSON report on stdout (points, steps, per-step
                           confidences, branches and timings, stop reason)
  --quiet                  no progress output
  -h, --help               this help

Ctrl-C stops the drag after the current step and still writes every output (exit 130).

Examples:
  stabledrag drag --seed 4 --points "60,70:70,70" --out drag.png --gif drag.gif
  stabledrag drag --task examples/preset-drag.json --method draggan --out draggan.png --json
`;

const OPTIONS = {
  model: { type: 'string' },
  seed: { type: 'string' },
  truncation: { type: 'string' },
  points: { type: 'string', multiple: true },
  task: { type: 'string' },
  session: { type: 'string' },
  mask: { type: 'string' },
  method: { type: 'string' },
  'no-discriminative': { type: 'boolean' },
  'no-confident': { type: 'boolean' },
  steps: { type: 'string' },
  lr: { type: 'string' },
  r1: { type: 'string' },
  r2: { type: 'string' },
  lambda: { type: 'string' },
  tau: { type: 'string' },
  'mask-weight': { type: 'string' },
  'stop-distance': { type: 'string' },
  out: { type: 'string' },
  before: { type: 'string' },
  gif: { type: 'string' },
  'save-session': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The parsed, checked command line of `drag`; numbers are numbers, paths absolute. */
export interface DragArgs {
  readonly help: boolean;
  readonly model?: string;
  readonly seed?: number;
  readonly truncation?: number;
  readonly pairs?: readonly DragPair[];
  readonly task?: string;
  readonly session?: string;
  readonly mask?: string;
  readonly method?: MethodName;
  readonly discriminative?: false;
  readonly confident?: false;
  readonly steps?: number;
  readonly lr?: number;
  readonly r1?: number;
  readonly r2?: number;
  readonly lambda?: number;
  readonly tau?: number;
  readonly maskWeight?: number;
  readonly stopDistance?: number;
  readonly out?: string;
  readonly before?: string;
  readonly gif?: string;
  readonly saveSession?: string;
  readonly json: boolean;
  readonly quiet: boolean;
}

/** Parses `drag`'s arguments (after the word "drag"); throws a usage error (exit 2) on anything wrong. */
export function parseDragArgs(argv: readonly string[], cwd: string): DragArgs {
  const { values, positionals } = parseCommandLine('drag', argv, OPTIONS, true);
  if (positionals.length > 0) throw usageError(`drag takes no positional arguments, got "${positionals.join(' ')}". Run "stabledrag drag --help".`);
  const v = values;
  const path = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(cwd, p));
  const num = (key: keyof typeof OPTIONS, rule: Parameters<typeof parseBounded>[2]): number | undefined => {
    const text = v[key];
    return typeof text === 'string' ? parseBounded(text, `--${key}`, rule) : undefined;
  };
  if (v.method !== undefined && !(METHOD_NAMES as readonly string[]).includes(v.method)) {
    throw usageError(`--method must be one of ${METHOD_NAMES.join(', ')}, got "${v.method}".`);
  }
  if (v.task !== undefined && v.points !== undefined) throw usageError('Give the pairs either with --points or in --task, not both.');
  if (v.task !== undefined && v.session !== undefined) throw usageError('--task and --session both say where the drag starts; give one.');
  if (v.session !== undefined && (v.seed !== undefined || v.truncation !== undefined)) {
    throw usageError('--session brings its own latent; --seed and --truncation cannot change it.');
  }
  const pairs = v.points?.flatMap((p) => parsePoints(p));
  const args: DragArgs = {
    help: v.help === true,
    json: v.json === true,
    quiet: v.quiet === true,
    ...(v.model !== undefined ? { model: resolveModelSpec(v.model, cwd) } : {}),
    ...(pairs ? { pairs } : {}),
    ...(v.method !== undefined ? { method: v.method as MethodName } : {}),
    ...(v['no-discriminative'] ? { discriminative: false as const } : {}),
    ...(v['no-confident'] ? { confident: false as const } : {}),
  };
  const numbers: Partial<Record<keyof DragArgs, number | undefined>> = {
    seed: num('seed', { integer: true, min: 0 }),
    truncation: num('truncation', { above: 0, max: 1 }),
    steps: num('steps', { integer: true, min: 1 }),
    lr: num('lr', { above: 0 }),
    r1: num('r1', { above: 0 }),
    r2: num('r2', { integer: true, min: 1 }),
    lambda: num('lambda', { min: 0, max: 1 }),
    tau: num('tau', { min: 0 }),
    maskWeight: num('mask-weight', { min: 0 }),
    stopDistance: num('stop-distance', { above: 0 }),
  };
  const paths: Partial<Record<keyof DragArgs, string | undefined>> = {
    task: path(v.task),
    session: path(v.session),
    mask: path(v.mask),
    out: path(v.out),
    before: path(v.before),
    gif: path(v.gif),
    saveSession: path(v['save-session']),
  };
  const out: Record<string, unknown> = { ...args };
  for (const [k, val] of Object.entries({ ...numbers, ...paths })) if (val !== undefined) out[k] = val;
  const parsed = out as unknown as DragArgs;
  if (!parsed.help) {
    if (parsed.pairs === undefined && parsed.task === undefined && parsed.session === undefined) {
      throw usageError('Say what to drag: --points "hx,hy:tx,ty" (repeatable), --task task.json or --session session.json. Run "stabledrag drag --help".');
    }
    if (!parsed.out && !parsed.gif && !parsed.saveSession && !parsed.json && !parsed.before) {
      throw usageError('The drag would write nothing: give --out out.png (and/or --gif, --save-session, --json).');
    }
  }
  return parsed;
}

/** The report --json prints. */
export interface DragReport {
  /** The --model value (a name or an absolute folder). */
  readonly model: string;
  /** The backend's own name (model.json's `name`). */
  readonly modelName: string;
  /** Image width and height, pixels. */
  readonly imageSize: readonly [number, number];
  readonly method: string;
  readonly seed?: number;
  readonly truncation?: number;
  readonly task?: string;
  readonly settings: DragSettings;
  readonly stopReason: DragResult['stopReason'];
  readonly steps: number;
  readonly pairs: readonly { handle: [number, number]; target: [number, number] }[];
  readonly points: readonly [number, number][];
  readonly distances: readonly number[];
  readonly converged: boolean;
  /** After stopReason 'diverged': how many updates the kept (best) latent has; else `steps`. */
  readonly bestStep: number;
  readonly timings: {
    readonly setupMs: number;
    readonly totalMs: number;
    readonly meanStepMs: Record<'forward' | 'track' | 'supervise' | 'backward' | 'optimizer' | 'total', number>;
  };
  readonly history: readonly {
    step: number;
    points: [number, number][];
    distances: number[];
    confidences: number[];
    branches: string[];
    loss: number;
    featureRmsRatio: number;
    timings: DragStepEvent['timings'];
  }[];
  readonly outputs: Record<string, string>;
}

const xy = (p: { x: number; y: number }): [number, number] => [p.x, p.y];

/** Where a drag starts: a seed (from flags or a task) or a saved session. */
interface Start {
  readonly modelSpec: string;
  readonly seed?: number;
  readonly truncation?: number;
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
  return {
    modelSpec: args.model ?? 'default',
    seed: args.seed ?? 0,
    ...(args.truncation !== undefined ? { truncation: args.truncation } : {}),
    pairs: args.pairs ?? [],
    ...(args.mask ? { maskPath: args.mask } : {}),
    ...(args.steps !== undefined ? { steps: args.steps } : {}),
  };
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

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
  const inputs = [args.task, args.session, start.maskPath].filter((p): p is string => p !== undefined);
  if (!(MODEL_NAMES as readonly string[]).includes(start.modelSpec)) {
    // The model folder's files are inputs too (model.json, the ONNX files, w_avg.bin).
    const files = await readdir(start.modelSpec).catch(() => [] as string[]);
    inputs.push(...files.map((f) => join(start.modelSpec, f)));
  }
  // An image output's extension picks its format; an unknown one is refused now, not after the drag.
  if (args.out) imageFormatOf(args.out, '--out');
  if (args.before) imageFormatOf(args.before, '--before');
  await checkOutputs(outputs, inputs);

  const model: LoadedModel = await ctx.loadModel(start.modelSpec);
  try {
    return await dragWithModel(args, start, model, ctx, log);
  } finally {
    await model.dispose();
  }
}

async function dragWithModel(
  args: DragArgs,
  start: Start,
  model: LoadedModel,
  ctx: CliContext,
  log: (text: string) => void,
): Promise<ExitCodeValue> {
  const { backend } = model;
  const info = backend.info;
  const size = { imageWidth: info.imageWidth, imageHeight: info.imageHeight };

  const session = start.session;
  if (session && session.modelName !== info.name) {
    throw usageError(`${args.session} was saved with model "${session.modelName}" but --model loads "${info.name}"; pass the model it was saved with.`);
  }
  const latent = session
    ? await backend.createLatent({ type: 'latent', latent: session.latent })
    : await model.latentFromSeed(start.seed ?? 0, start.truncation);

  const mask = start.maskPath ? await readMask(start.maskPath, info.imageWidth, info.imageHeight) : start.sessionMask;
  const radii = defaultRadii(Math.max(info.imageWidth, info.imageHeight));
  const saved = session?.settings;
  const methodName = args.method ?? saved?.method ?? 'stabledrag';
  // The ablation switches belong to StableDrag; a saved session's switches carry over only to the same method.
  const inherit = saved?.method === methodName ? saved : undefined;
  const stable = methodName === 'stabledrag';
  const settings: DragSettings = {
    method: methodName,
    discriminative: stable && (args.discriminative ?? inherit?.discriminative ?? true),
    confident: stable && (args.confident ?? inherit?.confident ?? true),
    steps: start.steps ?? 300,
    lr: args.lr ?? saved?.lr ?? info.defaultLearningRate,
    r1: args.r1 ?? saved?.r1 ?? radii.r1,
    r2: args.r2 ?? saved?.r2 ?? radii.r2,
    lambda: args.lambda ?? saved?.lambda ?? DEFAULT_LAMBDA,
    tau: args.tau ?? saved?.tau ?? DEFAULT_TAU,
    maskWeight: args.maskWeight ?? saved?.maskWeight ?? DEFAULT_MASK_WEIGHT,
    stopDistance: args.stopDistance ?? saved?.stopDistance ?? defaultStopDistance(info.imageHeight),
  };
  validatePairs(start.pairs, size, settings.stopDistance);

  const method = ctx.createMethod(settings.method, settings);
  const drag = new DragSession({
    backend,
    tracker: method.tracker,
    supervisor: method.supervisor,
    latent,
    pairs: start.pairs,
    ...(mask ? { mask } : {}),
    maxSteps: settings.steps,
    learningRate: settings.lr,
    stopDistance: settings.stopDistance,
    withImages: args.gif !== undefined,
  });

  const before: RgbaImage | undefined = args.before || args.gif ? await backend.render(latent) : undefined;
  const gif = args.gif ? new DragGifWriter() : undefined;
  const progress = args.quiet ? undefined : new DragProgress(ctx.stderr);
  log(
    `Dragging ${start.pairs.length} point${start.pairs.length === 1 ? '' : 's'} on ${info.name} (${info.imageWidth}×${info.imageHeight}) with ${method.label}; r1 ${settings.r1}, r2 ${settings.r2}, lr ${settings.lr}, up to ${settings.steps} steps.`,
  );
  const t0 = performance.now();
  let result: DragResult;
  try {
    result = await drag.run({
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onStep: async (e) => {
        // Let the event loop run between steps: a backend that never leaves the microtask queue
        // (the pure-TS reference) would otherwise keep the SIGINT handler from ever firing.
        await new Promise((resolve) => setImmediate(resolve));
        progress?.step(e);
        // Backends that cannot give an image with the features leave only the first and last frames.
        const frame = e.image ?? (gif?.frames === 0 ? before : undefined);
        if (gif && frame) gif.add(frame, e.points, e.targets);
      },
    });
  } finally {
    progress?.done();
  }
  const totalMs = performance.now() - t0;

  // The final image: rendered from the last latent, whether the drag converged, ran out of steps
  // or was interrupted (Ctrl-C still leaves a result).
  const image = await backend.render(result.latent);
  // A converged last step takes no update, so its frame already shows the final image.
  const lastFrameIsFinal = result.stopReason === 'converged' && result.history.length > 0 && (gif?.frames ?? 0) > result.history.length - 1;
  if (gif && !lastFrameIsFinal) gif.add(image, result.points, result.targets);

  const written: Record<string, string> = {};
  if (args.out) {
    await writeFileAtomic(args.out, encodeImage(image, imageFormatOf(args.out, '--out')));
    written.out = args.out;
  }
  if (args.before && before) {
    await writeFileAtomic(args.before, encodeImage(before, imageFormatOf(args.before, '--before')));
    written.before = args.before;
  }
  if (args.gif && gif) {
    await writeFileAtomic(args.gif, gif.finish());
    written.gif = args.gif;
  }
  if (args.saveSession) {
    const text = serializeSession({
      model: start.modelSpec,
      modelName: info.name,
      ...(start.seed !== undefined ? { seed: start.seed } : {}),
      ...(start.truncation !== undefined ? { truncation: start.truncation } : model.defaultTruncation !== undefined ? { truncation: model.defaultTruncation } : {}),
      latent: result.latent,
      pairs: result.points.map((p, i) => ({ handle: p, target: result.targets[i]! })),
      initialPairs: session?.initialPairs.length ? session.initialPairs : start.pairs,
      ...(mask ? { mask } : {}),
      settings,
      result: { stopReason: result.stopReason, steps: result.steps },
    });
    await writeFileAtomic(args.saveSession, text);
    written.saveSession = args.saveSession;
  }

  const last = result.history.at(-1);
  const distances = result.points.map((p, i) => Math.hypot(result.targets[i]!.x - p.x, result.targets[i]!.y - p.y));
  const stepsWithUpdate = result.history.filter((h) => !h.converged);
  const meanOf = (k: keyof DragStepEvent['timings']): number =>
    round(stepsWithUpdate.length === 0 ? 0 : stepsWithUpdate.reduce((a, h) => a + h.timings[k], 0) / stepsWithUpdate.length);
  const verdict = describeStop(result, settings.tau);
  if (result.stopReason === 'diverged') {
    log(
      `warning: the drag left the generator's range after ${result.steps} steps (its features grew past ${DEFAULT_FEATURE_RMS_LIMIT}× their size at the start); ` +
        `the outputs hold the latent after ${result.bestStep} steps, the best seen before. Try a lower --lr (now ${settings.lr}) or a shorter drag.`,
    );
  }
  log(
    `${verdict}; handle distances ${distances.map((d) => d.toFixed(1)).join(', ')} px; ${(totalMs / 1000).toFixed(1)} s.${
      Object.keys(written).length ? ` Wrote ${Object.values(written).join(', ')}.` : ''
    }`,
  );

  if (args.json) {
    const report: DragReport = {
      model: start.modelSpec,
      modelName: info.name,
      imageSize: [info.imageWidth, info.imageHeight],
      method: method.label,
      ...(start.seed !== undefined ? { seed: start.seed } : {}),
      ...(start.truncation !== undefined ? { truncation: start.truncation } : {}),
      ...(start.task?.name !== undefined ? { task: start.task.name } : {}),
      settings,
      stopReason: result.stopReason,
      steps: result.steps,
      pairs: start.pairs.map((p) => ({ handle: xy(p.handle), target: xy(p.target) })),
      points: result.points.map(xy),
      distances: distances.map((d) => round(d)),
      converged: last?.converged ?? false,
      bestStep: result.bestStep,
      timings: {
        setupMs: round(result.setupMs),
        totalMs: round(totalMs),
        meanStepMs: {
          forward: meanOf('forward'),
          track: meanOf('track'),
          supervise: meanOf('supervise'),
          backward: meanOf('backward'),
          optimizer: meanOf('optimizer'),
          total: meanOf('total'),
        },
      },
      history: result.history.map((h) => ({
        step: h.step,
        points: h.points.map(xy),
        distances: h.distances.map((d) => round(d)),
        confidences: h.confidences.map((c) => round(c, 4)),
        branches: [...h.branches],
        loss: h.loss,
        featureRmsRatio: round(h.featureRmsRatio, 4),
        timings: Object.fromEntries(Object.entries(h.timings).map(([k, v]) => [k, round(v)])) as unknown as DragStepEvent['timings'],
      })),
      outputs: written,
    };
    ctx.stdout.write(`${toJson(report)}\n`);
  }
  return result.stopReason === 'aborted' ? ExitCode.INTERRUPTED : result.stopReason === 'diverged' ? ExitCode.DIVERGED : ExitCode.OK;
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
