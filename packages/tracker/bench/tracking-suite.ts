/**
 * Tracking benchmark: synthetic distractor suite (tracking error, failure rate), filter learning
 * time for both solvers, and tracking time. Run: `pnpm bench` in packages/tracker.
 * Writes bench/results.json and bench/RESULTS.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PointTracker } from '@stabledrag/core';
import { DiscriminativeTracker, NearestNeighbourTracker, learnFilter } from '../src/index.js';
import { SyntheticScene, inflateDisc, mulberry32, randomMap } from '../src/synthetic.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

// ---------------------------------------------------------------- synthetic suite
interface Condition {
  name: string;
  jitter: number;
  white: number;
  /** Features of a blob 6 px beside the handle's path grow by this factor per step (a region the generator inflates). */
  grow?: number;
}
const conditions: Condition[] = [
  { name: 'clean', jitter: 0, white: 0 },
  { name: 'jitter 0.25, white 0.02', jitter: 0.25, white: 0.02 },
  { name: 'jitter 0.25, white 0.05', jitter: 0.25, white: 0.05 },
  { name: 'jitter 0.5, white 0.02', jitter: 0.5, white: 0.02 },
  { name: 'jitter 0.5, white 0.05', jitter: 0.5, white: 0.05 },
  { name: 'jitter 0.25, white 0.02, growing blob ×1.3/step', jitter: 0.25, white: 0.02, grow: 1.3 },
];
const methods: [string, () => PointTracker][] = [
  ['baseline (nearest neighbour, L2)', () => new NearestNeighbourTracker({ norm: 'l2' })],
  ['baseline (nearest neighbour, L1)', () => new NearestNeighbourTracker({ norm: 'l1' })],
  ['discriminative term alone (λ = 0, gated)', () => new DiscriminativeTracker({ lambda: 0 })],
  ['fused (λ = 0.3), magnitude-normalised response', () => new DiscriminativeTracker({ lambda: 0.3, normalisation: 'magnitude' })],
  ['fused (λ = 0.3), gated response (default)', () => new DiscriminativeTracker({ lambda: 0.3, normalisation: 'gated' })],
  ['fused (λ = 0.3), unbounded response (paper formula)', () => new DiscriminativeTracker({ lambda: 0.3, normalisation: 'none' })],
  ['fused (λ = 0.3), cosine response', () => new DiscriminativeTracker({ lambda: 0.3, normalisation: 'cosine' })],
  // Ablation of the ridge (default 0.1 · trace(AᵀA)/C).
  ['fused (λ = 0.3, gated), ridge 0.01', () => new DiscriminativeTracker({ lambda: 0.3, ridge: 0.01 })],
];
const TRIALS = quick ? 8 : 40;
const STEPS = 10;
const SPEED = 2; // px per step
const suite = {
  setup: {
    channels: 64,
    featureSize: 48,
    scale: 2,
    imageSize: 96,
    texturePeriodPx: 8,
    radius: 12,
    trials: TRIALS,
    steps: STEPS,
    pxPerStep: SPEED,
    failureThresholdPx: 3,
  },
  conditions: [] as {
    condition: Condition;
    methods: { method: string; meanErrorPx: number; finalErrorPx: number; failureRate: number; stepFailureRate: number }[];
  }[],
  overall: [] as { method: string; meanErrorPx: number; failureRate: number }[],
};
const overall = methods.map(() => ({ err: 0, fails: 0, n: 0 }));
/** Per method: confidences (relative to s_1) of the steps it tracked right (≤ 3 px) and wrong. */
const calibration = methods.map(() => ({ right: [] as number[], wrong: [] as number[], max: 0 }));

for (const cond of conditions) {
  const acc = methods.map(() => ({ err: 0, final: 0, fails: 0, stepFails: 0 }));
  for (let s = 0; s < TRIALS; s++) {
    const rand = mulberry32(10_000 + s);
    const scene = new SyntheticScene({ channels: 64, size: 48, scale: 2, period: 8, identityAmplitude: 0.35 }, rand);
    const th = 2 * Math.PI * rand();
    const d = { x: SPEED * Math.cos(th), y: SPEED * Math.sin(th) };
    const p0 = { x: 47 + Math.floor(rand() * 3), y: 47 + Math.floor(rand() * 3) };
    const noise = { jitter: cond.jitter, white: cond.white };
    const trackers = methods.map(([, make]) => make());
    const F0 = scene.render({ x: 0, y: 0 }, noise, rand);
    trackers.forEach((t) => t.init(F0, [p0]));
    const cur = trackers.map(() => p0);
    const s1 = trackers.map(() => 1);
    const blob = { x: p0.x + 6 * -Math.sin(th), y: p0.y + 6 * Math.cos(th) };
    for (let t = 1; t <= STEPS; t++) {
      const F = scene.render({ x: d.x * t, y: d.y * t }, noise, rand);
      if (cond.grow) inflateDisc(F, { x: blob.x + d.x * t, y: blob.y + d.y * t }, cond.grow ** t);
      const truth = { x: p0.x + d.x * t, y: p0.y + d.y * t };
      trackers.forEach((tr, k) => {
        const r = tr.track(F, [cur[k]!])[0]!;
        const q = r.point;
        cur[k] = q;
        if (t === 1) s1[k] = r.confidence;
        const e = Math.hypot(q.x - truth.x, q.y - truth.y);
        const cal = calibration[k]!;
        cal.max = Math.max(cal.max, r.confidence);
        if (t > 1) (e > 3 ? cal.wrong : cal.right).push(r.confidence / s1[k]!);
        const a = acc[k]!;
        a.err += e / (STEPS * TRIALS);
        if (e > 3) a.stepFails += 1 / (STEPS * TRIALS);
        if (t === STEPS) {
          a.final += e / TRIALS;
          if (e > 3) a.fails += 1 / TRIALS;
        }
      });
    }
  }
  suite.conditions.push({
    condition: cond,
    methods: methods.map(([name], k) => ({
      method: name,
      meanErrorPx: +acc[k]!.err.toFixed(3),
      finalErrorPx: +acc[k]!.final.toFixed(3),
      failureRate: +acc[k]!.fails.toFixed(3),
      stepFailureRate: +acc[k]!.stepFails.toFixed(3),
    })),
  });
  if (cond.jitter > 0) {
    acc.forEach((a, k) => {
      overall[k]!.err += a.err;
      overall[k]!.fails += a.fails;
      overall[k]!.n += 1;
    });
  }
  console.log(cond.name, JSON.stringify(suite.conditions.at(-1)!.methods.map((m) => [m.meanErrorPx, m.failureRate])));
}
suite.overall = methods.map(([name], k) => ({
  method: name,
  meanErrorPx: +(overall[k]!.err / overall[k]!.n).toFixed(3),
  failureRate: +(overall[k]!.fails / overall[k]!.n).toFixed(3),
}));

// ---------------------------------------------------------------- timings
interface Timing {
  runs: number;
  minMs: number;
  medianWallMs: number;
  medianCpuMs: number;
}
function time(fn: () => void, runs: number, warmup = 3): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const med = (a: number[]): number => a[Math.floor(a.length / 2)]!;
  return { runs, minMs: +wall[0]!.toFixed(3), medianWallMs: +med(wall).toFixed(3), medianCpuMs: +med(cpu).toFixed(3) };
}

const learning: { case: string; scale: number; solver: string; iterations: number; timing: Timing }[] = [];
for (const scale of [4, 2, 1]) {
  const F = randomMap(mulberry32(scale), 256, 64, 64, scale);
  const p = { x: 31.3 * scale, y: 29.6 * scale };
  const cases: [string, Parameters<typeof learnFilter>[2], number][] = [
    ['closed form', { radius: 12 }, quick ? 10 : 40],
    ['iterative (CG, ≤ 1000 iterations)', { radius: 12, solver: 'iterative' }, quick ? 3 : 10],
    ['iterative (GD, 1000 iterations)', { radius: 12, solver: 'iterative', iterative: { method: 'gd' } }, quick ? 1 : 3],
  ];
  for (const [name, opts, runs] of cases) {
    const iterations = learnFilter(F, p, opts).iterations;
    const timing = time(() => learnFilter(F, p, opts), runs, 1);
    learning.push({ case: `C = 256, r2 = 12, scale ${scale}`, scale, solver: name, iterations, timing });
    console.log('learn', scale, name, iterations, JSON.stringify(timing));
  }
}

const trackF0 = randomMap(mulberry32(99), 256, 64, 64, 4);
const trackF1 = randomMap(mulberry32(98), 256, 64, 64, 4);
const hs = [
  { x: 60, y: 60 },
  { x: 120.5, y: 80 },
  { x: 180, y: 190.25 },
  { x: 100, y: 200 },
];
const tracking = (
  [
    ['nearest neighbour (L2)', new NearestNeighbourTracker()],
    ['discriminative (λ = 0.3)', new DiscriminativeTracker()],
  ] as const
).map(([name, t]) => {
  t.init(trackF0, hs);
  const timing = time(() => t.track(trackF1, hs), quick ? 10 : 40);
  console.log('track', name, JSON.stringify(timing));
  return { tracker: name, case: '4 handles, C = 256, 64×64 map at scale 4, r2 = 12', timing };
});

const env = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverage1m: +loadavg()[0]!.toFixed(2),
  date: new Date().toISOString(),
};
const TAU = 0.4;
const confidence = methods.map(([name], k) => {
  const { right, wrong, max } = calibration[k]!;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    method: name,
    maxConfidence: +max.toFixed(3),
    meanRatioRight: +mean(right).toFixed(3),
    meanRatioWrong: +mean(wrong).toFixed(3),
    /** Share of wrong steps whose s_i ≤ τ·s_1 (Eq. 5 would switch to the template), and of right steps. */
    flaggedWrong: +(wrong.filter((c) => c <= TAU).length / Math.max(1, wrong.length)).toFixed(3),
    flaggedRight: +(right.filter((c) => c <= TAU).length / Math.max(1, right.length)).toFixed(3),
    wrongSteps: wrong.length,
  };
});
console.log('confidence', JSON.stringify(confidence));
const results = { env, suite, confidence, learning, tracking };
writeFileSync(join(here, 'results.json'), JSON.stringify(results, null, 2) + '\n');

// ---------------------------------------------------------------- markdown
const lines: string[] = [];
lines.push('## @stabledrag/tracker', '');
lines.push(
  `Node ${env.node}, ${env.cpu} (${env.cores} cores), 1-minute load average ${env.loadAverage1m} while running ` +
    `(the machine was shared: the min and the CPU time are the numbers to read). ${env.date}.`,
  '',
);
lines.push('### Synthetic distractor suite', '');
lines.push(
  `${suite.setup.channels} channels, ${suite.setup.featureSize}² features at scale ${suite.setup.scale} (a ${suite.setup.imageSize}² image); ` +
    `a repeated texture with period ${suite.setup.texturePeriodPx} px (near-duplicates of the handle within the r2 = ${suite.setup.radius} window) ` +
    `plus a weak unique identity field; per step, fresh noise: smooth per-wave amplitude jitter (noise correlated across channels) ` +
    `and white noise per feature pixel. The scene moves ${SPEED} px per step in a random direction for ${STEPS} steps; ` +
    `${TRIALS} seeded drags per condition. Failure: final error > 3 px. See src/synthetic.ts.`,
  '',
);
lines.push('| condition | method | mean error (px) | failure rate |', '|---|---|---|---|');
for (const c of suite.conditions) {
  for (const m of c.methods) lines.push(`| ${c.condition.name} | ${m.method} | ${m.meanErrorPx.toFixed(2)} | ${(100 * m.failureRate).toFixed(1)} % |`);
}
lines.push('', `Over the ${conditions.filter((c) => c.jitter > 0).length} noisy conditions:`, '', '| method | mean error (px) | failure rate |', '|---|---|---|');
for (const m of suite.overall) lines.push(`| ${m.method} | ${m.meanErrorPx.toFixed(2)} | ${(100 * m.failureRate).toFixed(1)} % |`);
lines.push(
  '',
  '### Does the confidence say when tracking went wrong?',
  '',
  `Every step after the first of every drag above, per tracker: s_i / s_1 on the steps it tracked right (≤ 3 px) and wrong, ` +
    `and the share of steps where Eq. 5 (τ = ${TAU}) would switch to template supervision (s_i ≤ τ·s_1).`,
  '',
  '| tracker | max s_i | mean s_i/s_1, right | mean s_i/s_1, wrong | wrong steps flagged | right steps flagged | wrong steps |',
  '|---|---|---|---|---|---|---|',
);
for (const c of confidence) {
  lines.push(
    `| ${c.method} | ${c.maxConfidence.toFixed(2)} | ${c.meanRatioRight.toFixed(2)} | ${c.meanRatioWrong.toFixed(2)} | ${(100 * c.flaggedWrong).toFixed(0)} % | ${(100 * c.flaggedRight).toFixed(0)} % | ${c.wrongSteps} |`,
  );
}
lines.push('', '### Learning z_i (C = 256, r2 = 12)', '');
lines.push('| map scale | solver | iterations | min (ms) | median wall (ms) | median CPU (ms) |', '|---|---|---|---|---|---|');
for (const l of learning) {
  lines.push(
    `| ${l.scale} | ${l.solver} | ${l.iterations} | ${l.timing.minMs.toFixed(2)} | ${l.timing.medianWallMs.toFixed(2)} | ${l.timing.medianCpuMs.toFixed(2)} |`,
  );
}
lines.push(
  '',
  'Closed form: the window reads K native pixels (K = 81 at scale 4, ≈ 200 at scale 2, ≈ 650 at scale 1); ' +
    'at scale 4 the solve runs in that K-space (LU of K × K), at scales 2 and 1 it is a C × C Cholesky of the ' +
    'factorised Gram (K·C²/2 multiply-adds), chosen by flop count.',
);
lines.push('', '### Tracking one step', '', '| tracker | case | min (ms) | median wall (ms) | median CPU (ms) |', '|---|---|---|---|---|');
for (const t of tracking) {
  lines.push(`| ${t.tracker} | ${t.case} | ${t.timing.minMs.toFixed(2)} | ${t.timing.medianWallMs.toFixed(2)} | ${t.timing.medianCpuMs.toFixed(2)} |`);
}
writeFileSync(join(here, 'RESULTS.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
