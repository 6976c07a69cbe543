import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs, unwritableDir } from './__fixtures__/dirs.js';
import type { DragReport } from './commands/drag.js';
import type { CliContext } from './context.js';
import { main, VERSION } from './main.js';
import { createMethod as realCreateMethod } from './methods.js';
import { decodePng, encodePng, maskToImage } from './png.js';
import { parseSession } from './session-file.js';

class Sink {
  text = '';
  constructor(readonly isTTY = false) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

async function run(argv: string[], extra: Partial<CliContext> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(argv, { stdout, stderr, ...extra });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Frames of a GIF = graphic control extensions (0x21 0xF9 0x04), one before each image. */
function gifFrames(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0x21 && bytes[i + 1] === 0xf9 && bytes[i + 2] === 0x04) n++;
  return n;
}

// Reference backend, seed 0: a movable blob sits at about (21.7, 10.0) in the 64×64 image.
const DRAG = ['drag', '--model', 'reference', '--seed', '0', '--points', '22,10:34,14'];

afterAll(removeFreshDirs);

describe('stabledrag (in process)', () => {
  it('prints its version and help, and exits 2 on unknown commands and options', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*130/);
    expect(await run(['--', '--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: stabledrag <command>/);
    for (const cmd of ['drag', 'sample', 'info']) {
      const r = await run([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: stabledrag ${cmd}`));
    }
    expect((await run(['drag', '--help'])).stdout).toMatch(/never below r1 = 2, r2 = 6/);
    const unknown = await run(['dragg']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "dragg"/);
    const badOption = await run(['drag', '--pionts', '1,2:3,4', '--out', 'x.png']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--pionts/);
    expect((await run(['drag', '--model', 'reference', '--out', 'x.png'])).stderr).toMatch(/Say what to drag/);
    expect((await run([...DRAG])).stderr).toMatch(/would write nothing/);
    expect((await run([...DRAG, '--method', 'freedrag', '--json'])).stderr).toMatch(/--method must be one of stabledrag, draggan/);
    expect((await run([...DRAG, '--steps', '0', '--json'])).stderr).toMatch(/--steps must be at least 1/);
  });

  it('drags on the reference backend and writes the image, the before image, the GIF, the session and the JSON report', async () => {
    const dir = freshDir();
    const r = await run([...DRAG, '--steps', '100', '--out', 'out.png', '--before', 'before.png', '--gif', 'drag.gif', '--save-session', 's.json', '--json'], { cwd: dir });
    expect(r.stderr).toMatch(/converged in \d+ steps/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report).toMatchObject({ model: 'reference', modelName: 'gaussian-blobs', imageSize: [64, 64], stopReason: 'converged' });
    expect(report.steps).toBeGreaterThan(2);
    expect(report.distances[0]).toBeLessThanOrEqual(2);
    expect(Math.hypot(report.points[0]![0] - 34, report.points[0]![1] - 14)).toBeLessThanOrEqual(2);
    expect(report.settings).toMatchObject({ method: 'stabledrag', r1: 2, r2: 6, lr: 0.5, steps: 100, stopDistance: 2 });
    expect(report.history).toHaveLength(report.steps + 1);
    const h = report.history[0]!;
    expect(h.confidences).toHaveLength(1);
    expect(h.branches).toEqual(['motion']);
    expect(Object.keys(h.timings).sort()).toEqual(['backward', 'forward', 'optimizer', 'supervise', 'total', 'track']);
    expect(report.timings.meanStepMs.total).toBeGreaterThan(0);
    expect(report.outputs).toEqual({
      out: join(dir, 'out.png'), before: join(dir, 'before.png'), gif: join(dir, 'drag.gif'), saveSession: join(dir, 's.json'),
    });

    const out = decodePng(readFileSync(join(dir, 'out.png')), 'out');
    const before = decodePng(readFileSync(join(dir, 'before.png')), 'before');
    expect([out.width, out.height, before.width, before.height]).toEqual([64, 64, 64, 64]);
    // The blob moved: the image changed near the target.
    const at = (img: typeof out, x: number, y: number): number => img.data[4 * (y * 64 + x) + 1]!;
    expect(Math.abs(at(out, 34, 14) - at(before, 34, 14))).toBeGreaterThan(20);

    const gif = readFileSync(join(dir, 'drag.gif'));
    expect(gif.subarray(0, 6).toString()).toBe('GIF89a');
    // One frame per step; the converged step's frame is the final image, so none is added after it.
    expect(gifFrames(gif)).toBe(report.history.length);

    const session = parseSession(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')), 's.json');
    expect(session).toMatchObject({ model: 'reference', modelName: 'gaussian-blobs', seed: 0, result: { stopReason: 'converged' } });
    expect(session.initialPairs).toEqual([{ handle: { x: 22, y: 10 }, target: { x: 34, y: 14 } }]);
    expect(session.pairs[0]!.handle).toEqual({ x: report.points[0]![0], y: report.points[0]![1] });
    expect(readdirSync(dir).sort()).toEqual(['before.png', 'drag.gif', 'out.png', 's.json']);

    // Resume the saved session with a new pair: it starts from the edited latent.
    const p = report.points[0]!;
    const again = await run(['drag', '--session', 's.json', '--points', `${p[0]},${p[1]}:${p[0]},${p[1] + 12}`, '--out', 'again.png', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as DragReport;
    expect(second.stopReason).toBe('converged');
    expect(second.settings.steps).toBe(100);
    const resumedBefore = await run(['drag', '--session', 's.json', '--points', `${p[0]},${p[1]}:${p[0]},${p[1] + 12}`, '--before', 'b2.png', '--steps', '1'], { cwd: dir });
    expect(resumedBefore.code).toBe(0);
    expect([...decodePng(readFileSync(join(dir, 'b2.png')), 'b2').data]).toEqual([...out.data]);
    // A converged session has nothing left to drag unless new points are given.
    const stale = await run(['drag', '--session', 's.json', '--out', 'x.png'], { cwd: dir });
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/already within the stop distance/);
  });

  it('reads a task file with a mask relative to it, and lets flags override its steps', async () => {
    const dir = freshDir();
    const mask = { width: 64, height: 64, data: new Uint8Array(64 * 64).fill(1) };
    writeFileSync(join(dir, 'mask.png'), encodePng(maskToImage(mask)));
    writeFileSync(join(dir, 'task.json'), JSON.stringify({ name: 't1', model: 'reference', seed: 0, pairs: [{ handle: [22, 10], target: [34, 14] }], mask: 'mask.png', steps: 3 }));
    const r = await run(['drag', '--task', join(dir, 'task.json'), '--json', '--steps', '5'], { cwd: '/' });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report).toMatchObject({ task: 't1', model: 'reference', seed: 0, stopReason: 'max-steps', steps: 5 });
    expect((await run(['drag', '--task', join(dir, 'task.json'), '--points', '1,1:9,9', '--json'])).stderr).toMatch(/either with --points or in --task/);
    // A task's model folder is relative to the task file, not to the working folder.
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ model: 'models/mine', seed: 0, pairs: [{ handle: [22, 10], target: [34, 14] }] }));
    const missing = await run(['drag', '--task', join(dir, 'other.json'), '--json'], { cwd: '/' });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`No model folder at ${join(dir, 'models', 'mine')}`);
  });

  it('refuses to resume a session with another model', async () => {
    const dir = freshDir();
    expect((await run([...DRAG, '--steps', '2', '--save-session', 's.json', '--quiet'], { cwd: dir })).code).toBe(0);
    const r = await run(['drag', '--session', 's.json', '--model', 'tiny', '--out', 'o.png'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/saved with model "gaussian-blobs" but --model loads "tiny-random-32"/);
    expect((await run(['drag', '--session', 's.json', '--seed', '3', '--out', 'o.png'], { cwd: dir })).stderr).toMatch(/--session brings its own latent/);
  });

  it('refuses bad input with exit 2 before writing anything', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'small.png'), encodePng(maskToImage({ width: 32, height: 32, data: new Uint8Array(1024).fill(1) })));
    writeFileSync(join(dir, 'junk.png'), 'junk');
    writeFileSync(join(dir, 'task.json'), JSON.stringify({ model: 'reference', seed: 0, pairs: [{ handle: [22, 10], target: [34, 14] }] }));
    const cases: [string[], RegExp][] = [
      [[...DRAG.slice(0, 5), '--points', '22,10:70,14', '--out', 'o.png'], /Target 1 \(70, 14\) is outside the 64×64 image/],
      [[...DRAG.slice(0, 5), '--points=-1,10:30,14', '--out', 'o.png'], /Handle 1 \(-1, 10\) is outside/],
      [[...DRAG, '--mask', 'small.png', '--out', 'o.png'], /is 32×32 but the image is 64×64/],
      [[...DRAG, '--mask', 'junk.png', '--out', 'o.png'], /junk.png is not a readable PNG/],
      [[...DRAG, '--mask', 'nothere.png', '--out', 'o.png'], /Cannot read the mask/],
      [[...DRAG, '--mask', 'small.png', '--out', 'small.png'], /--out .*small.png is also an input/],
      // (--gif: --out would refuse the .json extension first.)
      [['drag', '--task', 'task.json', '--gif', 'task.json'], /--gif .*task.json is also an input/],
      [['drag', '--task', 'task.json', '--gif', join(unwritableDir(), 'x.gif')], /--gif: the folder .* is not writable/],
      [['drag', '--task', 'missing.json', '--out', 'o.png'], /Cannot read the task file/],
      [['drag', '--session', 'task.json', '--out', 'o.png'], /not a stabledrag session file/],
      [[...DRAG, '--out', 'o.png', '--gif', 'o.png'], /same file/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv, { cwd: dir });
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    }
    expect(readdirSync(dir).sort()).toEqual(['junk.png', 'small.png', 'task.json']);
    expect(readFileSync(join(dir, 'task.json'), 'utf8')).toMatch(/"seed":0/);
  });

  it('exits 3 when the model cannot be loaded', async () => {
    const dir = freshDir();
    const unknown = await run(['drag', '--model', join(dir, 'nope'), '--points', '1,1:9,9', '--out', 'o.png'], { cwd: dir });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/No model folder at .*nope/);
    expect((await run(['info', '--model', dir])).stderr).toMatch(/has no model\.json/);
    const broken = join(dir, 'broken');
    await import('node:fs/promises').then((fs) => fs.mkdir(broken));
    writeFileSync(
      join(broken, 'model.json'),
      JSON.stringify({ name: 'broken', resolution: 64, z_dim: 8, w_dim: 8, num_ws: 4, files: { synthesis: 'synthesis.onnx', mapping: 'mapping.onnx', w_avg: 'w_avg.bin' } }),
    );
    writeFileSync(join(broken, 'mapping.onnx'), 'not onnx');
    const overwrite = await run(['drag', '--model', broken, '--points', '1,1:9,9', '--gif', join(broken, 'mapping.onnx')]);
    expect(overwrite.code).toBe(2);
    expect(overwrite.stderr).toMatch(/mapping.onnx is also an input/);
    const notOnnx = await run(['drag', '--model', broken, '--points', '1,1:9,9', '--out', join(dir, 'o.png')]);
    expect(notOnnx.code).toBe(3);
    expect(readFileSync(join(broken, 'mapping.onnx'), 'utf8')).toBe('not onnx');
    rmSync(join(broken, 'mapping.onnx'));
    const missing = await run(['info', '--model', broken]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/model.json names "(mapping|synthesis).onnx"/);
    writeFileSync(join(broken, 'model.json'), '{ "name": ');
    expect((await run(['sample', '--model', broken, '--out', join(dir, 'g.png')])).code).toBe(3);
  });

  it('stops on the interrupt signal, still writes the last image and exits 130', async () => {
    const dir = freshDir();
    const controller = new AbortController();
    let tracks = 0;
    const createMethod: CliContext['createMethod'] = (name, settings) => {
      const m = realCreateMethod(name, settings);
      return {
        ...m,
        tracker: {
          name: 'counting',
          init: (f, h) => m.tracker.init(f, h),
          track: (f, c) => {
            if (++tracks === 3) controller.abort();
            return m.tracker.track(f, c);
          },
        },
      };
    };
    const r = await run([...DRAG, '--out', 'out.png', '--gif', 'd.gif', '--json'], { cwd: dir, signal: controller.signal, createMethod });
    expect(r.code).toBe(130);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report.stopReason).toBe('aborted');
    // Aborted during step 3: its backward pass is cancelled, so two updates were made.
    expect(report.steps).toBe(2);
    expect(r.stderr).toMatch(/interrupted after 2 steps/);
    expect(decodePng(readFileSync(join(dir, 'out.png')), 'out').width).toBe(64);
    // Two steps, then the final image of the interrupted drag.
    expect(report.history).toHaveLength(2);
    expect(gifFrames(readFileSync(join(dir, 'd.gif')))).toBe(3);
  });

  it('draws a progress bar on a terminal and plain lines elsewhere', async () => {
    const tty = new Sink(true);
    await main([...DRAG, '--steps', '12', '--stop-distance', '0.01', '--json'], { stdout: new Sink(), stderr: tty });
    expect(tty.text).toMatch(/\r\x1b\[2K\[#+-*\] 12\/12 {2}distance [\d.]+ px {2}confidence [\d.]+/);
    const plain = await run([...DRAG, '--steps', '12', '--stop-distance', '0.01', '--json']);
    expect(plain.stderr).not.toMatch(/\r/);
    expect(plain.stderr.match(/^step +\d+\/12/gm)).toEqual(['step  1/12', 'step 10/12', 'step 12/12']);
    const quiet = await run([...DRAG, '--steps', '3', '--json', '--quiet']);
    expect(quiet.stderr).toBe('');
  });

  it('samples seeds to a folder or a grid, and describes a model', async () => {
    const dir = freshDir();
    const files = await run(['sample', '--model', 'reference', '--seeds', '0-2,5', '--out', 'seeds', '--json', '--quiet'], { cwd: dir });
    expect(files.code).toBe(0);
    expect(readdirSync(join(dir, 'seeds'))).toEqual(['seed-0000.png', 'seed-0001.png', 'seed-0002.png', 'seed-0005.png']);
    expect(JSON.parse(files.stdout).seeds).toEqual([0, 1, 2, 5]);
    const grid = await run(['sample', '--model', 'reference', '--seeds', '0-3', '--out', 'grid.png', '--quiet'], { cwd: dir });
    expect(grid.code).toBe(0);
    const img = decodePng(readFileSync(join(dir, 'grid.png')), 'grid');
    expect([img.width, img.height]).toEqual([130, 130]);
    const seed1 = decodePng(readFileSync(join(dir, 'seeds', 'seed-0001.png')), 's1');
    // Seed 1 is the grid's top-right tile.
    expect([...img.data.subarray(4 * 66, 4 * (66 + 64))]).toEqual([...seed1.data.subarray(0, 4 * 64)]);
    expect((await run(['sample', '--model', 'reference', '--out', join(dir, 'seeds', 'seed-0000.png'), '--seeds', 'x'])).code).toBe(2);

    const info = await run(['info', '--model', 'reference', '--json']);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ model: 'reference', imageWidth: 64, featureShape: [8, 32, 32], defaultRadii: { r1: 2, r2: 6 } });
    expect((await run(['info', '--model', 'reference'])).stdout).toMatch(/^model +reference$/m);
  });
});
