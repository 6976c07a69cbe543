import type { DragPair, DragResult, DragStepEvent } from '@stabledrag/core';
import type { DragSettings } from '../session-file.js';

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
  /** The photo of --image, its size as read, and what was done to fit it. */
  readonly image?: { readonly path: string; readonly originalSize: readonly [number, number]; readonly notices: readonly string[] };
  /** LoRA steps the diffusion model was tuned with (0: none). */
  readonly loraSteps?: number;
  readonly timings: {
    readonly setupMs: number;
    readonly totalMs: number;
    /** Wall time of every stage that ran (load, lora, encode, invert, project, drag, denoise, decode, gif), ms; `drag` includes the GIF frames rendered during it, which `gif` also counts. */
    readonly stagesMs: Record<string, number>;
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


/** What a finished drag hands to {@link buildDragReport}. */
export interface DragReportInput extends Pick<DragReport, 'model' | 'modelName' | 'imageSize' | 'method' | 'seed' | 'truncation' | 'task' | 'settings' | 'outputs' | 'image' | 'loraSteps'> {
  readonly result: DragResult;
  /** The pairs as the drag started. */
  readonly startPairs: readonly DragPair[];
  readonly totalMs: number;
  readonly stagesMs: Readonly<Record<string, number>>;
}

const xy = (p: { x: number; y: number }): [number, number] => [p.x, p.y];
const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Handle-to-target distance of every pair of a result, pixels. */
export function finalDistances(result: Pick<DragResult, 'points' | 'targets'>): number[] {
  return result.points.map((p, i) => Math.hypot(result.targets[i]!.x - p.x, result.targets[i]!.y - p.y));
}

/** The --json report of a drag: settings, result, per-step history, and the time of every step and stage. */
export function buildDragReport(input: DragReportInput): DragReport {
  const { result } = input;
  const stepsWithUpdate = result.history.filter((h) => !h.converged);
  const meanOf = (k: keyof DragStepEvent['timings']): number =>
    round(stepsWithUpdate.length === 0 ? 0 : stepsWithUpdate.reduce((a, h) => a + h.timings[k], 0) / stepsWithUpdate.length);
  return {
    model: input.model,
    modelName: input.modelName,
    imageSize: input.imageSize,
    method: input.method,
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    ...(input.truncation !== undefined ? { truncation: input.truncation } : {}),
    ...(input.task !== undefined ? { task: input.task } : {}),
    ...(input.image ? { image: input.image } : {}),
    ...(input.loraSteps !== undefined ? { loraSteps: input.loraSteps } : {}),
    settings: input.settings,
    stopReason: result.stopReason,
    steps: result.steps,
    pairs: input.startPairs.map((p) => ({ handle: xy(p.handle), target: xy(p.target) })),
    points: result.points.map(xy),
    distances: finalDistances(result).map((d) => round(d)),
    converged: result.history.at(-1)?.converged ?? false,
    bestStep: result.bestStep,
    timings: {
      setupMs: round(result.setupMs),
      totalMs: round(input.totalMs),
      stagesMs: Object.fromEntries(Object.entries(input.stagesMs).map(([k, v]) => [k, round(v)])),
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
    outputs: input.outputs,
  };
}
