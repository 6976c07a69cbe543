import type { BackendInfo, DragLatent, DragPair, DragStepTimings, DragStopReason, Mask, Point, RgbaImage, SupervisionBranch } from '@stabledrag/core';
import type { DragSettings } from './settings.js';

/** Which generator the worker holds: the embedded GAN, or core's pure-TS blob renderer. */
export type BackendChoice = 'gan' | 'blobs';
/** 'auto' = WebGPU where the browser has an adapter, WASM otherwise. */
export type ProviderChoice = 'auto' | 'wasm' | 'webgpu';

/** Page → worker. */
export type WorkerRequest =
  | {
      readonly type: 'load';
      readonly backend: BackendChoice;
      readonly provider: ProviderChoice;
      /** Absolute URL of the model folder, ending in '/'. */
      readonly modelUrl: string;
      /** Absolute URLs of onnxruntime-web's .wasm files: CPU-only build and JSEP (WebGPU) build. */
      readonly ortWasmUrls: { readonly wasm: string; readonly jsep: string };
      /** WASM threads; 0 = automatic (cores − 1, at most 4, when the page is cross-origin isolated; else 1). */
      readonly threads: number;
    }
  | { readonly type: 'sample'; readonly seed: number }
  | { readonly type: 'render'; readonly latent: DragLatent }
  | {
      readonly type: 'start';
      readonly latent: DragLatent;
      readonly pairs: readonly DragPair[];
      readonly mask: Mask | null;
      readonly settings: DragSettings;
      /**
       * Stop once every handle is this close to its target (px); absent = the session's default.
       * The speed benchmark sets 0 so a drag runs exactly `maxSteps` steps.
       */
      readonly stopDistance?: number;
    }
  | { readonly type: 'stop' };

/** Worker → page. */
export type WorkerResponse =
  | {
      readonly type: 'loaded';
      readonly info: BackendInfo;
      /** What actually runs: 'wasm', 'webgpu' or 'js' (the blob renderer). */
      readonly provider: string;
      /** Why the wanted provider was not used, when it fell back. */
      readonly note?: string;
      readonly loadMs: number;
      readonly threads: number;
    }
  | { readonly type: 'sampled'; readonly seed: number; readonly latent: DragLatent; readonly image: RgbaImage }
  | { readonly type: 'rendered'; readonly image: RgbaImage }
  | { readonly type: 'started'; readonly method: string }
  /** One idle warm-up pass (forward + backward) finished: `runs` of `of`, `ms` in all, `lastMs` for this one. */
  | { readonly type: 'warm-up'; readonly runs: number; readonly of: number; readonly ms: number; readonly lastMs: number }
  | {
      readonly type: 'step';
      readonly step: number;
      readonly maxSteps: number;
      readonly points: readonly Point[];
      readonly confidences: readonly number[];
      readonly distances: readonly number[];
      readonly branches: readonly SupervisionBranch[];
      readonly loss: number;
      readonly ms: number;
      /** Where the step's time went (forward, track, supervise, backward, optimizer), ms. */
      readonly timings: DragStepTimings;
      readonly image?: RgbaImage;
    }
  | {
      readonly type: 'done';
      readonly stopReason: DragStopReason;
      readonly steps: number;
      readonly latent: DragLatent;
      readonly points: readonly Point[];
      readonly setupMs: number;
      readonly image: RgbaImage;
    }
  | { readonly type: 'error'; readonly stage: 'load' | 'sample' | 'render' | 'drag'; readonly message: string };
