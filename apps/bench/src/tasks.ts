import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DragPair, Mask } from '@stabledrag/core';
import { readMaskPng } from './image.js';

/** A task of the benchmark: the CLI's task file (`stabledrag drag --task`), read and checked. */
export interface BenchTask {
  /** File name without `.json`. */
  readonly id: string;
  readonly name: string;
  readonly seed: number;
  readonly truncation?: number;
  readonly pairs: readonly DragPair[];
  readonly mask?: Mask;
  /** Free-form tags from the name, e.g. the part dragged ("mouth-corner", "chin"). */
  readonly part: string;
}

interface CliTask {
  readonly name?: string;
  readonly seed: number;
  readonly truncation?: number;
  readonly pairs: readonly DragPair[];
  readonly mask?: string;
}

/** Reads every `*.json` of `dir` (sorted) with the CLI's own parser, so both accept the same files. */
export async function loadTasks(dir: string): Promise<BenchTask[]> {
  const cli = (await import('@stabledrag/cli')) as unknown as { readTask(path: string): Promise<CliTask> };
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const tasks: BenchTask[] = [];
  for (const file of files) {
    const t = await cli.readTask(join(dir, file));
    const id = basename(file, '.json');
    const name = t.name ?? id;
    tasks.push({
      id,
      name,
      seed: t.seed,
      pairs: t.pairs,
      part: name.split('/')[0] ?? name,
      ...(t.truncation !== undefined ? { truncation: t.truncation } : {}),
      ...(t.mask !== undefined ? { mask: readMaskPng(t.mask) } : {}),
    });
  }
  return tasks;
}

/** Drag length of a pair, pixels. */
export function pairLength(p: DragPair): number {
  return Math.hypot(p.target.x - p.handle.x, p.target.y - p.handle.y);
}
