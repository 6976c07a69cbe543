import { applyLora, DiffusionBackend, imageKey, readDiffusionModelFiles, trainLora } from '@stabledrag/backends-diffusion';
import type { DiffusionModelFiles, LoraWeights, OrtRuntime } from '@stabledrag/backends-diffusion';
import type { DragLatent, RgbaImage } from '@stabledrag/core';
import { StableDragError } from '@stabledrag/core';
import { importOrt, providersOf } from './ort-loader.js';
import type { OrtBuild, OrtUrls } from './ort-loader.js';
import type { DiffusionDefaults } from './protocol.js';
import type { StageClock } from './stage-clock.js';

/** LoRA results kept per photo (each is ~1 MB of adapters). */
const LORA_CACHE_SIZE = 4;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const count = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback);

/** Steps per method and LoRA steps from model.json's `defaults`, DragDiffusion's values where absent. */
export function diffusionDefaultsOf(modelJson: unknown, backend: Pick<DiffusionBackend, 'dragDefaults'>): DiffusionDefaults {
  const d = obj(obj(modelJson).defaults);
  const { imageRadii, learningRate } = backend.dragDefaults;
  return {
    learningRate,
    r1: Math.max(1, Math.round(imageRadii.motion)),
    r2: Math.max(1, Math.round(imageRadii.tracking)),
    steps: { dragdiffusion: count(d.dragSteps, 80), stabledrag: count(obj(d.stabledrag).dragSteps, 60) },
    loraSteps: count(obj(d.lora).steps, 80),
  };
}

/**
 * The worker's diffusion model: the folder's files (read once), the backend in use and the LoRA
 * adapters trained so far. A photo with LoRA gets a backend built on the adapted UNet; its
 * inversion is then cached inside that backend (by image content), so a further drag on the same
 * photo repeats neither LoRA nor inversion.
 */
export class DiffusionHolder {
  private loraKey = '';
  private readonly loras = new Map<string, LoraWeights>();

  private constructor(
    private readonly runtime: OrtRuntime,
    private readonly files: DiffusionModelFiles,
    private readonly build: OrtBuild,
    public backend: DiffusionBackend,
    readonly defaults: DiffusionDefaults,
  ) {}

  static async load(options: { modelUrl: string; build: OrtBuild; urls: OrtUrls; threads: number }): Promise<DiffusionHolder> {
    const base = new URL(options.modelUrl);
    const read = async (path: string): Promise<Uint8Array> => {
      const url = new URL(path, base);
      const res = await fetch(url);
      if (!res.ok) throw new StableDragError('MODEL_ERROR', `HTTP ${res.status} for ${url.href}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    const where = base.href.replace(/\/$/, '');
    const [files, modelJson] = await Promise.all([
      readDiffusionModelFiles(read, where, where.slice(where.lastIndexOf('/') + 1)),
      read('model.json').then((b) => JSON.parse(new TextDecoder().decode(b)) as unknown).catch(() => undefined),
    ]);
    const runtime = (await importOrt(options.build, options.urls, options.threads)) as unknown as OrtRuntime;
    const backend = await DiffusionBackend.create({ runtime, files, sessionOptions: { executionProviders: providersOf(options.build) } });
    return new DiffusionHolder(runtime, files, options.build, backend, diffusionDefaultsOf(modelJson, backend));
  }

  /** The editable z_t of a photo (fitted to the model's size by the page), with LoRA first when asked. */
  async photo(image: RgbaImage, loraSteps: number, clock: StageClock, signal: AbortSignal): Promise<{ latent: DragLatent; cached: boolean }> {
    const key = loraSteps > 0 ? `${imageKey(image)}:${loraSteps}` : '';
    let computed = false;
    if (key !== this.loraKey) {
      let weights = key ? this.loras.get(key) : undefined;
      if (key && !weights) {
        computed = true;
        weights = await trainLora({ runtime: this.runtime, files: this.files, sessionOptions: this.sessionOptions() }, image, {
          steps: loraSteps, signal, onProgress: (p) => clock.tick('lora', p.step, p.total),
        });
        this.remember(key, weights);
      }
      await this.switchTo(key, weights);
      // Rebuilding the drag graphs on the adapted UNet takes seconds: its own stage, not the encode's.
      clock.tick('load', 1, 1);
    }
    // A photo inverted before on this backend comes from its cache, without progress ticks.
    const latent = await this.backend.createLatent({ type: 'image', image }, {
      signal,
      onProgress: (p) => {
        computed = true;
        clock.tick(p.stage, p.step, p.total);
      },
    });
    return { latent, cached: !computed };
  }

  private sessionOptions(): { executionProviders: string[] } {
    return { executionProviders: providersOf(this.build) };
  }

  private remember(key: string, weights: LoraWeights): void {
    this.loras.set(key, weights);
    if (this.loras.size > LORA_CACHE_SIZE) this.loras.delete(this.loras.keys().next().value!);
  }

  /** Rebuilds the backend on the base UNet (key '') or on the UNet with these adapters. */
  private async switchTo(key: string, weights: LoraWeights | undefined): Promise<void> {
    if (key === this.loraKey) return;
    const files = weights ? applyLora(this.files, weights) : this.files;
    const next = await DiffusionBackend.create({ runtime: this.runtime, files, sessionOptions: this.sessionOptions() });
    await this.backend.dispose();
    this.backend = next;
    this.loraKey = key;
  }

  async dispose(): Promise<void> {
    await this.backend.dispose();
  }
}
