import type { CliContext } from '../context.js';
import { main } from '../main.js';

/** Collects what the CLI writes; `isTTY` picks the progress style. */
export class Sink {
  text = '';
  constructor(readonly isTTY = false) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** Runs `stabledrag <argv>` in process and returns its exit code and both streams. */
export async function runMain(argv: string[], extra: Partial<CliContext> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(argv, { stdout, stderr, ...extra });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
