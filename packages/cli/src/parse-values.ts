import type { DragPair, Point } from '@stabledrag/core';
import { usageError } from './errors.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number from an option value; `what` names the option in the message. */
export function parseNumber(text: string, what: string): number {
  const t = text.trim();
  if (!NUMBER.test(t)) throw usageError(`${what} must be a number, got "${text}".`);
  return Number(t);
}

export interface NumberRule {
  readonly integer?: boolean;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
}

/** {@link parseNumber} plus range and integer checks, each with a message naming the option. */
export function parseBounded(text: string, what: string, rule: NumberRule): number {
  const v = parseNumber(text, what);
  if (rule.integer && !Number.isInteger(v)) throw usageError(`${what} must be a whole number, got ${text}.`);
  if (rule.min !== undefined && v < rule.min) throw usageError(`${what} must be at least ${rule.min}, got ${text}.`);
  if (rule.above !== undefined && !(v > rule.above)) throw usageError(`${what} must be greater than ${rule.above}, got ${text}.`);
  if (rule.max !== undefined && v > rule.max) throw usageError(`${what} must be at most ${rule.max}, got ${text}.`);
  return v;
}

function parsePoint(text: string, what: string, whole: string): Point {
  const parts = text.split(',');
  if (parts.length !== 2) {
    throw usageError(`--points "${whole}": the ${what} "${text}" must be two numbers "x,y".`);
  }
  const [x, y] = parts.map((p) => parseNumber(p, `--points "${whole}": the ${what}'s coordinate`)) as [number, number];
  return { x, y };
}

/**
 * Parses one --points value "hx,hy:tx,ty" (image pixels, x right, y down). Several pairs may share
 * one value when separated by ";" or spaces, so a shell variable can hold a whole drag.
 */
export function parsePoints(text: string): DragPair[] {
  const chunks = text.split(/[;\s]+/).filter((c) => c.length > 0);
  if (chunks.length === 0) throw usageError('--points needs a value like "40,52:60,52" (handle x,y : target x,y).');
  return chunks.map((chunk) => {
    const halves = chunk.split(':');
    if (halves.length !== 2) {
      throw usageError(`--points "${chunk}" must look like "hx,hy:tx,ty", e.g. "40,52:60,52" (handle x,y : target x,y).`);
    }
    return { handle: parsePoint(halves[0]!, 'handle', chunk), target: parsePoint(halves[1]!, 'target', chunk) };
  });
}

/** Parses "0-15", "3", "1,4,9-11" into a list of distinct non-negative integer seeds, in order. */
export function parseSeeds(text: string, limit = 10_000): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  const add = (s: number): void => {
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  };
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw usageError(`--seeds "${part}": a range goes from low to high, e.g. "0-15".`);
      if (b - a + 1 + out.length > limit) throw usageError(`--seeds "${text}" asks for more than ${limit} images.`);
      for (let s = a; s <= b; s++) add(s);
    } else if (/^\d+$/.test(part)) {
      add(Number(part));
    } else {
      throw usageError(`--seeds "${text}": use non-negative whole numbers and ranges, e.g. "0-15" or "1,4,9-11".`);
    }
  }
  if (out.length > limit) throw usageError(`--seeds "${text}" asks for more than ${limit} images.`);
  return out;
}

export function formatPoint(p: Point): string {
  const r = (v: number): string => String(Math.round(v * 10) / 10);
  return `${r(p.x)},${r(p.y)}`;
}

/** JSON.stringify with 2-space indent, but short number arrays ([x, y], timings) kept on one line. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s+(-?[\d.eE+-]+(?:,\s+-?[\d.eE+-]+)*)\s+\]/g, (_, body: string) => `[${body.split(/,\s+/).join(', ')}]`);
}
