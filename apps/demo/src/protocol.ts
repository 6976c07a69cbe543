import type { BackendInfo, DragLatent, DragPair, DragStepTimings, DragStopReason, Mask, Point, RgbaImage, SupervisionBranch } from '@stabledrag/core';
import type { DragSettings } from './settings.js';

/**
 * Which generator the worker holds: the embedded GAN, the embedded latent diffusion model
 * (drags photos, DragDiffusion / StableDrag-Diff), or core's pure-TS blob renderer.
 */
export type BackendChoice = 'gan' | 'diffusion' | 'blobs';
/** 'auto' = WebGPU where the browser has an adapter, WASM otherwise. */
export type ProviderChoice = 'auto' | 'wasm' | 'webgpu';

/** The long stages the page names in its progress line. */
export type StageName = 'load' | 'lora' | 'encode' | 'invert' | 'sample' | 'drag' | 'denoise' | 'decode';

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
  /**
   * Diffusion: make the editable latent of a photo (already fitted to the model's size): LoRA on it
   * when `loraSteps` > 0, VAE encode, DDIM inversion. Both are cached by the image's content.
   */
  | { readonly type: 'photo'; readonly image: RgbaImage; readonly loraSteps: number }
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
      /** Diffusion: the model's drag defaults (image-pixel radii, steps per method, LoRA steps). */
      readonly diffusion?: DiffusionDefaults;
    }
  | { readonly type: 'sampled'; readonly seed: number; readonly latent: DragLatent; readonly image: RgbaImage }
  /** A long stage advanced: `step` of `total`, `elapsedMs` since the stage began. */
  | { readonly type: 'stage'; readonly stage: StageName; readonly step: number; readonly total: number; readonly elapsedMs: number }
  | {
      readonly type: 'photo-ready';
      readonly latent: DragLatent;
      /** Whether LoRA and inversion came from the cache (a further drag on the same photo). */
      readonly cached: boolean;
      /** Wall time per stage of this request, ms. */
      readonly stagesMs: Readonly<Partial<Record<StageName, number>>>;
    }
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
      /** Absent when Stop came during the final render (diffusion: the denoise); the page keeps its image. */
      readonly image?: RgbaImage;
      /** Wall time of the final render (diffusion: denoise + decode), ms. */
      readonly renderMs: number;
    }
  | {
      readonly type: 'error';
      readonly stage: 'load' | 'sample' | 'photo' | 'render' | 'drag';
      readonly message: string;
      /** True when the person pressed Stop (not a failure). */
      readonly aborted?: boolean;
    };

/** What the page needs of a diffusion model's defaults (model.json and the backend's dragDefaults). */
export interface DiffusionDefaults {
  readonly learningRate: number;
  readonly r1: number;
  readonly r2: number;
  readonly steps: { readonly stabledrag: number; readonly dragdiffusion: number };
  readonly loraSteps: number;
}
