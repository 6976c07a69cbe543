import type {
  FeatureMap,
  Mask,
  MotionSupervisor,
  Point,
  SupervisionBranch,
  SupervisionInput,
  SupervisionResult,
} from '@stabledrag/core';
import { bilinearTaps } from '@stabledrag/core';
import { DEFAULT_CONFIDENCE_RATIO, DEFAULT_MASK_WEIGHT, DEFAULT_MIN_DISTANCE, DEFAULT_MOTION_RADIUS } from './defaults.js';
import {
  createShiftScratch,
  discOffsets,
  fixedFeaturePixels,
  maskL1,
  shiftedL1,
  type ShiftScratch,
} from './motion-terms.js';
import { checkFeatureMap, checkFinite, checkPoints, fail } from './validate.js';

export interface SupervisionOptions {
  /** r1 in image pixels; the disc is the integer offsets with dx² + dy² ≤ r1². Default {@link DEFAULT_MOTION_RADIUS}. */
  readonly radius?: number;
  /** η of the mask term; default {@link DEFAULT_MASK_WEIGHT}. Only used when init gets a mask. */
  readonly maskWeight?: number;
  /** Handles at most this far from their target get branch 'none'; default {@link DEFAULT_MIN_DISTANCE}. */
  readonly minDistance?: number;
  /**
   * Default true: `grad` is one buffer owned by the supervisor and overwritten by the next
   * compute (no 4 MB allocation per step). Set false to get a fresh array each time.
   */
  readonly reuseGrad?: boolean;
}

/**
 * The shared machinery of Eq. 1, 4 and 5. Per handle i with branch b_i ≠ 'none':
 *   loss_i = mean_{k,c} |ref_i,k,c − F(p_i + o_k + d_i)_c|,  d_i = (t_i − p_i)/‖t_i − p_i‖,
 * ref = sg(F(p_i + o_k)) for 'motion' (Eq. 1), F0(p_i⁰ + o_k) for 'template' (Eq. 4); the mean runs
 * over the K disc points and C channels (DragGAN's F.l1_loss), and the handles' terms are summed.
 * Plus η·mean|F − F0| over the fixed feature pixels when a mask was given.
 */
abstract class SupervisionBase implements MotionSupervisor {
  abstract readonly name: string;
  readonly radius: number;
  readonly maskWeight: number;
  readonly minDistance: number;
  private readonly reuseGrad: boolean;
  protected readonly offsets: Point[];
  private readonly scratch: ShiftScratch;
  private shape: Pick<FeatureMap, 'channels' | 'height' | 'width' | 'scale'> | null = null;
  private features0: Float32Array | null = null;
  private fixed: Int32Array | null = null;
  private handles0: Point[] = [];
  /** Per handle: F0 at p_i⁰ + o_k, K × C (Eq. 4's template). */
  protected templates: Float32Array[] = [];
  private gradBuf: Float32Array | null = null;

  constructor(options: SupervisionOptions = {}) {
    this.radius = options.radius ?? DEFAULT_MOTION_RADIUS;
    this.maskWeight = options.maskWeight ?? DEFAULT_MASK_WEIGHT;
    this.minDistance = options.minDistance ?? DEFAULT_MIN_DISTANCE;
    this.reuseGrad = options.reuseGrad ?? true;
    if (!(this.maskWeight >= 0 && Number.isFinite(this.maskWeight))) fail(`maskWeight must be a non-negative number, got ${this.maskWeight}.`);
    if (!(this.minDistance >= 0 && Number.isFinite(this.minDistance))) fail(`minDistance must be a non-negative number, got ${this.minDistance}.`);
    this.offsets = discOffsets(this.radius);
    this.scratch = createShiftScratch(this.offsets.length);
  }

  /** Fixed feature pixels (v·W + u) of the mask term, or null without a mask. */
  get fixedPixels(): Int32Array | null {
    return this.fixed;
  }

  init(features0: FeatureMap, handles0: readonly Point[], mask?: Mask): void {
    checkFeatureMap(features0, `${this.name}.init(features0)`);
    checkFinite(features0, `${this.name}.init(features0)`);
    checkPoints(features0, handles0, handles0.length, `${this.name}.init`, 'handle');
    const { channels: C, height, width, scale } = features0;
    this.shape = { channels: C, height, width, scale };
    this.features0 = features0.data.slice();
    this.handles0 = handles0.map((p) => ({ x: p.x, y: p.y }));
    this.fixed = mask === undefined ? null : fixedFeaturePixels(mask, features0);
    const K = this.offsets.length;
    const idx = new Int32Array(4);
    const w = new Float64Array(4);
    const plane = width * height;
    const d = features0.data;
    this.templates = this.handles0.map((p) => {
      const t = new Float32Array(K * C);
      for (let k = 0; k < K; k++) {
        bilinearTaps(features0, p.x + this.offsets[k]!.x, p.y + this.offsets[k]!.y, idx, w, 0);
        for (let c = 0; c < C; c++) {
          const o = c * plane;
          t[k * C + c] = w[0]! * d[o + idx[0]!]! + w[1]! * d[o + idx[1]!]! + w[2]! * d[o + idx[2]!]! + w[3]! * d[o + idx[3]!]!;
        }
      }
      return t;
    });
    this.gradBuf = null;
    this.onInit();
  }

  /** Hook for subclasses that keep per-drag state. */
  protected onInit(): void {}

  /** Hook called once the input of a compute has been validated, before the branches are chosen. */
  protected onValidInput(_input: SupervisionInput): void {}

  /** The branch of each handle that is not within minDistance of its target. */
  protected abstract choose(input: SupervisionInput, i: number): 'motion' | 'template';

  compute(input: SupervisionInput): SupervisionResult {
    const shape = this.shape;
    const F0 = this.features0;
    if (shape === null || F0 === null) fail(`${this.name}.compute: call init(features0, handles0, mask?) first.`);
    const { features, handles, targets } = input;
    checkFeatureMap(features, `${this.name}.compute(features)`);
    if (
      features.channels !== shape.channels ||
      features.width !== shape.width ||
      features.height !== shape.height ||
      features.scale !== shape.scale
    ) {
      fail(
        `${this.name}.compute: the map is ${features.channels}×${features.height}×${features.width} at scale ${features.scale}, ` +
          `but the step-0 templates are ${shape.channels}×${shape.height}×${shape.width} at scale ${shape.scale}.`,
      );
    }
    const n = this.handles0.length;
    checkPoints(features, handles, n, `${this.name}.compute`, 'handle');
    if (!Array.isArray(targets) || targets.length !== n) fail(`${this.name}.compute: got ${targets?.length} targets, expected ${n}.`);
    targets.forEach((t, i) => {
      if (!t || !Number.isFinite(t.x) || !Number.isFinite(t.y)) fail(`${this.name}.compute: target ${i} is not a finite point.`);
    });
    if (!Array.isArray(input.confidences) || input.confidences.length !== n) {
      fail(`${this.name}.compute: got ${input.confidences?.length} confidences, expected ${n}.`);
    }

    this.onValidInput(input);
    const size = features.data.length;
    let grad: Float32Array;
    if (this.reuseGrad) {
      if (this.gradBuf === null || this.gradBuf.length !== size) this.gradBuf = new Float32Array(size);
      grad = this.gradBuf;
      grad.fill(0);
    } else {
      grad = new Float32Array(size);
    }
    const weight = 1 / (this.offsets.length * shape.channels);
    const branches: SupervisionBranch[] = [];
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const p = handles[i]!;
      const t = targets[i]!;
      const dist = Math.hypot(t.x - p.x, t.y - p.y);
      if (dist <= this.minDistance) {
        branches.push('none');
        continue;
      }
      const branch = this.choose(input, i);
      branches.push(branch);
      const step = { x: (t.x - p.x) / dist, y: (t.y - p.y) / dist };
      const ref = branch === 'template' ? this.templates[i]! : null;
      loss += shiftedL1(features, p, this.offsets, step, ref, weight, grad, this.scratch);
    }
    if (this.fixed !== null && this.maskWeight > 0) loss += maskL1(features, F0, this.fixed, this.maskWeight, grad);
    if (!Number.isFinite(loss)) checkFinite(features, `${this.name}.compute(features)`);
    return { loss, grad, branches };
  }
}

/** DragGAN's motion supervision (StableDrag Eq. 1) for every handle. */
export class MotionSupervision extends SupervisionBase {
  readonly name = 'motion-supervision';
  protected choose(): 'motion' {
    return 'motion';
  }
}

/** StableDrag's template supervision (Eq. 4) for every handle: the reference is F0 around p_i⁰. */
export class TemplateSupervision extends SupervisionBase {
  readonly name = 'template-supervision';
  protected choose(): 'template' {
    return 'template';
  }
}

export interface ConfidentSupervisionOptions extends SupervisionOptions {
  /** τ of Eq. 5; default {@link DEFAULT_CONFIDENCE_RATIO}. */
  readonly tau?: number;
}

/** One compute of {@link ConfidentSupervision}: the step and the branch of each handle. */
export interface BranchRecord {
  readonly step: number;
  readonly branches: readonly SupervisionBranch[];
  readonly confidences: readonly number[];
}

/**
 * StableDrag's confident motion supervision (Eq. 5): per handle, Eq. 1 while s_i > τ·s_1, else
 * Eq. 4's template. s_1 is per handle: the confidences of the first compute after init (step 1).
 */
export class ConfidentSupervision extends SupervisionBase {
  readonly name = 'confident-supervision';
  readonly tau: number;
  private s1: number[] | null = null;
  private readonly records: BranchRecord[] = [];

  constructor(options: ConfidentSupervisionOptions = {}) {
    super(options);
    this.tau = options.tau ?? DEFAULT_CONFIDENCE_RATIO;
    if (!Number.isFinite(this.tau)) fail(`tau must be a finite number, got ${this.tau}.`);
  }

  /** s_1 per handle, once the first compute has run. */
  get stepOneConfidences(): readonly number[] | null {
    return this.s1;
  }

  /** Which branch each handle used at each compute since init. */
  get history(): readonly BranchRecord[] {
    return this.records;
  }

  protected override onInit(): void {
    this.s1 = null;
    this.records.length = 0;
  }

  protected override onValidInput(input: SupervisionInput): void {
    input.confidences.forEach((s, i) => {
      if (!Number.isFinite(s)) fail(`${this.name}.compute: confidence ${i} is ${s}; expected a finite tracking score.`);
    });
    if (this.s1 === null) this.s1 = [...input.confidences];
  }

  override compute(input: SupervisionInput): SupervisionResult {
    const result = super.compute(input);
    this.records.push({ step: input.step, branches: result.branches, confidences: [...input.confidences] });
    return result;
  }

  protected choose(input: SupervisionInput, i: number): 'motion' | 'template' {
    const s1 = this.s1![i]!;
    return input.confidences[i]! > this.tau * s1 ? 'motion' : 'template';
  }
}
