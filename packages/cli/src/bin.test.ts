import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tinyModelDir } from '@stabledrag/backends-gan/node';
import { freshDir, removeFreshDirs } from './__fixtures__/dirs.js';
import type { DragReport } from './commands/drag.js';
import { decodePng } from './png.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(packageDir, 'src', 'bin.ts');
// tsx's loader by absolute URL, since the child runs in a temporary folder.
const tsx = pathToFileURL(createRequire(join(packageDir, 'package.json')).resolve('tsx')).href;

interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real bin from source through tsx, as `pnpm drag` does. `onStderr` may poke the child. */
function stabledrag(args: string[], cwd: string, onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@stabledrag/source', '--import', tsx, bin, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, (s) => child.kill(s));
    });
    // Never leave a child behind if the test fails half-way.
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

afterAll(removeFreshDirs);

describe('the stabledrag bin (spawned)', () => {
  it('prints the version and exits 2 on bad usage', async () => {
    const dir = freshDir();
    const version = await stabledrag(['--version'], dir);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version);
    const bad = await stabledrag(['drag', '--points', '1,2', '--out', 'o.png'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^stabledrag: --points "1,2" must look like "hx,hy:tx,ty"/);
  });

  it('drags on the tiny ONNX model through onnxruntime-node', async () => {
    const dir = freshDir();
    const r = await stabledrag(['drag', '--model', 'tiny', '--seed', '1', '--points', '10,10:18,12', '--steps', '3', '--out', 'o.png', '--json'], dir);
    expect(r.stderr).toMatch(/tiny-random-32 \(32×32\)/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report).toMatchObject({ model: 'tiny', steps: 3, stopReason: 'max-steps', settings: { lr: 0.001, r1: 2, r2: 6 } });
    expect(report.history).toHaveLength(3);
    expect(report.timings.meanStepMs.backward).toBeGreaterThan(0);
    expect(decodePng(readFileSync(join(dir, 'o.png')), 'o').width).toBe(32);
  });

  it('exits 3 when model.json names a tensor the network does not have', async () => {
    const dir = freshDir();
    const model = join(dir, 'tiny-copy');
    cpSync(tinyModelDir, model, { recursive: true });
    const json = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(model, 'model.json'), JSON.stringify({ ...json, tensors: { features: 'block_9_out' } }));
    const r = await stabledrag(['info', '--model', model], dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/block_9_out/);
  });

  it('stops on SIGINT, writes the last image and exits 130', async () => {
    const dir = freshDir();
    let sent = false;
    // Tracked points are whole pixels, so a half-pixel target and --stop-distance 0.01 keep the drag going.
    const r = await stabledrag(
      ['drag', '--model', 'reference', '--points', '22,10:34.5,14.5', '--steps', '100000', '--stop-distance', '0.01', '--out', 'o.png', '--json'],
      dir,
      (text, kill) => {
        if (!sent && /step +10\//.test(text)) {
          sent = true;
          kill('SIGINT');
        }
      },
    );
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Interrupted: a drag finishes its current step/);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report.stopReason).toBe('aborted');
    expect(report.steps).toBeGreaterThanOrEqual(9);
    expect(existsSync(join(dir, 'o.png'))).toBe(true);
  });
});
