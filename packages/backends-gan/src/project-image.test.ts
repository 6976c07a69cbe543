import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createNormalRng } from '@stabledrag/core';
import { expectAllClose } from '@stabledrag/core/conformance';
import { buildImageGradientGraphs } from './build-gradient-graphs.js';
import { parseModelConfig } from './model-config.js';
import { multiScaleMse, projectionLr } from './project-image.js';
import { defaultModelDir, loadGanBackend } from './node.js';

const importedDir = fileURLToPath(new URL('../models/imported-tiny/', import.meta.url));

describe('multi-scale pixel MSE', () => {
  it('has the gradient of its loss (central finite differences)', () => {
    const n = createNormalRng(4);
    const a = Float32Array.from({ length: 3 * 32 * 32 }, () => n());
    const b = Float32Array.from({ length: a.length }, () => n());
    const { loss, grad } = multiScaleMse(a, b, 3, 32);
    expect(loss).toBeGreaterThan(0);
    for (const i of [0, 77, 1500, 3071]) {
      const h = 1e-2;
      const ap = Float32Array.from(a);
      const am = Float32Array.from(a);
      ap[i]! += h;
      am[i]! -= h;
      const fd = (multiScaleMse(ap, b, 3, 32).loss - multiScaleMse(am, b, 3, 32).loss) / (2 * h);
      expect(grad[i]!).toBeCloseTo(fd, 6);
    }
    // scales 32, 16, 8: a constant offset d counts once per scale
    const c = Float32Array.from(a, (x) => x + 0.5);
    expect(multiScaleMse(c, a, 3, 32).loss).toBeCloseTo(3 * 0.25, 6);
  });

  it('follows the projector schedule: warm-up, plateau, cosine ramp-down to zero', () => {
    expect(projectionLr(0, 1)).toBe(0);
    expect(projectionLr(0.5, 1)).toBeCloseTo(1, 12);
    expect(projectionLr(0.875, 1)).toBeCloseTo(0.5, 12);
    expect(projectionLr(1, 1)).toBeCloseTo(0, 12);
  });
});

describe('image VJP of an imported StyleGAN2', () => {
  it('matches PyTorch autograd of <image, u> w.r.t. W+', async () => {
    const golden = JSON.parse(readFileSync(new URL('./__fixtures__/imported-tiny-golden.json', import.meta.url), 'utf8')) as {
      num_ws: number;
      w_dim: number;
      cases: { name: string; w_rows: number[][]; ws_row_source: number[] }[];
      vjp: { case: string; image_grad_ws: number[] };
    };
    const config = parseModelConfig(JSON.parse(readFileSync(join(importedDir, 'model.json'), 'utf8')));
    const g = buildImageGradientGraphs(new Uint8Array(readFileSync(join(importedDir, 'synthesis.onnx'))), config);
    const fwd = await ort.InferenceSession.create(g.forward);
    const bwd = await ort.InferenceSession.create(g.backward);
    const c = golden.cases.find((x) => x.name === golden.vjp.case)!;
    const ws = new Float32Array(golden.num_ws * golden.w_dim);
    c.ws_row_source.forEach((src, r) => ws.set(c.w_rows[src]!, r * golden.w_dim));
    const wsT = new ort.Tensor('float32', ws, [1, golden.num_ws, golden.w_dim]);
    const out = await fwd.run({ ws: wsT }, g.forwardOutputs);
    const u = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.cos(0.05 * i));
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of g.backwardInputs) feeds[name] = name === g.cotangent ? new ort.Tensor('float32', u, [1, 3, 64, 64]) : name === 'ws' ? wsT : out[name]!;
    const res = await bwd.run(feeds, [g.gradient]);
    const scale = Math.max(...golden.vjp.image_grad_ws.map(Math.abs));
    expectAllClose(res[g.gradient]!.data as Float32Array, golden.vjp.image_grad_ws, { atol: 1e-4 * scale, rtol: 1e-3 });
    await Promise.all([fwd.release(), bwd.release()]);
  });
});

describe("createLatent({ type: 'image' }): projection to W+", () => {
  it('recovers an image the default generator made (PSNR ≥ 28 dB from 12 dB at w_avg in 100 steps)', async () => {
    // 100 steps: the faces2wk2thstx default (7 Dec 2026, fifth session) measured 27.8 dB at 60, 30.5
    // at 100, 31.8 at 150 along a 150-step run on this target (seed 3); faces2wk2thst 27.5 / 29.2 /
    // 29.9, when the threshold went from 30 to 28 dB (tools/README.md, "Styled blobs at 64 and 128
    // px": an exception to that run's adoption rule). Over seeds 3-7 at 100 steps faces2wk2thstx
    // averages 31.7 dB against faces2wk2thst's 32.7 (seeds 4 and 7 slower, 3 faster)
    const backend = await loadGanBackend({ modelDir: defaultModelDir });
    const target = await backend.render(await backend.createLatent({ type: 'seed', seed: 3, truncation: 0.7 }));
    const seen: number[] = [];
    const latent = await backend.createLatent({ type: 'image', image: target }, { steps: 100, onProgress: (p) => seen.push(p.psnr) });
    expect(seen).toHaveLength(100);
    expect(seen[0]!).toBeLessThan(20);
    const meta = latent.meta as { projected: { psnr: number } };
    expect(meta.projected.psnr).toBeGreaterThanOrEqual(28);
    // the returned latent renders the image it reports
    const img = await backend.render(latent);
    let se = 0;
    for (let i = 0; i < img.data.length; i++) if (i % 4 !== 3) se += (img.data[i]! - target.data[i]!) ** 2;
    const psnr8 = 10 * Math.log10(255 ** 2 / (se / ((img.data.length * 3) / 4)));
    expect(psnr8).toBeGreaterThanOrEqual(27);
    expect(latent.optimized.length).toBe(backend.info.optimizedSize);
    await backend.dispose();
  });

  it('reports progress, stops on abort and refuses an image of the wrong size', async () => {
    const backend = await loadGanBackend({ modelDir: importedDir });
    const target = await backend.render(await backend.createLatent({ type: 'seed', seed: 1 }));
    const controller = new AbortController();
    let steps = 0;
    await expect(
      backend.createLatent({ type: 'image', image: target }, { steps: 50, signal: controller.signal, onProgress: (p) => (++steps === 3 ? controller.abort(new Error('stop')) : undefined) }),
    ).rejects.toThrow('stop');
    expect(steps).toBe(3);
    const r = await backend.projectImage(target, { steps: 20 });
    expect(r.psnr).toBeGreaterThan(15);
    await expect(backend.createLatent({ type: 'image', image: { data: new Uint8ClampedArray(4 * 10 * 10), width: 10, height: 10 } })).rejects.toThrow(
      /The image is 10×10; model "imported-tiny-64" projects 64×64 images/,
    );
    await backend.dispose();
  });
});
