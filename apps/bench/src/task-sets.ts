import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The renderer a model was trained on, from model.json's z_distribution ("… see
 * tools/dataset/faces2.py PARAM_NAMES", written by tools/export/export.py), or null when it names
 * none (imported or tiny models).
 */
export function modelRenderer(modelDir: string): string | null {
  const file = join(modelDir, 'model.json');
  if (!existsSync(file)) return null;
  const m = JSON.parse(readFileSync(file, 'utf8')) as { z_distribution?: unknown };
  const found = typeof m.z_distribution === 'string' ? /tools\/dataset\/(\w+)\.py/.exec(m.z_distribution) : null;
  return found ? found[1]! : null;
}

export interface TaskSets {
  readonly tasks: string;
  /** A committed long-drag set, or null: long drags are then derived from the tasks (stability.ts). */
  readonly long: string | null;
  /** A committed medium-drag set (10–20 px, used by no sweep), or null: then none is run. */
  readonly medium: string | null;
  /** A second committed short-drag set on faces no other set uses (used by no sweep), or null. */
  readonly short2: string | null;
}

/**
 * The task sets made for a renderer: faces2 models get apps/bench/tasks-faces2 (with exact
 * answers), tasks-faces2-long, tasks-faces2-medium and tasks-faces2-short2; everything else the faces.py set, whose long
 * drags are derived.
 */
export function defaultTaskSets(benchDir: string, renderer: string | null): TaskSets {
  if (renderer === 'faces2') {
    return {
      tasks: join(benchDir, 'tasks-faces2'),
      long: join(benchDir, 'tasks-faces2-long'),
      medium: join(benchDir, 'tasks-faces2-medium'),
      short2: join(benchDir, 'tasks-faces2-short2'),
    };
  }
  return { tasks: join(benchDir, 'tasks'), long: null, medium: null, short2: null };
}
