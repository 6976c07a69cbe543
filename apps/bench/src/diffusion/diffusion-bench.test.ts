import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layoutModelDir, loadDiffusionBackend } from '@stabledrag/backends-diffusion/node';
import { loadMethodFactory } from '../methods.js';
import { STABLEDRAG_DIFF } from './diffusion-methods.js';
import { loadDiffusionTasks } from './load-diffusion-tasks.js';
import { parseDiffusionArgs, runDiffusionBench } from './main.js';
import type { DiffusionRunRecord, DiffusionTaskRecord } from './run-diffusion-task.js';
import { runDiffusionTask } from './run-diffusion-task.js';
import { TimedDiffusionBackend } from './timed-diffusion-backend.js';

const benchDir = resolve(__dirname, '..', '..');
const rootReport = resolve(benchDir, '..', '..', 'BENCHMARKS.md');
const dir = mkdtempSync(join(tmpdir(), 'bench-diffusion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench:diffusion on the layout model (smoke)', () => {
  it('runs one renderer task and one photo, writes the JSON, the section and the sheet, and splices a copy of BENCHMARKS.md', async () => {
    const before = existsSync(rootReport) ? readFileSync(rootReport, 'utf8') : null;
    const report = join(dir, 'BENCHMARKS.md');
    const opts = parseDiffusionArgs(['--model', layoutModelDir, '--tasks', '1', '--photos', '1', '--budgets', '2,3', '--lora-timing-steps', '2', '--out', dir, '--report', report]);
    const result = await runDiffusionBench(opts);
    expect(result).not.toBeNull();
    const json = JSON.parse(readFileSync(join(dir, 'diffusion-runs.json'), 'utf8')) as { tasks: DiffusionTaskRecord[]; runs: DiffusionRunRecord[]; photos: { runs: DiffusionRunRecord[] } };
    expect(json.runs.map((r) => r.method)).toEqual(['dragdiffusion', 'no-dpt', 'no-cms', 'stabledrag-diff']);
    for (const r of json.runs) {
      expect(r.scores.map((s) => s.budget)).toEqual([2, 3]);
      expect(r.scores[1]!.score.pairs[0]!.exactDistance).not.toBeNull();
      expect(r.timings.n).toBeGreaterThan(0);
      expect(r.denoiseMs).toBeGreaterThan(0);
    }
    expect(json.tasks[0]!.encodeMs).toBeGreaterThan(0);
    expect(json.tasks[0]!.invertMs).toBeGreaterThan(0);
    // the exact edit is (nearly) where the renderer says: the floor of MD (b)
    expect(json.tasks[0]!.exactEdit!.pairs[0]!.exactDistance!).toBeLessThan(1.5);
    expect(json.photos.runs.map((r) => r.method)).toEqual(['dragdiffusion', 'stabledrag-diff']);
    expect(existsSync(join(dir, 'diffusion-photos.png'))).toBe(true);
    const md = readFileSync(join(dir, 'diffusion.md'), 'utf8');
    // The task run again with LoRA gives the time split's LoRA rows.
    expect(md).toMatch(/DragDiffusion, with LoRA \(2 steps; 1 task\) \| [^|]+ \| [^|]+ \| \d+\.\d s \|/);
    expect(md).toMatch(/the slowest whole edit [\d.]+ s \((meets|misses) ≤ 30 s\)/);
    expect(md).toMatch(/^## Diffusion/);
    expect(md).toContain('| DragDiffusion |');
    expect(md).toContain('### Table 2 — ablations at 3 steps');
    const spliced = readFileSync(report, 'utf8');
    expect(spliced).toContain('## Diffusion');
    if (before !== null) {
      // the GAN sections come through untouched, and the tracked report is not written
      expect(spliced).toContain(before.split('\n## ')[1]!.split('\n')[0]!);
      expect(readFileSync(rootReport, 'utf8')).toBe(before);
    }
  });

  it('a budget read from a longer run scores exactly as a run capped at that budget', async () => {
    const backend = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const timed = new TimedDiffusionBackend(backend);
    const task = loadDiffusionTasks(join(benchDir, 'tasks-diffusion', 'tasks.json'), backend.info.imageWidth, 1)[0]!;
    const factory = await loadMethodFactory();
    const long = await runDiffusionTask(timed, task, [STABLEDRAG_DIFF], factory, [2, 4]);
    const short = await runDiffusionTask(timed, task, [STABLEDRAG_DIFF], factory, [2]);
    expect(long.runs[0]!.scores[0]!.score).toEqual(short.runs[0]!.scores[0]!.score);
    await backend.dispose();
  });
});
