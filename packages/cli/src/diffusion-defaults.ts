import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The drag and LoRA defaults a diffusion folder's model.json carries (`defaults`, the format of
 * tools/diffusion/README.md), with DragDiffusion's values for what it leaves out. The backend
 * reads the rest (radii, lr, inversion strength); these are the ones only the CLI uses.
 */
export interface DiffusionDefaults {
  /** Drag steps of the DragDiffusion baseline (DragDiffusion: 80). */
  readonly dragSteps: number;
  /** Drag steps of StableDrag-Diff (the paper: 60). */
  readonly stabledragDragSteps: number;
  readonly lora: { readonly steps: number; readonly rank?: number; readonly batch?: number; readonly learningRate?: number; readonly weightDecay?: number };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
const pos = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

/** Picks the defaults out of a parsed model.json (anything missing or malformed → DragDiffusion's value). */
export function parseDiffusionDefaults(modelJson: unknown): DiffusionDefaults {
  const d = obj(obj(modelJson).defaults);
  const lora = obj(d.lora);
  const dragSteps = int(d.dragSteps) ?? 80;
  const rank = int(lora.rank);
  const batch = int(lora.batch);
  const learningRate = pos(lora.lr);
  const weightDecay = typeof lora.weightDecay === 'number' && lora.weightDecay >= 0 ? lora.weightDecay : undefined;
  return {
    dragSteps,
    stabledragDragSteps: int(obj(d.stabledrag).dragSteps) ?? 60,
    lora: {
      steps: int(lora.steps) ?? 80,
      ...(rank ? { rank } : {}),
      ...(batch ? { batch } : {}),
      ...(learningRate !== undefined ? { learningRate } : {}),
      ...(weightDecay !== undefined ? { weightDecay } : {}),
    },
  };
}

/** Reads a folder's model.json, if it has a readable one. */
export async function readModelJson(dir: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
