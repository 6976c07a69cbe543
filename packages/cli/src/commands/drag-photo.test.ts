import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedModelDir, layoutModelDir } from '@stabledrag/backends-diffusion/node';
import { loadModel as loadOnnx, serializeModel } from '@stabledrag/onnx-autograd';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs } from '../__fixtures__/dirs.js';
import { writePhotoJpeg, writePhotoPng } from '../__fixtures__/photos.js';
import { runMain, Sink } from '../__fixtures__/run-main.js';
import { main } from '../main.js';
import { decodePng } from '../png.js';
import { fitPhoto, readPhotoFile } from '../read-photo.js';
import { parseSession } from '../session-file.js';
import type { DragReport } from './drag.js';

afterAll(removeFreshDirs);

// The layout test model takes 64×64 photos; its features are at 32×32 (half the image side).
const TINY = ['drag', '--model', 'diffusion-tiny'];
const POINTS = ['--points', '30,30:38,30'];
const FEW = ['--steps', '3', '--lora-steps', '0'];
// Loading the tiny model, inversion and denoise take seconds on a loaded 2-core machine.
const SLOW = 600_000;

/** Frames of a GIF = graphic control extensions (0x21 0xF9 0x04), one before each image. */
function gifFrames(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0x21 && bytes[i + 1] === 0xf9 && bytes[i + 2] === 0x04) n++;
  return n;
}

describe('stabledrag drag --image on a diffusion model', () => {
  it('drags a photo with StableDrag and DragDiffusion: model-size PNGs, the fitted photo as --before, a report with stages', { timeout: SLOW }, async () => {
    const dir = freshDir();
    const photo = writePhotoPng(dir, 'photo.png', 96, 80);
    const reports: DragReport[] = [];
    for (const method of ['stabledrag', 'dragdiffusion']) {
      const out = join(dir, `${method}.png`);
      const before = join(dir, `${method}-before.png`);
      // The baseline also inverts less deep (--inversion-strength 0.5: 25 of 50 DDIM steps instead of 35).
      const strength = method === 'dragdiffusion' ? ['--inversion-strength', '0.5'] : [];
      const r = await runMain([...TINY, '--image', photo, ...POINTS, ...FEW, '--method', method, ...strength, '--out', out, '--before', before, '--json']);
      expect(r.code, r.stderr).toBe(0);
      // One notice line says the photo was cropped and resized.
      const notices = r.stderr.split('\n').filter((l) => l.startsWith('notice:'));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/cropped to its centred 80×80 square\. The 80×80 image was resized to the model's 64×64\./);
      const inverted = method === 'dragdiffusion' ? 25 : 35;
      expect(r.stderr).toMatch(new RegExp(`DDIM inversion ${inverted}/${inverted}\n`));
      expect(r.stderr).toMatch(new RegExp(`denoise ${inverted}/${inverted}\n`));
      const image = decodePng(readFileSync(out), out);
      expect([image.width, image.height]).toEqual([64, 64]);
      const fitted = await fitPhoto(await readPhotoFile(photo), 64);
      expect(decodePng(readFileSync(before), before).data).toEqual(fitted.image.data);
      reports.push(JSON.parse(r.stdout) as DragReport);
    }
    const [stable, baseline] = reports as [DragReport, DragReport];
    expect(stable.method).toMatch(/^stabledrag \(discriminative tracking, confident supervision\)/);
    expect(baseline.method).toBe('dragdiffusion (nearest-neighbour tracking, motion supervision)');
    expect(stable.settings.inversionStrength).toBe(0.7);
    expect(baseline.settings.inversionStrength).toBe(0.5);
    for (const report of reports) {
      expect(report).toMatchObject({ model: 'diffusion-tiny', modelName: 'sd15-layout-tiny', imageSize: [64, 64], steps: 3, loraSteps: 0 });
      expect(report.image).toMatchObject({ originalSize: [96, 80] });
      // DragDiffusion's r_m = 1 and r_p = 3 feature pixels are 2 and 6 image pixels; lr 0.01 on z_t.
      expect(report.settings).toMatchObject({ steps: 3, lr: 0.01, r1: 2, r2: 6, loraSteps: 0 });
      expect(Object.keys(report.timings.stagesMs)).toEqual(expect.arrayContaining(['load', 'encode', 'invert', 'drag', 'denoise', 'decode']));
      expect(report.timings.stagesMs.lora).toBeUndefined();
      expect(report.timings.stagesMs.invert).toBeGreaterThan(0);
      expect(report.history).toHaveLength(3);
    }
    // The baseline supervises every handle with plain motion supervision; StableDrag's first step is motion too, but its
    // tracker is the discriminative one, so the two drags differ.
    expect(baseline.history.every((h) => h.branches.every((b) => b === 'motion'))).toBe(true);
    expect(readFileSync(join(dir, 'stabledrag.png'))).not.toEqual(readFileSync(join(dir, 'dragdiffusion.png')));
  });

  it('defaults the drag steps from model.json: 60 for StableDrag, 80 for DragDiffusion', { timeout: SLOW }, async () => {
    const dir = freshDir();
    const photo = writePhotoJpeg(dir, 'photo.jpg', 64, 64);
    // A target beyond reach with a tiny lr: the drag runs to its step limit, which is the default under test.
    const r = await runMain([...TINY, '--image', photo, '--points', '10,10:60,60', '--lora-steps', '0', '--lr', '1e-9', '--method', 'draggan', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/notice:/);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report.settings.steps).toBe(80);
    expect(report.stopReason).toBe('max-steps');
    const help = await runMain(['drag', '--help']);
    expect(help.stdout).toMatch(/DragDiffusion 80, StableDrag 60/);
  });

  it('fine-tunes LoRA first, renders a GIF frame every --gif-every steps, and resumes a saved session with its adapters', { timeout: SLOW }, async () => {
    const dir = freshDir();
    const photo = writePhotoPng(dir, 'photo.png', 64, 64);
    const plain = join(dir, 'plain.png');
    expect((await runMain([...TINY, '--image', photo, ...POINTS, ...FEW, '--out', plain, '--quiet'])).code).toBe(0);

    const out = join(dir, 'lora.png');
    const gif = join(dir, 'drag.gif');
    const saved = join(dir, 'session.json');
    const r = await runMain([...TINY, '--image', photo, ...POINTS, '--steps', '4', '--lora-steps', '2', '--gif', gif, '--gif-every', '2', '--out', out, '--save-session', saved, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/LoRA fine-tuning 1\/2 .*loss/);
    expect(r.stderr).toMatch(/LoRA fine-tuning 2\/2/);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report.loraSteps).toBe(2);
    expect(report.timings.stagesMs.lora).toBeGreaterThan(0);
    expect(report.timings.stagesMs.gif).toBeGreaterThan(0);
    // LoRA changes the UNet, so the same drag gives another image.
    expect(readFileSync(out)).not.toEqual(readFileSync(plain));
    // Frames: the photo, steps 2 and 4, and the final image.
    expect(gifFrames(readFileSync(gif))).toBe(4);

    const session = parseSession(JSON.parse(readFileSync(saved, 'utf8')), saved);
    expect(session).toMatchObject({ model: 'diffusion-tiny', modelName: 'sd15-layout-tiny', image: photo, settings: { loraSteps: 2, steps: 4 } });
    expect(session.lora?.adapters.length).toBeGreaterThan(0);
    // z_t (optimised) and the source z_t (for mutual self-attention) are both kept, and differ after the drag.
    expect(session.latent.frozen).toHaveLength(4 * 16 * 16);
    expect(session.latent.optimized).not.toEqual(session.latent.frozen);

    const again = await runMain(['drag', '--session', saved, '--steps', '1', '--out', join(dir, 'again.png'), '--json']);
    expect(again.code, again.stderr).toBe(0);
    const resumed = JSON.parse(again.stdout) as DragReport;
    expect(resumed.loraSteps).toBe(2);
    expect(resumed.timings.stagesMs.lora).toBeUndefined();
    expect(resumed.timings.stagesMs.invert).toBeUndefined();
    expect(resumed.pairs.map((p) => p.handle)).toEqual(report.points);

    const refused = await runMain(['drag', '--session', saved, '--lora-steps', '3', '--out', join(dir, 'x.png')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--session brings the LoRA adapters it was saved with/);
  });

  it('stops at once on Ctrl-C during inversion: exit 130, nothing written', { timeout: SLOW }, async () => {
    const dir = freshDir();
    const photo = writePhotoPng(dir, 'photo.png', 64, 64);
    const controller = new AbortController();
    const stderr = new (class extends Sink {
      override write(s: string): boolean {
        if (/DDIM inversion +1\//.test(s)) controller.abort(new Error('Interrupted by Ctrl-C'));
        return super.write(s);
      }
    })();
    const out = join(dir, 'out.png');
    const code = await main([...TINY, '--image', photo, ...POINTS, ...FEW, '--out', out], { stdout: new Sink(), stderr, signal: controller.signal });
    expect(code).toBe(130);
    expect(stderr.text).toMatch(/stabledrag: Interrupted during DDIM inversion; nothing was written\.\n$/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('stabledrag drag --image on a GAN model', () => {
  it('projects the photo into the GAN first, with progress, then drags it', { timeout: SLOW }, async () => {
    const dir = freshDir();
    const photo = writePhotoJpeg(dir, 'photo.jpg', 48, 48);
    const before = join(dir, 'before.png');
    const out = join(dir, 'out.png');
    const r = await runMain(['drag', '--model', 'tiny', '--image', photo, '--points', '10,10:16,10', '--steps', '2', '--before', before, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/notice: .*resized to the model's 32×32/);
    expect(r.stderr).toMatch(/GAN projection 200\/200 +PSNR \d+\.\d dB/);
    const report = JSON.parse(r.stdout) as DragReport;
    expect(report.imageSize).toEqual([32, 32]);
    expect(report.timings.stagesMs.project).toBeGreaterThan(0);
    expect(report.loraSteps).toBeUndefined();
    const fitted = await fitPhoto(await readPhotoFile(photo), 32);
    expect(decodePng(readFileSync(before), before).data).toEqual(fitted.image.data);
    expect(decodePng(readFileSync(out), out).width).toBe(32);
  });
});

describe('stabledrag drag --image: bad input', () => {
  it('refuses bad photos and options with one-line usage errors (exit 2), before LoRA or inversion', async () => {
    const dir = freshDir();
    const photo = writePhotoPng(dir, 'photo.png', 64, 64);
    writeFileSync(join(dir, 'notes.png'), 'not a picture');
    const cases: [string[], RegExp][] = [
      [['--image', join(dir, 'missing.png'), ...POINTS, '--out', 'o.png'], /--image .*missing\.png: no such file/],
      [['--image', join(dir, 'notes.png'), ...POINTS, '--out', 'o.png'], /neither a PNG nor a JPEG/],
      [['--image', photo, '--out', 'o.png'], /Say what to drag on the photo: --points/],
      [['--image', photo, '--seed', '3', ...POINTS, '--out', 'o.png'], /--image starts from the photo; --seed/],
      [['--image', photo, ...POINTS, '--out', photo], /--out .* is also an input/],
      [['--image', photo, ...POINTS, '--method', 'freedrag', '--out', 'o.png'], /--method must be one of stabledrag, draggan \(or dragdiffusion/],
      [['--image', photo, ...POINTS, '--lora-steps', '-1', '--out', 'o.png'], /--lora-steps/],
      [['--image', photo, ...POINTS, '--inversion-strength', '1.5', '--out', 'o.png'], /--inversion-strength/],
      [['--image', photo, '--points', '30,30:90,30', '--lora-steps', '0', '--out', 'o.png'], /outside the 64×64 image/],
    ];
    for (const [argv, message] of cases) {
      const r = await runMain(['drag', '--model', 'diffusion-tiny', ...argv], { cwd: dir });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^stabledrag: /);
    }
    const gan = await runMain(['drag', '--model', 'reference', '--seed', '0', '--points', '22,10:34,14', '--lora-steps', '2', '--out', 'o.png'], { cwd: dir });
    expect(gan.code).toBe(2);
    expect(gan.stderr).toMatch(/--lora-steps applies to diffusion models; reference is not one/);
    const deep = await runMain(['drag', '--model', 'reference', '--seed', '0', '--points', '22,10:34,14', '--inversion-strength', '0.5', '--out', 'o.png'], { cwd: dir });
    expect(deep.code).toBe(2);
    expect(deep.stderr).toMatch(/--inversion-strength applies to diffusion models/);
  });

  it('refuses incomplete and "optimized" diffusion folders with model errors (exit 3) and overwrites nothing', { timeout: SLOW }, async () => {
    const dir = freshDir();
    const photo = writePhotoPng(dir, 'photo.png', 64, 64);
    const out = join(dir, 'out.png');
    writeFileSync(out, 'keep me');

    const incomplete = join(dir, 'incomplete');
    cpSync(layoutModelDir, incomplete, { recursive: true });
    rmSync(join(incomplete, 'unet'), { recursive: true });
    const a = await runMain(['drag', '--model', incomplete, '--image', photo, ...POINTS, ...FEW, '--out', out]);
    expect(a.code).toBe(3);
    expect(a.stderr).toMatch(/^stabledrag: Cannot load .*incomplete: .*is incomplete: unet\/model\.onnx is missing/);

    const optimized = join(dir, 'optimized');
    cpSync(layoutModelDir, optimized, { recursive: true });
    const file = join(optimized, 'vae_decoder', 'model.onnx');
    const model = loadOnnx(new Uint8Array(readFileSync(file)));
    model.graph.nodes[0] = { ...model.graph.nodes[0]!, opType: 'GroupNorm', domain: 'com.microsoft', name: '/decoder/GroupNorm' };
    writeFileSync(file, serializeModel(model));
    const b = await runMain(['drag', '--model', optimized, '--image', photo, ...POINTS, ...FEW, '--out', out]);
    expect(b.code).toBe(3);
    expect(b.stderr).toMatch(/uses the com\.microsoft op GroupNorm .*without optimisation/);
    expect(b.stderr.trimEnd().split('\n')).toHaveLength(1);

    const none = await runMain(['drag', '--model', join(dir, 'no-such-model'), '--image', photo, ...POINTS, '--out', out]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/No model folder at .*no-such-model/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });

});

describe('stabledrag drag --image without --model', () => {
  it('drags a photo on the embedded diffusion model by default, both methods', { timeout: SLOW }, async () => {
    expect(existsSync(join(embeddedModelDir, 'model.json')), `the embedded model is missing at ${embeddedModelDir}`).toBe(true);
    const dir = freshDir();
    const photo = writePhotoPng(dir, 'photo.png', 128, 128);
    for (const method of ['stabledrag', 'dragdiffusion']) {
      const out = join(dir, `${method}.png`);
      const r = await runMain(['drag', '--image', photo, '--points', '60,64:66,64', '--steps', '2', '--lora-steps', '0', '--method', method, '--json', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as DragReport & { modelName: string };
      expect(report.modelName).toBe('sd-embedded');
      expect(report.steps).toBe(2);
      const png = decodePng(readFileSync(out), out);
      expect([png.width, png.height]).toEqual([128, 128]);
    }
  });
});
