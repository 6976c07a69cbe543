/**
 * The root README's command-line examples, run as a reader would paste them: the `--json` one must
 * print nothing but JSON on stdout (pnpm's own banner used to come first), so it can be piped.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DragReport } from './commands/drag.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The shell lines of README.md's fenced sh blocks that run the CLI through pnpm. */
function documentedPnpmCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) => b.split('\n')).map((l) => l.trim()).filter((l) => /^pnpm .*\bstabledrag\b/.test(l));
}

function sh(command: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("README's command-line examples", () => {
  const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');
  const commands = documentedPnpmCommands(readme);

  it('keep pnpm quiet, so stdout carries only what stabledrag prints', () => {
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const c of commands) expect(c, c).toMatch(/^pnpm --silent /);
  });

  it('print a parseable JSON report on stdout for the documented --json command', async () => {
    const json = commands.filter((c) => / --json\b/.test(c));
    expect(json).toHaveLength(1);
    const r = await sh(json[0]!, repoRoot);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report.method).toMatch(/^draggan/);
    expect(report.history.length).toBeGreaterThan(0);
    // Progress went to stderr, not into the report.
    expect(r.stderr).toMatch(/Dragging 2 points/);
  }, 120_000);
});
