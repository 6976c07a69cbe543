import type { DragLatent, DragPair } from '@stabledrag/core';
import { validateSettings, type DragSettings } from './settings.js';

export const SESSION_FORMAT = 'stabledrag-demo-session';
export const SESSION_VERSION = 1;

/** What a saved session holds: enough to reopen the edit exactly where it was. */
export interface DemoSession {
  /** Model the latent belongs to (`BackendInfo.name`), checked on load. */
  readonly model: string;
  readonly resolution: number;
  readonly seed: number;
  /** The latent of the seed, before any drag ("reset image" goes back to it). */
  readonly originalLatent: DragLatent;
  /** The latent after the drags so far. */
  readonly latent: DragLatent;
  readonly pairs: readonly DragPair[];
  /** Editable-region mask (1 = editable), or null when none is painted. */
  readonly mask: Uint8Array | null;
  readonly settings: DragSettings;
}

/** Bytes → base64 without btoa's string-size limits on large arrays. */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Float32 values as little-endian bytes in base64 (exact; JSON numbers would round-trip too but 10× larger). */
function floatsToBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(4 * i, a[i]!, true);
  return bytesToBase64(bytes);
}

function base64ToFloats(b64: string, what: string): Float32Array {
  const bytes = base64ToBytes(b64);
  if (bytes.length % 4 !== 0) throw new Error(`${what} is not a whole number of float32 values.`);
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

function latentToJson(l: DragLatent): unknown {
  return { optimized: floatsToBase64(l.optimized), frozen: floatsToBase64(l.frozen), meta: l.meta };
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function latentFromJson(v: unknown, what: string): DragLatent {
  if (!isObject(v) || typeof v.optimized !== 'string' || typeof v.frozen !== 'string') {
    throw new Error(`${what} must hold base64 'optimized' and 'frozen' arrays.`);
  }
  return {
    optimized: base64ToFloats(v.optimized, `${what}.optimized`),
    frozen: base64ToFloats(v.frozen, `${what}.frozen`),
    meta: isObject(v.meta) ? v.meta : {},
  };
}

function pointFromJson(v: unknown, what: string): { x: number; y: number } {
  if (!isObject(v) || typeof v.x !== 'number' || typeof v.y !== 'number' || !Number.isFinite(v.x) || !Number.isFinite(v.y)) {
    throw new Error(`${what} must be { "x": number, "y": number }.`);
  }
  return { x: v.x, y: v.y };
}

/** The session as pretty JSON text, ready for a download. */
export function serializeSession(s: DemoSession): string {
  return JSON.stringify(
    {
      format: SESSION_FORMAT,
      version: SESSION_VERSION,
      model: s.model,
      resolution: s.resolution,
      seed: s.seed,
      settings: s.settings,
      pairs: s.pairs,
      mask: s.mask ? bytesToBase64(s.mask) : null,
      originalLatent: latentToJson(s.originalLatent),
      latent: latentToJson(s.latent),
    },
    null,
    2,
  );
}

/** Parses a session file; throws an Error whose message says what is wrong with the file. */
export function parseSession(text: string): DemoSession {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`This is not a session file (not JSON: ${(error as Error).message}).`);
  }
  if (!isObject(raw) || raw.format !== SESSION_FORMAT) throw new Error(`This is not a StableDrag demo session file (no "format": "${SESSION_FORMAT}").`);
  if (raw.version !== SESSION_VERSION) throw new Error(`Session file version ${String(raw.version)} is not supported; this demo reads version ${SESSION_VERSION}.`);
  if (typeof raw.model !== 'string') throw new Error('The session file names no model.');
  if (typeof raw.resolution !== 'number' || !Number.isInteger(raw.resolution) || raw.resolution < 1) throw new Error('The session file has no valid resolution.');
  if (typeof raw.seed !== 'number' || !Number.isInteger(raw.seed)) throw new Error('The session file has no valid seed.');
  if (!Array.isArray(raw.pairs)) throw new Error('The session file has no "pairs" list.');
  const pairs = raw.pairs.map((p: unknown, i: number) => {
    if (!isObject(p)) throw new Error(`Pair ${i + 1} must be { handle, target }.`);
    return { handle: pointFromJson(p.handle, `Pair ${i + 1} handle`), target: pointFromJson(p.target, `Pair ${i + 1} target`) };
  });
  let mask: Uint8Array | null = null;
  if (typeof raw.mask === 'string') {
    mask = base64ToBytes(raw.mask);
    if (mask.length !== raw.resolution * raw.resolution) throw new Error(`The mask has ${mask.length} pixels; a ${raw.resolution}² image has ${raw.resolution ** 2}.`);
  } else if (raw.mask !== null && raw.mask !== undefined) {
    throw new Error('The session file\'s mask must be base64 text or null.');
  }
  if (!isObject(raw.settings)) throw new Error('The session file has no settings.');
  const r = raw.settings;
  const settings = {
    method: r.method, maxSteps: r.maxSteps, learningRate: r.learningRate, r1: r.r1, r2: r.r2,
    maskWeight: r.maskWeight, lambda: r.lambda, tau: r.tau,
  } as DragSettings;
  const problems = validateSettings(settings);
  if (problems.length > 0) throw new Error(`The session file's settings are invalid: ${problems.join(' ')}`);
  return {
    model: raw.model,
    resolution: raw.resolution,
    seed: raw.seed,
    settings,
    pairs,
    mask,
    originalLatent: latentFromJson(raw.originalLatent, 'originalLatent'),
    latent: latentFromJson(raw.latent, 'latent'),
  };
}
