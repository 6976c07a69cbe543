import type { DragStepTimings, DragStopReason, Point } from '@stabledrag/core';
import type { BackendChoice, StageName } from './protocol.js';

export type Status = 'loading' | 'ready' | 'sampling' | 'preparing' | 'running' | 'stopping' | 'done' | 'error';

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
  /** The model kind loaded: 'gan', 'diffusion' or 'blobs'. */
  mode: BackendChoice | null;
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
  /** The long stage running now (LoRA, inversion, denoise…), null when none. */
  stage: { name: StageName; step: number; total: number; elapsedMs: number } | null;
  /** Wall time per stage since the photo was chosen or the drag started (ms). */
  stagesMs: Partial<Record<StageName, number>>;
  /** Diffusion: the photo being edited and whether its LoRA/inversion came from the cache. */
  photo: { name: string; loraSteps: number; cached: boolean | null } | null;
  /** Wall time of the last final render (diffusion: denoise + decode), ms. */
  renderMs: number | null;
}

declare global {
  interface Window {
    __stabledrag: PageState;
  }
}
