import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs } from './__fixtures__/dirs.js';
import { runMain } from './__fixtures__/run-main.js';
import { jsonErrorMessage, oneLine } from './one-line.js';

afterAll(removeFreshDirs);

function parseError(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

describe('one-line messages', () => {
  it('joins lines with single spaces', () => {
    expect(oneLine('a\nb\r\n  c\n')).toBe('a b c');
  });

  it('keeps a quoted snippet literal and adds the line and column of a position', () => {
    // Not JSON at all: V8 quotes the text, newline included.
    const yaml = 'seed: 4\npairs: []\n';
    const a = jsonErrorMessage(parseError(yaml), yaml);
    expect(a).not.toMatch(/\n/);
    expect(a).toContain('\\n');
    // A missing comma on the third line: the parser gives a position.
    const text = '{\n  "seed": 4\n  "pairs": []\n}';
    const b = jsonErrorMessage(parseError(text), text);
    expect(b).toMatch(/\(line 3, column 3\)$/);
  });

  it('prints a non-JSON task file and session file as one line each', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'task.json'), 'seed: 4\npairs:\n  - handle: [1, 2]\n');
    const task = await runMain(['drag', '--task', 'task.json', '--out', 'o.png'], { cwd: dir });
    expect(task.code).toBe(2);
    expect(task.stderr).toMatch(/^stabledrag: The task file \S+task\.json is not valid JSON: .+\n$/);
    expect(task.stderr.split('\n')).toHaveLength(2);
    writeFileSync(join(dir, 's.json'), '{\n  "seed": 1,\n}\n');
    const session = await runMain(['drag', '--session', 's.json', '--out', 'o.png'], { cwd: dir });
    expect(session.code).toBe(2);
    expect(session.stderr).toMatch(/^stabledrag: The session file \S+s\.json is not valid JSON: .+ \(line 3, column 1\)\n$/);
  });
});
