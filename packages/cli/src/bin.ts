#!/usr/bin/env node
import { main } from './main.js';

// Ctrl-C: the first one aborts the drag (which still writes its outputs, exit 130) or the stage
// before it (LoRA, encode, inversion: nothing to write, exit 130);
// a second one exits at once.
const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  process.stderr.write('\nInterrupted: a drag finishes its current step and writes the outputs; LoRA, encoding and inversion stop with nothing written (Ctrl-C again to quit now).\n');
  controller.abort(new Error('Interrupted by Ctrl-C'));
});

// `stabledrag drag --json | head`: a closed pipe ends the output, not the program with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

// No top-level await: the module is also built as CommonJS (require('@stabledrag/cli/bin')).
void main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then((code) => {
  process.exitCode = code;
});
