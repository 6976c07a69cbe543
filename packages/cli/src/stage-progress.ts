import type { TextSink } from './progress.js';

/** A long stage of an edit, as shown on stderr and timed in the --json report. */
export type StageName = 'load' | 'lora' | 'encode' | 'invert' | 'project' | 'drag' | 'denoise' | 'decode' | 'gif';

/** What each stage is called on screen. */
const LABELS: Record<StageName, string> = {
  load: 'loading the model',
  lora: 'LoRA fine-tuning',
  encode: 'VAE encode',
  invert: 'DDIM inversion',
  project: 'GAN projection',
  drag: 'drag',
  denoise: 'denoise',
  decode: 'VAE decode',
  gif: 'GIF frames',
};

/** The clock; injected so tests can check the time-left estimate. */
export type Clock = () => number;

/**
 * Progress of the stages around the drag (LoRA, encode, inversion, denoise, decode): "stage k/n,
 * time left" on stderr, redrawn on a terminal and elsewhere printed every `every` steps (at most
 * about ten lines a stage), and the
 * wall time of each stage for the report. A stage that runs more than once (denoise for every GIF
 * frame) adds up.
 */
export class StageProgress {
  private readonly sink: TextSink | undefined;
  private readonly tty: boolean;
  private readonly every: number;
  private readonly now: Clock;
  private current: { stage: StageName; start: number } | undefined;
  private latest: StageName | undefined;
  /** When the last stage that ran to its total ended: the start of a stage its successor's first report begins. */
  private handoff: number | undefined;
  private drawn = false;
  /** Milliseconds per stage, in the order the stages first ran. */
  readonly timings: Partial<Record<StageName, number>> = {};

  /** `sink` undefined (--quiet): nothing is printed, timings are still kept. */
  constructor(sink: TextSink | undefined, options: { every?: number; now?: Clock } = {}) {
    this.sink = sink;
    this.tty = sink?.isTTY === true;
    this.every = options.every ?? 10;
    this.now = options.now ?? (() => performance.now());
  }

  /** Step `step` of `total` of `stage` is done; starts the stage if it is new. */
  update(stage: StageName, step: number, total: number, extra = ''): void {
    if (this.current?.stage !== stage) {
      // Reports come after a step's work: a stage begun by a report started when the one before finished.
      const from = this.handoff;
      this.begin(stage);
      if (from !== undefined) this.current!.start = from;
    }
    if (this.sink) this.print(this.sink, stage, step, total, extra, this.now() - this.current!.start);
    if (step >= total) {
      const t = this.now();
      this.end();
      this.handoff = t;
    }
  }

  private print(sink: TextSink, stage: StageName, step: number, total: number, extra: string, elapsed: number): void {
    // Steps of one stage cost about the same, so the mean so far predicts the rest.
    // A stage begun by this very report has no time measured yet: no estimate rather than "0 s".
    const left = step > 0 && step < total && elapsed > 0 ? ` ${formatSeconds(((total - step) * elapsed) / step)} left` : '';
    const text = `${LABELS[stage]} ${String(step).padStart(String(total).length)}/${total}${left}${extra ? `  ${extra}` : ''}`;
    if (this.tty) {
      sink.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (step === 1 || step === total || step % Math.max(this.every, Math.ceil(total / 10)) === 0) {
      sink.write(`${text}\n`);
    }
  }

  /** Starts timing `stage` (ending the one before). */
  begin(stage: StageName): void {
    this.end();
    this.handoff = undefined;
    this.current = { stage, start: this.now() };
    this.latest = stage;
  }

  /** Ends the current stage: adds its time and finishes a redrawn line. */
  end(): void {
    const cur = this.current;
    if (!cur) return;
    this.timings[cur.stage] = (this.timings[cur.stage] ?? 0) + (this.now() - cur.start);
    this.current = undefined;
    if (this.drawn) this.sink?.write('\n');
    this.drawn = false;
  }

  /** Runs `work` as `stage`, ending the stage whether it finishes or throws. */
  async run<T>(stage: StageName, work: () => Promise<T>): Promise<T> {
    this.begin(stage);
    try {
      return await work();
    } finally {
      this.end();
    }
  }

  /** The stage running now, or the last one begun, for "interrupted during …" messages. */
  get lastStage(): StageName | undefined {
    return this.current?.stage ?? this.latest;
  }

  /** Adds time spent on `stage` outside {@link begin}/{@link end} (GIF frames rendered inside the drag). */
  add(stage: StageName, ms: number): void {
    this.timings[stage] = (this.timings[stage] ?? 0) + ms;
  }
}

/** "1.2 s", "3 min 05 s". */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
}

/** The label of a stage, for messages. */
export function stageLabel(stage: StageName): string {
  return LABELS[stage];
}
