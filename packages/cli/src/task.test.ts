import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs } from './__fixtures__/dirs.js';
import { CliError } from './errors.js';
import { parseTask, readTask, resolveTaskModel } from './task.js';

const base = { seed: 3, pairs: [{ handle: [10, 12], target: [20, 12.5] }] };

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

afterAll(removeFreshDirs);

describe('parseTask', () => {
  it('reads every field and resolves the mask against the task folder', () => {
    const task = parseTask({ ...base, name: 'n', model: 'tiny', truncation: 0.7, mask: 'm/mask.png', steps: 50 }, 't.json', '/tasks');
    expect(task).toEqual({
      name: 'n',
      model: 'tiny',
      seed: 3,
      truncation: 0.7,
      steps: 50,
      mask: '/tasks/m/mask.png',
      pairs: [{ handle: { x: 10, y: 12 }, target: { x: 20, y: 12.5 } }],
    });
  });
  it('needs only seed and pairs', () => {
    expect(parseTask(base, 't.json', '/x')).toEqual({ seed: 3, pairs: [{ handle: { x: 10, y: 12 }, target: { x: 20, y: 12.5 } }] });
  });
  it('refuses bad fields with the field named', () => {
    expect(message(() => parseTask({ ...base, seed: -1 }, 't.json', '/'))).toMatch(/"seed"/);
    expect(message(() => parseTask({ ...base, seed: 1.5 }, 't.json', '/'))).toMatch(/"seed"/);
    expect(message(() => parseTask({ seed: 1, pairs: [] }, 't.json', '/'))).toMatch(/"pairs"/);
    expect(message(() => parseTask({ seed: 1, pairs: [{ handle: [1, 2] }] }, 't.json', '/'))).toMatch(/pairs\[0\]\.target/);
    expect(message(() => parseTask({ seed: 1, pairs: [{ handle: [1, 'a'], target: [1, 2] }] }, 't.json', '/'))).toMatch(/pairs\[0\]\.handle/);
    expect(message(() => parseTask({ ...base, truncation: 0 }, 't.json', '/'))).toMatch(/truncation/);
    expect(message(() => parseTask({ ...base, steps: 0 }, 't.json', '/'))).toMatch(/steps/);
    expect(message(() => parseTask({ ...base, mask: '' }, 't.json', '/'))).toMatch(/mask/);
    expect(message(() => parseTask({ ...base, pair: [] }, 't.json', '/'))).toMatch(/unknown field "pair"/);
    expect(message(() => parseTask([base], 't.json', '/'))).toMatch(/JSON object/);
  });
});

describe('readTask', () => {
  it('reads a file, and explains unreadable or invalid JSON', async () => {
    const dir = freshDir('sd-task-');
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ ...base, mask: 'mask.png' }));
    writeFileSync(join(dir, 'bad.json'), '{ "seed": 1, ');
    expect((await readTask(join(dir, 'ok.json'))).mask).toBe(join(dir, 'mask.png'));
    await expect(readTask(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
    await expect(readTask(join(dir, 'missing.json'))).rejects.toThrow(/Cannot read the task file/);
  });
});

describe('resolveTaskModel', () => {
  it('keeps model names and resolves folders against the task folder', () => {
    expect(resolveTaskModel('default', '/t')).toBe('default');
    expect(resolveTaskModel('reference', '/t')).toBe('reference');
    expect(resolveTaskModel('../models/x', '/t/a')).toBe('/t/models/x');
  });
});

describe('examples/preset-drag.json (the README main job)', () => {
  it('is a valid 2-pair task on the default model, inside its 128×128 image', async () => {
    const task = await readTask(fileURLToPath(new URL('../../../examples/preset-drag.json', import.meta.url)));
    expect(task.model).toBe('default');
    expect(task.pairs).toHaveLength(2);
    for (const { handle, target } of task.pairs) {
      for (const v of [handle.x, handle.y, target.x, target.y]) expect(v >= 0 && v <= 127).toBe(true);
      // Longer than any stop distance the default model could use (its own: 0.5 px), or the drag would be refused.
      expect(Math.hypot(target.x - handle.x, target.y - handle.y)).toBeGreaterThan(2);
    }
  });
});
