import { DragSession, type DragSessionOptions } from '@stabledrag/core';
import type { DragBackend, DragLatent, DragStopReason, Point, RgbaImage } from '@stabledrag/core';
import { toFloat, type FloatImage } from './image.js';
import type { BuiltMethod, MethodSpec } from './methods.js';
import { locatePatch } from './metrics/ncc.js';
import { oneMinusMae, ssim } from './metrics/fidelity.js';
import { RecordingBackend } from './recording-backend.js';
import type { ExactAnswer } from './exact/load-exact-answers.js';
import { hasZ, modelExactImages } from './exact/model-exact-images.js';
import { scoreExact, type ExactScore, type PreparedExact } from './exact/score-exact.js';
import { DESTROYED_FIDELITY, outsideFidelity } from './stability.js';
import { pairLength, type BenchTask } from './tasks.js';

/** A task with its starting latent and image, made once and shared by every method. */
export interface PreparedTask {
  readonly task: BenchTask;
  readonly latent: DragLatent;
  readonly original: RgbaImage;
  readonly originalFloat: FloatImage;
  /** The renderer's exact answer and the model's images of it (faces2 task sets). */
  readonly exact?: PreparedExact;
}

/** `answer`: the task's exact answer; used when the backend can map a z (GanBackend), else ignored. */
export async function prepareTask(backend: DragBackend, task: BenchTask, answer?: ExactAnswer): Promise<PreparedTask> {
  const latent = await backend.createLatent({
    type: 'seed',
    seed: task.seed,
    ...(task.truncation !== undefined ? { truncation: task.truncation } : {}),
  });
  const original = await backend.render(latent);
  const originalFloat = toFloat(original);
  const exact = answer && hasZ(backend) ? { answer, model: await modelExactImages(backend, answer, originalFloat) } : undefined;
  return { task, latent, original, originalFloat, ...(exact ? { exact } : {}) };
}

export interface PairScore {
  /** Drag length |t − h|, pixels. */
  readonly length: number;
  /** Where NCC found the handle's content. */
  readonly found: Point;
  /** ZNCC at the peak. */
  readonly ncc: number;
  /** Mean Distance contribution: |found − target|, pixels. */
  readonly distance: number;
  /** Weighted RGB std of the handle's patch in the original image (< 0.03: nearly flat, NCC places it roughly). */
  readonly texture: number;
  /** NCC's peak lay on the search box's edge (`LocateResult.onEdge`); absent in records made before 7 Dec 2026. */
  readonly onEdge?: boolean;
}

export interface Evaluation {
  readonly pairs: readonly PairScore[];
  readonly ssim: number;
  readonly ssimFixed: number | null;
  readonly mae1: number;
  readonly mae1Fixed: number | null;
  /** 1 − MAE outside the edit region (see stability.ts). */
  readonly mae1Outside: number;
  /** mae1Outside below DESTROYED_FIDELITY: the edit left the generator's range. */
  readonly destroyed: boolean;
  /** Against the exact answer, when the task has one. */
  readonly exact?: ExactScore;
}

/** Scores an edited image against the task's original. */
export function evaluate(prepared: PreparedTask, edited: FloatImage): Evaluation {
  const { task, originalFloat } = prepared;
  const pairs = task.pairs.map((p) => {
    const r = locatePatch(originalFloat, edited, p.handle, p.target);
    return {
      length: pairLength(p),
      found: r.point,
      ncc: r.score,
      distance: Math.hypot(r.point.x - p.target.x, r.point.y - p.target.y),
      texture: r.templateStd,
      onEdge: r.onEdge,
    };
  });
  const s = ssim(originalFloat, edited, task.mask);
  const m = oneMinusMae(originalFloat, edited, task.mask);
  const outside = outsideFidelity(originalFloat, edited, task.pairs);
  return {
    pairs, ssim: s.all, ssimFixed: s.fixed, mae1: m.all, mae1Fixed: m.fixed, mae1Outside: outside, destroyed: outside < DESTROYED_FIDELITY,
    ...(prepared.exact ? { exact: scoreExact(task.pairs, prepared.exact, edited) } : {}),
  };
}

export interface TimingSums {
  forward: number;
  track: number;
  supervise: number;
  backward: number;
  optimizer: number;
  total: number;
  /** Steps summed (steps that took an Adam update). */
  n: number;
}

export interface BudgetResult extends Evaluation {
  readonly budget: number;
  /** Adam updates actually taken within the budget (fewer when the drag converged). */
  readonly updates: number;
  readonly converged: boolean;
  /** The tracker's own view: distance of each tracked handle to its target at this budget. */
  readonly trackerDistances: readonly number[];
}

export interface RunRecord {
  readonly task: string;
  readonly method: string;
  readonly stopReason: DragStopReason;
  readonly steps: number;
  readonly setupMs: number;
  /** Tracker init (templates + learning the filters of Eq. 3), ms. */
  readonly trackerInitMs: number;
  readonly supervisorInitMs: number;
  readonly timings: TimingSums;
  readonly branches: { motion: number; template: number; none: number };
  readonly wallMs: number;
  /** Largest RMS(F)/RMS(F0) over the run's steps. */
  readonly maxFeatureRmsRatio: number;
  readonly budgets: readonly BudgetResult[];
}

/**
 * Runs one drag for the largest budget and scores the latent it held after each budget's number
 * of updates (see {@link RecordingBackend}).
 */
export async function runDrag(
  backend: DragBackend,
  prepared: PreparedTask,
  spec: MethodSpec,
  built: BuiltMethod,
  budgets: readonly number[],
  options: {
    onImage?: (budget: number, image: RgbaImage, latent: DragLatent) => void;
    learningRate?: number;
    minConfidenceRatio?: number;
    stopDistance?: number;
    divergence?: DragSessionOptions['divergence'];
  } = {},
): Promise<RunRecord> {
  const { task } = prepared;
  const recording = new RecordingBackend(backend);
  const clock = (): number => performance.now();
  let trackerInitMs = 0;
  let supervisorInitMs = 0;
  const { tracker, supervisor } = built;
  const timedTracker = {
    name: tracker.name,
    init: (...args: Parameters<typeof tracker.init>) => {
      const t = clock();
      tracker.init(...args);
      trackerInitMs += clock() - t;
    },
    track: tracker.track.bind(tracker),
  };
  const timedSupervisor = {
    name: supervisor.name,
    init: (...args: Parameters<typeof supervisor.init>) => {
      const t = clock();
      supervisor.init(...args);
      supervisorInitMs += clock() - t;
    },
    compute: supervisor.compute.bind(supervisor),
  };
  const maxBudget = Math.max(...budgets);
  const session = new DragSession({
    backend: recording,
    tracker: timedTracker,
    supervisor: timedSupervisor,
    latent: prepared.latent,
    pairs: task.pairs,
    ...(task.mask ? { mask: task.mask } : {}),
    maxSteps: maxBudget,
    ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
    ...(options.minConfidenceRatio !== undefined ? { minConfidenceRatio: options.minConfidenceRatio } : {}),
    ...(options.stopDistance !== undefined ? { stopDistance: options.stopDistance } : {}),
    ...(options.divergence !== undefined ? { divergence: options.divergence } : {}),
  });
  const t0 = clock();
  const result = await session.run();
  const timings: TimingSums = { forward: 0, track: 0, supervise: 0, backward: 0, optimizer: 0, total: 0, n: 0 };
  const branches = { motion: 0, template: 0, none: 0 };
  for (const e of result.history) {
    for (const b of e.branches) branches[b]++;
    if (e.converged) continue;
    timings.forward += e.timings.forward;
    timings.track += e.timings.track;
    timings.supervise += e.timings.supervise;
    timings.backward += e.timings.backward;
    timings.optimizer += e.timings.optimizer;
    timings.total += e.timings.total;
    timings.n++;
  }
  const wallMs = clock() - t0;
  const out: BudgetResult[] = [];
  for (const budget of [...budgets].sort((a, b) => a - b)) {
    const updates = Math.min(budget, result.steps);
    const optimized = updates >= result.steps ? result.latent.optimized : recording.snapshots[updates]!;
    const latent: DragLatent = { optimized, frozen: result.latent.frozen, meta: result.latent.meta };
    const image = await backend.render(latent);
    options.onImage?.(budget, image, latent);
    // Step updates+1 tracked the handles on the latent after `updates` updates.
    const event = result.history[Math.min(updates, result.history.length - 1)]!;
    out.push({
      budget,
      updates,
      converged: result.stopReason === 'converged' && updates === result.steps,
      trackerDistances: event.distances,
      ...evaluate(prepared, toFloat(image)),
    });
  }
  return {
    task: task.id,
    method: spec.id,
    stopReason: result.stopReason,
    steps: result.steps,
    setupMs: result.setupMs,
    trackerInitMs,
    supervisorInitMs,
    timings,
    branches,
    wallMs,
    maxFeatureRmsRatio: Math.max(1, ...result.history.map((e) => e.featureRmsRatio)),
    budgets: out,
  };
}
