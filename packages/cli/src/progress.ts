import type { DragStepEvent } from '@stabledrag/core';

/** Where the CLI writes text; process.stdout/stderr fit, tests pass a collector. */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * The drag's progress line. On a terminal it redraws one line (bar, step/max, mean handle
 * distance, mean confidence); elsewhere (CI logs, pipes) it prints a plain line every
 * `every` steps and on the last step, so logs stay short.
 */
export class DragProgress {
  private readonly sink: TextSink;
  private readonly tty: boolean;
  private readonly every: number;
  private drawn = false;

  constructor(sink: TextSink, options: { every?: number } = {}) {
    this.sink = sink;
    this.tty = sink.isTTY === true;
    this.every = options.every ?? 10;
  }

  step(e: DragStepEvent): void {
    const dist = mean(e.distances).toFixed(1);
    const conf = mean(e.confidences).toFixed(2);
    const ms = e.timings.total.toFixed(0);
    const width = String(e.maxSteps).length;
    // The converged event is not an optimisation step: it tracks the points moved by the previous
    // update, finds them all at their targets and stops without an update. Numbering it
    // "step N+1" after "converged in N steps" read as an off-by-one, so it is shown as the
    // final tracking after the N steps that were taken.
    const updates = e.converged ? e.step - 1 : e.step;
    const counter = `${String(updates).padStart(width)}/${e.maxSteps}`;
    const final = `final tracking after ${updates} step${updates === 1 ? '' : 's'}: distance ${dist} px  confidence ${conf}  (every handle at its target; no update)`;
    if (this.tty) {
      const cols = Math.max(10, Math.min(30, (this.sink.columns ?? 80) - 60));
      const filled = Math.round((cols * updates) / e.maxSteps);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(cols - filled)}]`;
      const text = e.converged ? final : `${counter}  distance ${dist} px  confidence ${conf}  ${ms} ms/step`;
      this.sink.write(`\r\x1b[2K${bar} ${text}`);
      this.drawn = true;
    } else if (e.converged) {
      this.sink.write(`${final}\n`);
    } else if (e.step === 1 || e.step % this.every === 0 || e.step === e.maxSteps) {
      this.sink.write(`step ${counter}  distance ${dist} px  confidence ${conf}  ${ms} ms\n`);
    }
  }

  /** Ends the redrawn line so what follows starts on its own line. */
  done(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }
}
