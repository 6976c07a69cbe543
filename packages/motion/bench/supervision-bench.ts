/**
 * Loss + gradient time of the motion supervisors: 4 handles, r1 = 3, a 256 × 64 × 64 map at
 * scale 4 (a 256² image). Run: `pnpm bench` in packages/motion. Writes bench/results.json and
 * bench/RESULTS.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeatureMap, Mask, MotionSupervisor } from '@stabledrag/core';
import { ConfidentSupervision, MotionSupervision, TemplateSupervision } from '../src/index.js';
import { gaussian, mulberry32, randomMap } from '../src/test-utils.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const RUNS = quick ? 50 : 300;

const rand = mulberry32(1);
const F0 = randomMap(rand, 256, 64, 64, 4);
const F: FeatureMap = { ...F0, data: F0.data.map((v) => v + 0.1 * gaussian(rand)) };
const handles0 = [
  { x: 60, y: 60 },
  { x: 120.5, y: 80 },
  { x: 180, y: 190.25 },
  { x: 100, y: 200 },
];
const handles = handles0.map((p) => ({ x: p.x + 2.3, y: p.y - 1.6 }));
const targets = handles0.map((p) => ({ x: p.x + 30, y: p.y - 20 }));
// Mask: the left half of the image editable, the right half fixed.
const m = new Uint8Array(256 * 256);
for (let y = 0; y < 256; y++) for (let x = 0; x < 128; x++) m[y * 256 + x] = 1;
const mask: Mask = { data: m, width: 256, height: 256 };

interface Timing {
  runs: number;
  minMs: number;
  medianWallMs: number;
  medianCpuMs: number;
}
function time(fn: () => void, runs: number): Timing {
  for (let i = 0; i < 10; i++) fn();
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

const rows: { supervisor: string; mask: string; gradBuffer: string; timing: Timing }[] = [];
const makers: [string, (o: { reuseGrad: boolean }) => MotionSupervisor][] = [
  ['MotionSupervision (Eq. 1)', (o) => new MotionSupervision(o)],
  ['TemplateSupervision (Eq. 4)', (o) => new TemplateSupervision(o)],
  ['ConfidentSupervision (Eq. 5)', (o) => new ConfidentSupervision(o)],
];
for (const [name, make] of makers) {
  for (const withMask of [false, true]) {
    for (const reuseGrad of [true, false]) {
      if (!reuseGrad && name !== makers[0]![0]) continue;
      const sup = make({ reuseGrad });
      sup.init(F0, handles0, withMask ? mask : undefined);
      let step = 1;
      const conf = [1, 0.9, 0.3, 0.8];
      const timing = time(() => {
        sup.compute({ features: F, handles, targets, confidences: step === 1 ? [1, 1, 1, 1] : conf, step });
        step++;
      }, RUNS);
      const row = {
        supervisor: name,
        mask: withMask ? 'right half fixed (η = 20)' : 'none',
        gradBuffer: reuseGrad ? 'reused' : 'fresh per call',
        timing,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
}
const buf = new Float32Array(256 * 64 * 64);
const zeroing = time(() => buf.fill(0), RUNS);

const env = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverage1m: +loadavg()[0]!.toFixed(2),
  date: new Date().toISOString(),
};
writeFileSync(
  join(here, 'results.json'),
  JSON.stringify({ env, case: '4 handles, r1 = 3 (29 disc points), 256 × 64 × 64 map at scale 4', rows, zeroing }, null, 2) + '\n',
);
const lines = [
  '## @stabledrag/motion',
  '',
  `Node ${env.node}, ${env.cpu} (${env.cores} cores), 1-minute load average ${env.loadAverage1m} while running ` +
    `(shared machine: read the min and the CPU time). ${env.date}.`,
  '',
  'Loss + gradient for 4 handles, r1 = 3 (29 disc points each), on a 256 × 64 × 64 feature map at scale 4 (256² image):',
  '',
  '| supervisor | mask | grad buffer | min (ms) | median wall (ms) | median CPU (ms) |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.supervisor} | ${r.mask} | ${r.gradBuffer} | ${r.timing.minMs.toFixed(3)} | ${r.timing.medianWallMs.toFixed(3)} | ${r.timing.medianCpuMs.toFixed(3)} |`,
  ),
  '',
  `Of which zeroing the 1 M-float gradient: min ${zeroing.minMs.toFixed(3)} ms, median ${zeroing.medianWallMs.toFixed(3)} ms.`,
];
writeFileSync(join(here, 'RESULTS.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
