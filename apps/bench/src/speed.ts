import { DragSession } from '@stabledrag/core';
import { loadBackend, type Runtime } from './backends.js';
import { loadMethodFactory, TABLE2 } from './methods.js';
import type { BenchTask } from './tasks.js';
import { loadTasks } from './tasks.js';
import { referenceTasks } from './reference-tasks.js';

export interface SpeedRequest {
  readonly runtime: Runtime;
  readonly modelDir?: string;
  /** Task folder, or null for the reference backend's built-in tasks. */
  readonly tasksDir: string | null;
  readonly taskIds: readonly string[];
  readonly steps: number;
  readonly methods: readonly string[];
  readonly allowStandIn?: boolean;
}

export interface StepSplit {
  forward: number;
  track: number;
  supervise: number;
  backward: number;
  optimizer: number;
  total: number;
}

export interface SpeedResult {
  readonly runtime: Runtime;
  readonly description: string;
  readonly loadMs: number;
  readonly renderMs: number;
  readonly steps: number;
  readonly tasks: number;
  readonly methods: Record<string, { perStep: StepSplit; trackerInitMs: number; setupMs: number; stepsMeasured: number }>;
  /** Whole-process peak resident set size, MiB (process.resourceUsage().maxRSS). */
  readonly peakRssMiB: number;
  /** Resident set size right after loading the model, MiB. */
  readonly loadedRssMiB: number;
}

/**
 * Times the drag loop on one runtime, in a process of its own so that its peak memory is its own.
 * The drags never stop early (stop distance ≈ 0), so every run takes exactly `steps` steps; one
 * short drag per method warms up first, and the first step of each run is left out of the means.
 */
export async function measureSpeed(req: SpeedRequest): Promise<SpeedResult> {
  const loaded = await loadBackend(req.runtime, req.modelDir);
  const loadedRssMiB = process.memoryUsage().rss / 2 ** 20;
  const { backend } = loaded;
  const all: BenchTask[] = req.tasksDir === null ? referenceTasks() : await loadTasks(req.tasksDir);
  const tasks = req.taskIds.map((id) => {
    const t = all.find((x) => x.id === id);
    if (!t) throw new Error(`speed: no task ${id}`);
    return t;
  });
  const factory = await loadMethodFactory({ allowStandIn: req.allowStandIn ?? false });
  const methods: SpeedResult['methods'] = {};
  let renderMs = 0;
  let renders = 0;
  // Warm-up (JIT, ORT session first runs, allocator): a short drag per method, not measured.
  for (const id of req.methods) {
    const spec = TABLE2.find((m) => m.id === id);
    const task = tasks[0];
    if (!spec || !task) continue;
    const built = factory(spec, backend.info.imageWidth);
    const latent = await backend.createLatent({ type: 'seed', seed: task.seed, ...(task.truncation !== undefined ? { truncation: task.truncation } : {}) });
    await new DragSession({ backend, tracker: built.tracker, supervisor: built.supervisor, latent, pairs: task.pairs, maxSteps: 3, stopDistance: 1e-6 }).run();
  }
  for (const id of req.methods) {
    const spec = TABLE2.find((m) => m.id === id);
    if (!spec) throw new Error(`speed: unknown method ${id}`);
    const sum: StepSplit = { forward: 0, track: 0, supervise: 0, backward: 0, optimizer: 0, total: 0 };
    let n = 0;
    let trackerInitMs = 0;
    let setupMs = 0;
    for (const task of tasks) {
      const latent = await backend.createLatent({ type: 'seed', seed: task.seed, ...(task.truncation !== undefined ? { truncation: task.truncation } : {}) });
      const t = performance.now();
      await backend.render(latent);
      renderMs += performance.now() - t;
      renders++;
      const built = factory(spec, backend.info.imageWidth);
      const tracker = built.tracker;
      const timed = {
        name: tracker.name,
        init: (...a: Parameters<typeof tracker.init>) => {
          const t1 = performance.now();
          tracker.init(...a);
          trackerInitMs += performance.now() - t1;
        },
        track: tracker.track.bind(tracker),
      };
      const session = new DragSession({
        backend,
        tracker: timed,
        supervisor: built.supervisor,
        latent,
        pairs: task.pairs,
        ...(task.mask ? { mask: task.mask } : {}),
        maxSteps: req.steps,
        stopDistance: 1e-6,
      });
      const result = await session.run();
      setupMs += result.setupMs;
      for (const e of result.history.slice(1)) {
        for (const k of Object.keys(sum) as (keyof StepSplit)[]) sum[k] += e.timings[k];
        n++;
      }
    }
    const perStep = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, n ? v / n : Number.NaN])) as unknown as StepSplit;
    methods[id] = { perStep, trackerInitMs: trackerInitMs / tasks.length, setupMs: setupMs / tasks.length, stepsMeasured: n };
  }
  await backend.dispose();
  return {
    runtime: req.runtime,
    description: loaded.description,
    loadMs: loaded.loadMs,
    renderMs: renders ? renderMs / renders : Number.NaN,
    steps: req.steps,
    tasks: tasks.length,
    methods,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    loadedRssMiB,
  };
}

// Child-process entry: `tsx src/speed.ts '<SpeedRequest JSON>'` prints one JSON line.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv[2]) {
  const req = JSON.parse(process.argv[2]) as SpeedRequest;
  measureSpeed(req).then(
    (r) => {
      process.stdout.write(`SPEED_RESULT ${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
