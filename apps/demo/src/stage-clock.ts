import type { StageName } from './protocol.js';

/** One stage's progress as the worker reports it. */
export interface StageTick {
  readonly stage: StageName;
  readonly step: number;
  readonly total: number;
  readonly elapsedMs: number;
}

/**
 * Times the stages of a long request (LoRA, encode, inversion, denoise…). Stages run one after
 * another and report after each step, so a stage began when the previous tick (or `start()`)
 * happened. Each tick carries the time since its stage began, from which the page estimates the
 * time left; `stagesMs` keeps the wall time per stage for the benchmark.
 */
export class StageClock {
  readonly stagesMs: Partial<Record<StageName, number>> = {};
  private stage: StageName | null = null;
  private stageStart = 0;
  private lastTick: number;

  constructor(
    private readonly emit: (tick: StageTick) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastTick = now();
  }

  /** Restarts the clock before a stage whose first step is about to run. */
  start(): void {
    this.stage = null;
    this.lastTick = this.now();
  }

  tick(stage: StageName, step: number, total: number): void {
    const t = this.now();
    if (this.stage !== stage) {
      this.stage = stage;
      this.stageStart = this.lastTick;
    }
    this.lastTick = t;
    const elapsedMs = t - this.stageStart;
    this.stagesMs[stage] = elapsedMs;
    this.emit({ stage, step, total, elapsedMs });
  }
}

/** Time left in a stage from its rate so far; null before the first step. */
export function timeLeftMs(tick: Pick<StageTick, 'step' | 'total' | 'elapsedMs'>): number | null {
  if (tick.step <= 0) return null;
  return (tick.elapsedMs / tick.step) * Math.max(0, tick.total - tick.step);
}
