import { Adam } from './adam.js';
import { DEFAULT_FEATURE_RMS_LIMIT, DivergenceGuard } from './divergence-guard.js';
import { cloneLatent } from './backend.js';
import type { DragBackend, DragLatent, FixedRegion, ForwardPass } from './backend.js';
import { StableDragError } from './errors.js';
import type { MotionSupervisor, SupervisionBranch } from './motion-supervisor.js';
import type { PointTracker } from './point-tracker.js';
import type { DragPair, Mask, Point, RgbaImage } from './types.js';
import { stopDistanceFor, validateBackendAndLatent, validateMask, validatePairs } from './validate.js';

export interface DragSessionOptions {
  readonly backend: DragBackend;
  /** How handles are found again each step (DragGAN: nearest neighbour; StableDrag: discriminative). */
  readonly tracker: PointTracker;
  /** How the loss is made (DragGAN: Eq. 1 only; StableDrag: the confident switch of Eq. 5). */
  readonly supervisor: MotionSupervisor;
  /** Starting latent; copied, never modified. */
  readonly latent: DragLatent;
  readonly pairs: readonly DragPair[];
  /**
   * Editable region (1 = may change) at image size. With a backend declaring
   * `info.fixedRegionTerm` (diffusion: DragDiffusion's term on the DDIM-stepped latent) the
   * backend keeps the rest fixed and the supervisor gets no mask; otherwise the supervisor's
   * feature-space term does (DragGAN).
   */
  readonly mask?: Mask;
  /** λ of a backend's native fixed-region term. Default `info.fixedRegionTerm.defaultWeight`. */
  readonly fixedRegionWeight?: number;
  /** Upper bound on optimisation steps. Default 300. */
  readonly maxSteps?: number;
  /** Adam learning rate. Default: the backend's `defaultLearningRate`. */
  readonly learningRate?: number;
  /** A handle within this many pixels of its target is done. Default DragGAN's max(2, 2·h/512). */
  readonly stopDistance?: number;
  /** Ask the backend for each step's image (for live views and GIFs). Default false. */
  readonly withImages?: boolean;
  /**
   * With `withImages`: ask for an image only when at least this many milliseconds have passed since
   * the last step that got one (a live view needs ~15 frames a second, and a GAN step without a
   * picture skips the blocks above the features). Default 0: every step.
   */
  readonly imageIntervalMs?: number;
  /** Milliseconds clock for timings; injectable for tests. Default `performance.now`. */
  readonly clock?: () => number;
  /**
   * Convergence also needs every handle's confidence above this fraction of its step-1 value
   * (Eq. 5's τ·s_1): a tracker can put a handle on its target while the content has not followed.
   * Default 0 (distance alone, as DragGAN).
   */
  readonly minConfidenceRatio?: number;
  /**
   * Stop with 'diverged' when the features' RMS exceeds `featureRmsLimit` × F0's (the latent has
   * left the generator's range); the result then holds the best latent seen before. Default
   * { featureRmsLimit: 3 }; `false` turns the guard off.
   */
  readonly divergence?: { readonly featureRmsLimit?: number } | false;
}

/** Where one step's time went, in milliseconds. */
export interface DragStepTimings {
  readonly forward: number;
  readonly track: number;
  readonly supervise: number;
  readonly backward: number;
  readonly optimizer: number;
  readonly total: number;
}

/** What the loop reports after each step; enough for a progress bar, a GIF writer or a UI. */
export interface DragStepEvent {
  /** 1-based optimisation step. */
  readonly step: number;
  readonly maxSteps: number;
  /** Handle positions tracked on this step's features (image pixels). */
  readonly points: readonly Point[];
  readonly targets: readonly Point[];
  /** Tracking confidence s_i of each handle. */
  readonly confidences: readonly number[];
  /** Distance of each handle to its target, pixels. */
  readonly distances: readonly number[];
  /**
   * Loss of this step (0 on the final, converged step, which takes no update): the supervisor's,
   * plus `fixedRegionLoss` when the backend keeps the masked-out region itself.
   */
  readonly loss: number;
  /** The backend's fixed-region term within `loss`, when it has one and a mask was given. */
  readonly fixedRegionLoss?: number;
  /** Which loss drove each handle (Eq. 5). */
  readonly branches: readonly SupervisionBranch[];
  readonly timings: DragStepTimings;
  /** True on the step that found every handle at its target (confidently, see minConfidenceRatio); no update follows. */
  readonly converged: boolean;
  /** RMS of this step's features over F0's: ≈ 1 while the latent stays in the generator's range. */
  readonly featureRmsRatio: number;
  /** This step's image (before its update), when `withImages` is set and the backend gives it. */
  readonly image?: RgbaImage;
}

/**
 * Why a drag ended. 'diverged': the features left the generator's range (see
 * DragSessionOptions.divergence); the result's latent is then the best one seen before.
 */
export type DragStopReason = 'converged' | 'max-steps' | 'aborted' | 'diverged';

export interface DragResult {
  readonly stopReason: DragStopReason;
  /** Optimisation steps taken (Adam updates). */
  readonly steps: number;
  /** Final latent (a copy the caller owns); after 'diverged', the latent of {@link DragResult.bestStep}. */
  readonly latent: DragLatent;
  /**
   * How many Adam updates the returned latent has. After 'diverged', the latent kept is, of those
   * the guard passed, the one whose tracked handles were nearest their targets (mean distance;
   * ties to the earlier); otherwise it equals `steps`.
   */
  readonly bestStep: number;
  /** Last tracked handle positions (after 'diverged': those tracked on the kept latent). */
  readonly points: readonly Point[];
  readonly targets: readonly Point[];
  /** Every step's event, without images. */
  readonly history: readonly DragStepEvent[];
  /** Time of step 0 (features F0 plus tracker and supervisor set-up), ms. */
  readonly setupMs: number;
}

export interface RunOptions {
  /** Aborting stops before the next step; `run` then resolves with stopReason 'aborted'. */
  readonly signal?: AbortSignal;
  /** Called after each step; awaited, so a slow consumer (GIF encoder) applies back-pressure. */
  readonly onStep?: (event: DragStepEvent) => void | Promise<void>;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
}

/**
 * The drag loop of the paper's Fig. 2. Step 0 computes F0 and lets the tracker (templates,
 * discriminative filter, Eq. 3) and the supervisor (templates, mask) initialise. Each step then:
 * features → track points → loss and dL/dF → backend VJP → Adam step on the optimised latent.
 * Stops when every handle is within the stop distance (and confident, see minConfidenceRatio), at
 * `maxSteps`, when aborted, or when the features leave the generator's range ('diverged').
 */
export class DragSession {
  private readonly options: DragSessionOptions;
  private readonly maxSteps: number;
  private readonly stopDistance: number;
  private readonly learningRate: number;
  private readonly minConfidenceRatio: number;
  private readonly rmsLimit: number | null;
  /** The mask as the backend's own term, or null (no mask, weight 0, or no native term). */
  private readonly fixedRegion: FixedRegion | null;
  /** The mask the supervisor gets: none when the backend has its own term. */
  private readonly supervisorMask: Mask | undefined;
  private running = false;

  constructor(options: DragSessionOptions) {
    const { backend, latent, pairs, mask } = options;
    validateBackendAndLatent(backend, latent);
    const info = backend.info;
    this.stopDistance = options.stopDistance ?? stopDistanceFor(info);
    this.maxSteps = options.maxSteps ?? 300;
    if (!Number.isInteger(this.maxSteps) || this.maxSteps < 1) {
      throw new StableDragError('INVALID_INPUT', `maxSteps must be a positive integer, got ${options.maxSteps}.`);
    }
    this.learningRate = options.learningRate ?? info.defaultLearningRate;
    if (!(this.learningRate > 0) || !Number.isFinite(this.learningRate)) {
      throw new StableDragError('INVALID_INPUT', `learningRate must be a positive number, got ${options.learningRate}.`);
    }
    this.minConfidenceRatio = options.minConfidenceRatio ?? 0;
    if (!(this.minConfidenceRatio >= 0) || !Number.isFinite(this.minConfidenceRatio)) {
      throw new StableDragError('INVALID_INPUT', `minConfidenceRatio must be a non-negative number, got ${options.minConfidenceRatio}.`);
    }
    this.rmsLimit = options.divergence === false ? null : options.divergence?.featureRmsLimit ?? DEFAULT_FEATURE_RMS_LIMIT;
    if (this.rmsLimit !== null && !(this.rmsLimit > 1)) {
      throw new StableDragError('INVALID_INPUT', `divergence.featureRmsLimit must be a number above 1, got ${this.rmsLimit}.`);
    }
    validatePairs(pairs, info, this.stopDistance);
    if (mask) validateMask(mask, info);
    const native = info.fixedRegionTerm;
    const weight = options.fixedRegionWeight ?? native?.defaultWeight ?? 0;
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw new StableDragError('INVALID_INPUT', `fixedRegionWeight must be a non-negative number, got ${options.fixedRegionWeight}.`);
    }
    // A zero weight asks for no term: the backend then skips its extra graphs entirely.
    this.fixedRegion = mask && native && weight > 0 ? { mask, weight } : null;
    this.supervisorMask = native ? undefined : mask;
    this.options = options;
  }

  /** Runs the drag to the end. A session runs once at a time; run it again to repeat the same drag. */
  async run(runOptions: RunOptions = {}): Promise<DragResult> {
    if (this.running) throw new StableDragError('INVALID_INPUT', 'This DragSession is already running; wait for it or abort it first.');
    this.running = true;
    try {
      return await this.loop(runOptions);
    } finally {
      this.running = false;
    }
  }

  /** The pass's fixed-region term, which a backend declaring `fixedRegionTerm` must report. */
  private fixedRegionLossOf(pass: ForwardPass): number {
    const value = pass.fixedRegionLoss;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const name = this.options.backend.info.name;
      throw new StableDragError(
        'INVALID_BACKEND',
        `Backend '${name}' declares info.fixedRegionTerm but its forward pass reported fixedRegionLoss = ${String(value)} for a masked drag; it must report the term's finite value.`,
      );
    }
    return value;
  }

  private async loop({ signal, onStep }: RunOptions): Promise<DragResult> {
    const { backend, tracker, supervisor, pairs } = this.options;
    const clock = this.options.clock ?? (() => performance.now());
    const withImage = this.options.withImages ?? false;
    const latent = cloneLatent(this.options.latent);
    const targets = pairs.map((p) => p.target);
    let points: Point[] = pairs.map((p) => p.handle);
    const history: DragStepEvent[] = [];
    const adam = new Adam(latent.optimized.length, { lr: this.learningRate });
    const size = backend.info.optimizedSize;
    let steps = 0;
    let pass: ForwardPass | undefined;
    const fixedRegion = this.fixedRegion;
    const interval = this.options.imageIntervalMs ?? 0;
    let lastImageAt = -Infinity;
    const forward = (): Promise<ForwardPass> => {
      // the clock is read only when frames are rationed (tests count its readings)
      const now = withImage && interval > 0 ? clock() : 0;
      const image = withImage && (interval <= 0 || now - lastImageAt >= interval);
      if (image) lastImageAt = now;
      return backend.forward(latent, { withVjp: true, withImage: image, signal, ...(fixedRegion ? { fixedRegion } : {}) });
    };

    const guard = new DivergenceGuard(this.rmsLimit ?? Infinity);
    // The best latent so far (handles nearest their targets), kept for a drag that diverges.
    let best = { step: 0, meanDistance: Infinity, optimized: latent.optimized.slice(), points };
    let s1: readonly number[] | null = null;

    const finish = (stopReason: DragStopReason): DragResult => {
      const diverged = stopReason === 'diverged';
      const kept = diverged ? { ...latent, optimized: best.optimized } : latent;
      return { stopReason, steps, latent: cloneLatent(kept), bestStep: diverged ? best.step : steps, points: diverged ? best.points : points, targets, history, setupMs };
    };

    let setupMs = 0;
    try {
      if (signal?.aborted) return finish('aborted');
      const t0 = clock();
      // Step 0: F0 is also the features of step 1 (the latent has not moved yet), so keep its pass.
      pass = await forward();
      tracker.init(pass.features, points);
      // With the backend's own term the supervisor must not add DragGAN's feature-space one too.
      supervisor.init(pass.features, points, this.supervisorMask);
      guard.init(pass.features);
      setupMs = clock() - t0;

      for (let step = 1; step <= this.maxSteps; step++) {
        if (signal?.aborted) return finish('aborted');
        const tStart = clock();
        if (!pass) pass = await forward();
        const tForward = clock();
        const featureRmsRatio = guard.ratio(pass.features);
        if (guard.diverged(featureRmsRatio)) return finish('diverged');
        const tracked = tracker.track(pass.features, points);
        points = tracked.map((r) => r.point);
        const confidences = tracked.map((r) => r.confidence);
        const distances = points.map((p, i) => Math.hypot(targets[i]!.x - p.x, targets[i]!.y - p.y));
        const tTrack = clock();
        s1 ??= confidences;
        const meanDistance = distances.reduce((a, d) => a + d, 0) / distances.length;
        if (meanDistance < best.meanDistance) best = { step: step - 1, meanDistance, optimized: latent.optimized.slice(), points };
        const converged = distances.every((d, i) => d <= this.stopDistance && confidences[i]! >= this.minConfidenceRatio * s1![i]!);

        let loss = 0;
        let fixedRegionLoss: number | undefined;
        let branches: SupervisionBranch[] = points.map(() => 'none');
        let tSupervise = tTrack;
        let tBackward = tTrack;
        let tEnd = tTrack;
        if (!converged) {
          const sup = supervisor.compute({ features: pass.features, handles: points, targets, confidences, step });
          fixedRegionLoss = fixedRegion ? this.fixedRegionLossOf(pass) : undefined;
          loss = sup.loss + (fixedRegionLoss ?? 0);
          branches = [...sup.branches];
          tSupervise = clock();
          const grad = await pass.vjp(sup.grad, { signal });
          if (grad.length !== size) {
            throw new StableDragError(
              'INVALID_BACKEND',
              `Backend '${backend.info.name}' returned a gradient of ${grad.length} floats from vjp(); its optimizedSize is ${size}. Fix the backend's vjp().`,
            );
          }
          tBackward = clock();
          adam.step(latent.optimized, grad);
          steps = step;
          tEnd = clock();
        }
        const image = pass.image;
        pass.release();
        pass = undefined;

        const event: DragStepEvent = {
          step, maxSteps: this.maxSteps, points, targets, confidences, distances, loss, branches, converged, featureRmsRatio,
          ...(fixedRegionLoss !== undefined ? { fixedRegionLoss } : {}),
          timings: {
            forward: tForward - tStart,
            track: tTrack - tForward,
            supervise: tSupervise - tTrack,
            backward: tBackward - tSupervise,
            optimizer: tEnd - tBackward,
            total: tEnd - tStart,
          },
          ...(image ? { image } : {}),
        };
        history.push(image ? { ...event, image: undefined } : event);
        if (onStep) await onStep(event);
        if (converged) return finish('converged');
      }
      return finish('max-steps');
    } catch (error) {
      if (isAbort(error, signal)) return finish('aborted');
      throw error;
    } finally {
      pass?.release();
    }
  }
}
