import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runMain } from './__fixtures__/run-main.js';
import { joinNegativeValues } from './parse-command-line.js';

const OPTIONS = { points: { type: 'string', multiple: true }, steps: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, out: { type: 'string', short: 'o' } } as const;

/** Every message the CLI prints on bad input is exactly one line on stderr and nothing on stdout. */
async function oneLineUsage(argv: string[]): Promise<string> {
  const r = await runMain(argv);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.slice(0, -1)).not.toMatch(/\n/);
  return r.stderr;
}

describe('the command-line parser', () => {
  it('joins a string option and a negative number into --opt=value, and nothing else', () => {
    expect(parseArgs({ args: ['-o-.5'], options: OPTIONS }).values.out).toBe('-.5');
    expect(joinNegativeValues(['--points', '-5,70:80,70', '--steps', '-5', '-o', '-.5', '--json', '-h'], OPTIONS)).toEqual([
      '--points=-5,70:80,70',
      '--steps=-5',
      '-o-.5',
      '--json',
      '-h',
    ]);
    // A boolean option, a following option and the part after "--" stay as they were.
    expect(joinNegativeValues(['--json', '-5', '--steps', '--json', '--', '--steps', '-1'], OPTIONS)).toEqual(['--json', '-5', '--steps', '--json', '--', '--steps', '-1']);
  });

  it("answers negative values with the project's one-line messages", async () => {
    const ref = ['drag', '--model', 'reference', '--json'];
    expect(await oneLineUsage([...ref, '--points', '-5,70:80,70'])).toMatch(/^stabledrag: .*\(-5, 70\).*outside/i);
    expect(await oneLineUsage([...ref, '--points', '22,10:34,14', '--steps', '-5'])).toBe('stabledrag: --steps must be at least 1, got -5.\n');
    expect(await oneLineUsage([...ref, '--points', '22,10:34,14', '--seed', '-1'])).toBe('stabledrag: --seed must be at least 0, got -1.\n');
  });

  it("turns the parser's own complaints into one line that points at --help", async () => {
    expect(await oneLineUsage(['drag', '--pionts', '1,2:3,4', '--out', 'x.png'])).toMatch(/--pionts.*Run "stabledrag drag --help" for the options\.$/m);
    expect(await oneLineUsage(['drag', '--points'])).toMatch(/--points.*argument missing.*--help/);
    expect(await oneLineUsage(['sample', '--out'])).toMatch(/Run "stabledrag sample --help"/);
    expect(await oneLineUsage(['info', 'extra'])).toMatch(/Run "stabledrag info --help"/);
  });
});
