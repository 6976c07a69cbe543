import { readFile } from 'node:fs/promises';
import type { DragLatent, DragPair, Mask, Point } from '@stabledrag/core';
import type { LoraWeights } from '@stabledrag/backends-diffusion';
import { usageError } from './errors.js';
import { base64ToF32, f32ToBase64 } from './float-base64.js';
import { jsonErrorMessage } from './one-line.js';
import { toJson } from './parse-values.js';
import { loraFromJson, loraToJson } from './session-lora.js';

/** Settings of a drag, as saved in a session file and reported by --json. */
export interface DragSettings {
  readonly method: 'stabledrag' | 'draggan';
  readonly discriminative: boolean;
  readonly confident: boolean;
  readonly steps: number;
  readonly lr: number;
  readonly r1: number;
  readonly r2: number;
  readonly lambda: number;
  readonly tau: number;
  readonly maskWeight: number;
  readonly stopDistance: number;
  /** Diffusion: LoRA steps the UNet was tuned with (0: none). */
  readonly loraSteps?: number;
  /** Diffusion: fraction of the trajectory inverted (sets the timestep of z_t). */
  readonly inversionStrength?: number;
}

/**
 * A saved drag: enough to carry on where it stopped. `latent` is the latent the drag ended at and
 * `pairs` hold the handles where tracking left them, so `drag --session` resumes the edit (give new
 * --points to drag something else on the edited image). `seed` and `initialPairs` record where the
 * edit began.
 */
export interface SessionFile {
  readonly format: 'stabledrag-session';
  readonly version: 1;
  /** The --model value (a name or an absolute folder). */
  readonly model: string;
  /** The backend's own name, checked on reload. */
  readonly modelName: string;
  readonly seed?: number;
  readonly truncation?: number;
  /** The --image photo the edit started from (a diffusion latent holds z_t and the source z_t). */
  readonly image?: string;
  /** Diffusion: the LoRA adapters the latent belongs to. */
  readonly lora?: LoraWeights;
  readonly latent: DragLatent;
  readonly pairs: readonly DragPair[];
  readonly initialPairs: readonly DragPair[];
  readonly mask?: Mask;
  readonly settings: DragSettings;
  readonly result?: { readonly stopReason: string; readonly steps: number };
}


const pairJson = (p: DragPair): unknown => ({ handle: [p.handle.x, p.handle.y], target: [p.target.x, p.target.y] });

/** JSON text of a session: latents as base64 little-endian float32, the mask as base64 0/1 bytes. */
export function serializeSession(s: Omit<SessionFile, 'format' | 'version'>): string {
  return `${toJson({
    format: 'stabledrag-session',
    version: 1,
    model: s.model,
    modelName: s.modelName,
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    ...(s.truncation !== undefined ? { truncation: s.truncation } : {}),
    ...(s.image !== undefined ? { image: s.image } : {}),
    latent: {
      encoding: 'base64-float32le',
      optimized: f32ToBase64(s.latent.optimized),
      frozen: f32ToBase64(s.latent.frozen),
      meta: s.latent.meta,
    },
    pairs: s.pairs.map(pairJson),
    initialPairs: s.initialPairs.map(pairJson),
    ...(s.mask ? { mask: { width: s.mask.width, height: s.mask.height, encoding: 'base64-u8', data: Buffer.from(s.mask.data).toString('base64') } } : {}),
    settings: s.settings,
    ...(s.result ? { result: s.result } : {}),
    ...(s.lora ? { lora: loraToJson(s.lora) } : {}),
  })}\n`;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw usageError(`${where} must be a JSON object.`);
  return v as Record<string, unknown>;
}

function point(v: unknown, where: string): Point {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw usageError(`${where} must be [x, y].`);
  }
  return { x: v[0] as number, y: v[1] as number };
}

function pairs(v: unknown, where: string): DragPair[] {
  if (!Array.isArray(v)) throw usageError(`${where} must be a list of pairs.`);
  return v.map((p, i) => {
    const o = obj(p, `${where}[${i}]`);
    return { handle: point(o.handle, `${where}[${i}].handle`), target: point(o.target, `${where}[${i}].target`) };
  });
}

const METHODS = ['stabledrag', 'draggan'];

/** Parses a session file's JSON, with messages that name the file and field. */
export function parseSession(raw: unknown, where: string): SessionFile {
  const o = obj(raw, where);
  if (o.format !== 'stabledrag-session' || o.version !== 1) {
    throw usageError(`${where} is not a stabledrag session file (expected "format": "stabledrag-session", "version": 1).`);
  }
  if (typeof o.model !== 'string' || typeof o.modelName !== 'string') throw usageError(`${where}: "model" and "modelName" must be strings.`);
  const l = obj(o.latent, `${where}: latent`);
  if (l.encoding !== 'base64-float32le' || typeof l.optimized !== 'string' || typeof l.frozen !== 'string') {
    throw usageError(`${where}: latent must hold base64-float32le "optimized" and "frozen".`);
  }
  const latent: DragLatent = {
    optimized: base64ToF32(l.optimized, `${where}: latent.optimized`),
    frozen: base64ToF32(l.frozen, `${where}: latent.frozen`),
    meta: l.meta === undefined ? {} : obj(l.meta, `${where}: latent.meta`),
  };
  let mask: Mask | undefined;
  if (o.mask !== undefined) {
    const m = obj(o.mask, `${where}: mask`);
    const { width, height } = m;
    if (typeof width !== 'number' || typeof height !== 'number' || m.encoding !== 'base64-u8' || typeof m.data !== 'string') {
      throw usageError(`${where}: mask must be { width, height, encoding: "base64-u8", data }.`);
    }
    const data = new Uint8Array(Buffer.from(m.data, 'base64'));
    if (data.length !== width * height) throw usageError(`${where}: mask data holds ${data.length} values for a ${width}×${height} mask.`);
    mask = { width, height, data };
  }
  const s = obj(o.settings, `${where}: settings`);
  const num = (k: string): number => {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw usageError(`${where}: settings.${k} must be a number.`);
    return v;
  };
  if (typeof s.method !== 'string' || !METHODS.includes(s.method)) throw usageError(`${where}: settings.method must be one of ${METHODS.join(', ')}.`);
  const settings: DragSettings = {
    method: s.method as DragSettings['method'],
    discriminative: s.discriminative !== false,
    confident: s.confident !== false,
    steps: num('steps'),
    lr: num('lr'),
    r1: num('r1'),
    r2: num('r2'),
    lambda: num('lambda'),
    tau: num('tau'),
    maskWeight: num('maskWeight'),
    stopDistance: num('stopDistance'),
    ...(typeof s.loraSteps === 'number' ? { loraSteps: s.loraSteps } : {}),
    ...(typeof s.inversionStrength === 'number' ? { inversionStrength: s.inversionStrength } : {}),
  };
  const optionalNumber = (k: 'seed' | 'truncation'): number | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'number') throw usageError(`${where}: "${k}" must be a number.`);
    return o[k];
  };
  const seed = optionalNumber('seed');
  const truncation = optionalNumber('truncation');
  const result = o.result === undefined ? undefined : obj(o.result, `${where}: result`);
  if (o.image !== undefined && typeof o.image !== 'string') throw usageError(`${where}: "image" must be a string.`);
  const lora = o.lora === undefined ? undefined : loraFromJson(o.lora, `${where}: lora`);
  return {
    format: 'stabledrag-session',
    version: 1,
    model: o.model,
    modelName: o.modelName,
    ...(seed !== undefined ? { seed } : {}),
    ...(truncation !== undefined ? { truncation } : {}),
    ...(typeof o.image === 'string' ? { image: o.image } : {}),
    ...(lora ? { lora } : {}),
    latent,
    pairs: pairs(o.pairs, `${where}: pairs`),
    initialPairs: o.initialPairs === undefined ? [] : pairs(o.initialPairs, `${where}: initialPairs`),
    ...(mask ? { mask } : {}),
    settings,
    ...(result ? { result: { stopReason: String(result.stopReason), steps: Number(result.steps) } } : {}),
  };
}

export async function readSession(path: string): Promise<SessionFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw usageError(`Cannot read the session file ${path}: ${(error as Error).message}`, error);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw usageError(`The session file ${path} is not valid JSON: ${jsonErrorMessage(error, text)}`, error);
  }
  return parseSession(raw, path);
}
