import type { DragStepTimings, DragStopReason, Point } from '@stabledrag/core';

export type Status = 'loading' | 'ready' | 'sampling' | 'running' | 'stopping' | 'done' | 'error';

/** What tests (and curious people in the console) can read: `window.__stabledrag`. */
export interface PageState {
  status: Status;
  step: number;
  maxSteps: number;
  points: Point[];
  targets: Point[];
  confidences: number[];
  distances: number[];
  stopReason: DragStopReason | null;
  backendName: string | null;
  provider: string | null;
  threads: number;
  imageSize: number;
  method: string | null;
  loadMs: number | null;
  setupMs: number | null;
  msPerStep: number[];
  /** Per-step time split (ms): forward, track, supervise, backward, optimizer, total. */
  stepTimings: DragStepTimings[];
  /** The worker's idle warm-up after a model load (see worker.ts). */
  warmUp: { runs: number; of: number; ms: number; lastMs: number } | null;
  error: string | null;
}

declare global {
  interface Window {
    __stabledrag: PageState;
  }
}
