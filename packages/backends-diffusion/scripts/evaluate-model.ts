/**
 * Evidence for the embedded diffusion model, run on its ONNX export through this package's own API
 * (the torch checkpoint is gone, so tools/diffusion/evaluate.py can no longer run):
 *
 *   pnpm --filter @stabledrag/backends-diffusion exec tsx --conditions=@stabledrag/source \
 *     scripts/evaluate-model.ts [--model DIR] [--out DIR] [--grid PNG] [--renders DIR] [--threads N]
 *
 * - 16 samples: DDIM 50 steps, η = 0, empty prompt, z_T ~ N(0, I) from seeds 0…15 (the same
 *   stream as `createLatent({ type: 'seed' })`), VAE-decoded, as a 4×4 grid.
 * - DragDiffusion's inversion round trip: z_0 = VAE mean × scaling factor, DDIM inversion over the
 *   first 35 of 50 steps (t = 1, 21, …, 681), DDIM denoising 681 → 1, decode; PSNR against the
 *   input, beside the VAE-only PSNR (encode, decode) that bounds it. On held-out faces2 renders
 *   (`/usr/bin/python3 tools/diffusion/render_heldout.py`) and the bench's three photos.
 * - Times: one UNet call, one VAE encode and decode (medians), one whole round trip.
 *
 * Relative paths resolve from the repository root (pnpm --filter runs in the package folder).
 * Writes summary.json and PNGs to --out; prints the summary.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pngjs from 'pngjs';
import { createNormalRng } from '@stabledrag/core';
import type { RgbaImage } from '@stabledrag/core';
import { decodeImage, embeddedModelDir, loadDiffusionBackend } from '@stabledrag/backends-diffusion/node';
import type { DiffusionBackend } from '@stabledrag/backends-diffusion/node';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PHOTOS = ['astronaut', 'chelsea', 'coffee'];
const SAMPLE_SEEDS = 16;
const TIMING_CALLS = 10;

interface RoundTrip {
  readonly name: string;
  readonly input: RgbaImage;
  readonly vaeOnly: RgbaImage;
  readonly roundTrip: RgbaImage;
  readonly psnr: number;
  readonly vaePsnr: number;
  readonly seconds: number;
}

function options() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: embeddedModelDir },
      out: { type: 'string', default: 'tools/.cache/diffusion/eval' },
      grid: { type: 'string' },
      renders: { type: 'string', default: 'tools/.cache/diffusion/heldout' },
      photos: { type: 'string', default: 'apps/bench/tasks-diffusion/photos' },
      // One thread: on the shared machine two were slower (tools/diffusion/README.md).
      threads: { type: 'string', default: '1' },
    },
  });
  const path = (p: string): string => resolve(ROOT, p);
  return {
    model: path(values.model),
    out: path(values.out),
    grid: values.grid === undefined ? undefined : path(values.grid),
    renders: path(values.renders),
    photos: path(values.photos),
    threads: Number(values.threads),
  };
}

/** PSNR over RGB of two RGBA8 images, peak 255 (= evaluate.py's peak 2 on [−1, 1]). */
function psnr(a: RgbaImage, b: RgbaImage): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a.data[i + c]! - b.data[i + c]!;
      sum += d * d;
      n++;
    }
  }
  return 10 * Math.log10((255 * 255) / (sum / n));
}

/** Images tiled row by row, `cols` per row, all of the first image's size. */
function tile(images: readonly RgbaImage[], cols: number): RgbaImage {
  const { width: w, height: h } = images[0]!;
  const rows = Math.ceil(images.length / cols);
  const width = cols * w;
  const data = new Uint8ClampedArray(width * rows * h * 4);
  images.forEach((img, k) => {
    const x0 = (k % cols) * w;
    const y0 = Math.floor(k / cols) * h;
    for (let y = 0; y < h; y++) data.set(img.data.subarray(y * w * 4, (y + 1) * w * 4), ((y0 + y) * width + x0) * 4);
  });
  return { data, width, height: rows * h };
}

async function writePng(path: string, image: RgbaImage): Promise<void> {
  const png = new pngjs.PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  await mkdir(resolve(path, '..'), { recursive: true });
  await writeFile(path, pngjs.PNG.sync.write(png));
}

async function readPng(path: string): Promise<RgbaImage> {
  return decodeImage(new Uint8Array(await readFile(path)), path);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function seconds<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await f();
  return [value, (performance.now() - t0) / 1000];
}

/** x_0 of one seed: DDIM over all 50 timesteps from z_T ~ N(0, I). */
async function sample(backend: DiffusionBackend, seed: number): Promise<RgbaImage> {
  const normal = createNormalRng(seed);
  let z: Float32Array = Float32Array.from({ length: backend.info.optimizedSize }, () => normal());
  for (const t of backend.scheduler.timesteps) z = backend.scheduler.step(await backend.predictNoise(z, t), t, z).latent;
  return backend.decode(z);
}

/**
 * The round trip as a drag without edits renders it: createLatent inverts to t = 681, denoise
 * (plain DDIM: with mutual self-attention both branches would be this same z_t) goes back.
 */
async function roundTrip(backend: DiffusionBackend, name: string, input: RgbaImage): Promise<RoundTrip> {
  const vaeOnly = await backend.decode((await backend.encodeImage(input)).z0);
  const [image, secs] = await seconds(async () => {
    const latent = await backend.createLatent({ type: 'image', image: input });
    return backend.decode(await backend.denoise(latent, { mutualSelfAttention: false }));
  });
  return { name, input, vaeOnly, roundTrip: image, psnr: psnr(image, input), vaePsnr: psnr(vaeOnly, input), seconds: secs };
}

async function timings(backend: DiffusionBackend, image: RgbaImage) {
  const normal = createNormalRng(1234);
  const z = Float32Array.from({ length: backend.info.optimizedSize }, () => normal());
  const unet: number[] = [];
  const encode: number[] = [];
  const decode: number[] = [];
  for (let i = 0; i < TIMING_CALLS + 2; i++) {
    // The first two calls of a session pay for allocation and are left out.
    const [, u] = await seconds(() => backend.predictNoise(z, backend.editTimestep));
    const [enc, e] = await seconds(() => backend.encodeImage(image));
    const [, d] = await seconds(() => backend.decode(enc.z0));
    if (i >= 2) {
      unet.push(u * 1000);
      encode.push(e * 1000);
      decode.push(d * 1000);
    }
  }
  const stats = (xs: number[]) => ({ medianMs: median(xs), minMs: Math.min(...xs), calls: xs.length });
  return { unet: stats(unet), vaeEncode: stats(encode), vaeDecode: stats(decode) };
}

async function renders(dir: string): Promise<{ name: string; image: RgbaImage }[]> {
  if (!existsSync(dir)) {
    throw new Error(`No held-out renders at ${dir}. Make them first: /usr/bin/python3 tools/diffusion/render_heldout.py --n 16 --out ${dir}`);
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
  return Promise.all(files.map(async (f) => ({ name: f, image: await readPng(join(dir, f)) })));
}

function summarise(trips: readonly RoundTrip[]) {
  const p = trips.map((r) => r.psnr);
  const v = trips.map((r) => r.vaePsnr);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: trips.length,
    psnrMean: round(p.reduce((a, b) => a + b, 0) / p.length),
    psnrMin: round(Math.min(...p)),
    vaePsnrMean: round(v.reduce((a, b) => a + b, 0) / v.length),
    vaePsnrMin: round(Math.min(...v)),
    perImage: Object.fromEntries(trips.map((r) => [r.name, { psnr: round(r.psnr), vaePsnr: round(r.vaePsnr) }])),
  };
}

async function main(): Promise<void> {
  const opts = options();
  const held = await renders(opts.renders);
  const photos = await Promise.all(PHOTOS.map(async (name) => ({ name, image: await readPng(join(opts.photos, `${name}.png`)) })));
  const [backend, loadSeconds] = await seconds(() => loadDiffusionBackend({ modelDir: opts.model, sessionOptions: { intraOpNumThreads: opts.threads } }));
  try {
    const timing = await timings(backend, photos[0]!.image);
    const [samples, sampleSeconds] = await seconds(async () => {
      const out: RgbaImage[] = [];
      for (let seed = 0; seed < SAMPLE_SEEDS; seed++) out.push(await sample(backend, seed));
      return out;
    });
    const grid = tile(samples, 4);
    await writePng(join(opts.out, 'samples.png'), grid);
    if (opts.grid) await writePng(opts.grid, grid);

    const heldTrips: RoundTrip[] = [];
    for (const r of held) heldTrips.push(await roundTrip(backend, r.name, r.image));
    const photoTrips: RoundTrip[] = [];
    for (const p of photos) photoTrips.push(await roundTrip(backend, p.name, p.image));
    // Renders: one column per render, rows input / VAE only / round trip; photos: one row each.
    await writePng(join(opts.out, 'inversion-held_out_renders.png'), tile([...heldTrips.map((r) => r.input), ...heldTrips.map((r) => r.vaeOnly), ...heldTrips.map((r) => r.roundTrip)], heldTrips.length));
    await writePng(join(opts.out, 'inversion-photos.png'), tile(photoTrips.flatMap((r) => [r.input, r.vaeOnly, r.roundTrip]), 3));

    const trips = [...heldTrips, ...photoTrips];
    const summary = {
      date: new Date().toISOString(),
      model: opts.model,
      name: backend.config.name,
      scalingFactor: backend.config.scalingFactor,
      threads: opts.threads,
      editTimestep: backend.editTimestep,
      inversionTimesteps: [backend.scheduler.inversionTimesteps(backend.config.inversionStrength).at(0), backend.scheduler.inversionTimesteps(backend.config.inversionStrength).at(-1)],
      held_out_renders: summarise(heldTrips),
      photos: summarise(photoTrips),
      target: { heldOutPsnrDb: 25, met: Math.min(...heldTrips.map((r) => r.psnr)) >= 25, meanMet: summarise(heldTrips).psnrMean >= 25 },
      times: {
        loadSeconds: loadSeconds,
        ...timing,
        roundTripSeconds: { median: median(trips.map((r) => r.seconds)), min: Math.min(...trips.map((r) => r.seconds)), unetCalls: 70, what: 'encode + 35 inversion + 35 denoising UNet calls + decode' },
        samplesSeconds: { total: sampleSeconds, perSample: sampleSeconds / SAMPLE_SEEDS, unetCallsPerSample: backend.scheduler.timesteps.length },
      },
      files: { grid: opts.grid ?? join(opts.out, 'samples.png'), out: opts.out },
    };
    await writeFile(join(opts.out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
    console.log(JSON.stringify(summary, null, 1));
  } finally {
    await backend.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
