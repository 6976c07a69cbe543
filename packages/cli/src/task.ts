import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DragPair, Point } from '@stabledrag/core';
import { usageError } from './errors.js';
import { jsonErrorMessage } from './one-line.js';

/**
 * A drag task, as `stabledrag drag --task` and the benchmark read it:
 *
 * ```json
 * { "name": "smile", "model": "default", "seed": 4, "truncation": 0.7,
 *   "pairs": [{ "handle": [52, 80], "target": [48, 86] }],
 *   "mask": "smile-mask.png", "steps": 200 }
 * ```
 *
 * Points are image pixels [x, y] (x right, y down, pixel centres on integers). `mask` is a path
 * relative to the task file. `model` is a model name (`default`, `tiny`, `reference`) or a folder,
 * relative to the task file.
 */
export interface DragTask {
  readonly name?: string;
  /** As written in the file; see {@link resolveTaskModel}. */
  readonly model?: string;
  readonly seed: number;
  readonly truncation?: number;
  readonly pairs: readonly DragPair[];
  /** Absolute path, resolved against the task file's folder. */
  readonly mask?: string;
  readonly steps?: number;
}

const KEYS = new Set(['name', 'model', 'seed', 'truncation', 'pairs', 'mask', 'steps', '$schema', 'description']);

function point(value: unknown, where: string): Point {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw usageError(`${where} must be a pair of numbers [x, y], got ${JSON.stringify(value)}.`);
  }
  return { x: value[0] as number, y: value[1] as number };
}

/**
 * Checks a parsed task object. `where` names the file in messages; `baseDir` resolves `mask`.
 * Unknown keys are refused so a typo ("pair", "seeds") does not silently fall back to a default.
 */
export function parseTask(raw: unknown, where: string, baseDir: string): DragTask {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw usageError(`${where} must hold a JSON object.`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k)) throw usageError(`${where}: unknown field "${k}" (a task has name, model, seed, truncation, pairs, mask, steps).`);
  }
  if (typeof o.seed !== 'number' || !Number.isInteger(o.seed) || o.seed < 0) {
    throw usageError(`${where}: "seed" must be a non-negative whole number, got ${JSON.stringify(o.seed)}.`);
  }
  if (!Array.isArray(o.pairs) || o.pairs.length === 0) {
    throw usageError(`${where}: "pairs" must be a non-empty list of { "handle": [x, y], "target": [x, y] }.`);
  }
  const pairs = o.pairs.map((p: unknown, i): DragPair => {
    const at = `${where}: pairs[${i}]`;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw usageError(`${at} must be { "handle": [x, y], "target": [x, y] }.`);
    const pair = p as Record<string, unknown>;
    return { handle: point(pair.handle, `${at}.handle`), target: point(pair.target, `${at}.target`) };
  });
  if (o.truncation !== undefined && (typeof o.truncation !== 'number' || !(o.truncation > 0 && o.truncation <= 1))) {
    throw usageError(`${where}: "truncation" must be a number in (0, 1], got ${JSON.stringify(o.truncation)}.`);
  }
  if (o.steps !== undefined && (typeof o.steps !== 'number' || !Number.isInteger(o.steps) || o.steps < 1)) {
    throw usageError(`${where}: "steps" must be a positive whole number, got ${JSON.stringify(o.steps)}.`);
  }
  for (const k of ['name', 'model', 'mask'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) {
      throw usageError(`${where}: "${k}" must be a non-empty string, got ${JSON.stringify(o[k])}.`);
    }
  }
  return {
    seed: o.seed,
    pairs,
    ...(o.name !== undefined ? { name: o.name as string } : {}),
    ...(o.model !== undefined ? { model: o.model as string } : {}),
    ...(o.truncation !== undefined ? { truncation: o.truncation as number } : {}),
    ...(o.steps !== undefined ? { steps: o.steps as number } : {}),
    ...(o.mask !== undefined ? { mask: resolve(baseDir, o.mask as string) } : {}),
  };
}

/** Reads and parses a task file. */
export async function readTask(path: string): Promise<DragTask> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw usageError(`Cannot read the task file ${path}: ${(error as Error).message}`, error);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw usageError(`The task file ${path} is not valid JSON: ${jsonErrorMessage(error, text)}`, error);
  }
  return parseTask(raw, path, dirname(path));
}

/** Model names that are not folders. Anything else is a folder path. */
export const MODEL_NAMES = ['default', 'tiny', 'reference', 'diffusion', 'diffusion-tiny'] as const;

/** A task's `model`: names stay names, anything else is a folder relative to the task file. */
export function resolveTaskModel(model: string, taskDir: string): string {
  return (MODEL_NAMES as readonly string[]).includes(model) ? model : resolve(taskDir, model);
}
