import type { BackendInfo, DragLatent, Point, RgbaImage } from '@stabledrag/core';
import { MaskState, PointState } from './edit-state.js';
import type { PageState } from './page-state.js';
import type { BackendChoice, DiffusionDefaults } from './protocol.js';

/** What the tests read (`window.__stabledrag`): status, points, timings, stages. */
export const state: PageState = {
  status: 'loading', step: 0, maxSteps: 0, points: [], targets: [], confidences: [], distances: [], stopReason: null,
  backendName: null, mode: null, provider: null, threads: 1, imageSize: 0, method: null, loadMs: null, setupMs: null, msPerStep: [], stepTimings: [],
  warmUp: null, error: null, stage: null, stagesMs: {}, photo: null, renderMs: null,
};
window.__stabledrag = state;

/** The page's working data, shared by the panels. */
export const ctx = {
  points: new PointState(),
  mask: null as MaskState | null,
  info: null as BackendInfo | null,
  /** The loaded model kind. */
  mode: 'gan' as BackendChoice,
  /** Diffusion model defaults (null for the GAN). */
  diffusion: null as DiffusionDefaults | null,
  seed: 0,
  /** The latent the current image started from ("Reset image" goes back to it). */
  originalLatent: null as DragLatent | null,
  latent: null as DragLatent | null,
  image: null as RgbaImage | null,
  /** Diffusion: the photo as fitted to the model (shown until a drag renders). */
  photo: null as { image: RgbaImage; name: string } | null,
  /** Tracked handle positions while a drag runs (null otherwise). */
  live: null as Point[] | null,
  lastLoss: 0,
};

export const params = new URLSearchParams(location.search);

/** A fresh mask for an image size. */
export function resetMask(width: number, height: number): void {
  ctx.mask = new MaskState(width, height);
}
