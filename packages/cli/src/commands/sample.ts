import { mkdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { RgbaImage } from '@stabledrag/core';
import { checkOutputs, writeFileAtomic } from '../atomic-write.js';
import type { CliContext } from '../context.js';
import { ExitCode, usageError } from '../errors.js';
import type { ExitCodeValue } from '../errors.js';
import { resolveModelSpec } from '../models.js';
import { parseCommandLine } from '../parse-command-line.js';
import { parseBounded, parseSeeds } from '../parse-values.js';
import { encodeImage, imageFormatOf } from '../image-file.js';
import { encodePng } from '../png.js';

export const SAMPLE_HELP = `Usage: stabledrag sample --seeds <list> --out <dir|grid.png> [options]

Renders the images of seeds, to pick one to drag.

  --seeds <list>      seeds: "0-15", "7", "1,4,9-11" (default 0-15)
  --out <path>        a folder (one seed-0004.png per seed, numbered with 4 digits; created
                      if missing) or a .png/.jpg/.jpeg file (one grid image, seeds left to
                      right, top to bottom; a missing folder above it is created)
  --grid              insist on a grid: an --out that is not .png/.jpg/.jpeg is refused
                      instead of taken as a folder
  --columns <n>       grid columns (default: about the square root of the count)
  --model <dir|name>  model folder or name (default, tiny, reference); default: default
  --truncation <psi>  truncation ψ in (0, 1] (default: the model's)
  --json              print { seeds, files } on stdout
  --quiet             no progress output
  -h, --help          this help

Existing seed-NNNN.png files in the folder are replaced; nothing else there is touched.
`;

/** An --out with one of these extensions is a grid image, anything else a folder. */
const GRID_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

const OPTIONS = {
  seeds: { type: 'string' },
  out: { type: 'string' },
  grid: { type: 'boolean' },
  columns: { type: 'string' },
  model: { type: 'string' },
  truncation: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Tiles equally sized images into a grid with a 2-pixel dark gutter. */
export function makeGrid(images: readonly RgbaImage[], columns: number): RgbaImage {
  const first = images[0];
  if (!first) throw new Error('makeGrid needs at least one image.');
  const gap = 2;
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / cols);
  const width = cols * first.width + (cols - 1) * gap;
  const height = rows * first.height + (rows - 1) * gap;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[4 * i] = 24;
    data[4 * i + 1] = 24;
    data[4 * i + 2] = 24;
    data[4 * i + 3] = 255;
  }
  images.forEach((img, k) => {
    const ox = (k % cols) * (first.width + gap);
    const oy = Math.floor(k / cols) * (first.height + gap);
    for (let y = 0; y < img.height; y++) {
      const row = img.data.subarray(y * img.width * 4, (y + 1) * img.width * 4);
      data.set(row, ((oy + y) * width + ox) * 4);
    }
  });
  return { data, width, height };
}

export async function runSample(argv: readonly string[], ctx: CliContext): Promise<ExitCodeValue> {
  const { values } = parseCommandLine('sample', argv, OPTIONS);
  if (values.help) {
    ctx.stdout.write(SAMPLE_HELP);
    return ExitCode.OK;
  }
  if (values.out === undefined) throw usageError('sample needs --out: a folder for one PNG per seed, or grid.png for one grid image.');
  const seeds = parseSeeds(values.seeds ?? '0-15');
  const truncation = values.truncation === undefined ? undefined : parseBounded(values.truncation, '--truncation', { above: 0, max: 1 });
  const out = resolve(ctx.cwd, values.out);
  const grid = values.grid === true || GRID_EXTENSIONS.includes(extname(out).toLowerCase());
  const gridFormat = grid ? imageFormatOf(out, '--out') : undefined;
  const columns = values.columns === undefined ? Math.ceil(Math.sqrt(seeds.length)) : parseBounded(values.columns, '--columns', { integer: true, min: 1 });

  const files = grid ? [out] : seeds.map((s) => join(out, `seed-${String(s).padStart(4, '0')}.png`));
  if (!grid) {
    const info = await stat(out).catch(() => null);
    if (info && !info.isDirectory()) throw usageError(`--out ${out} is a file; give a folder, or a .png name for a grid.`);
    await mkdir(out, { recursive: true }).catch((error: Error) => {
      throw usageError(`--out: cannot create the folder ${out}: ${error.message}`, error);
    });
  }
  await checkOutputs(files.slice(0, 1).map((path) => ({ option: '--out', path })), []);

  const model = await ctx.loadModel(resolveModelSpec(values.model, ctx.cwd));
  try {
    const images: RgbaImage[] = [];
    const written: string[] = [];
    const rendered: number[] = [];
    for (const [k, seed] of seeds.entries()) {
      await new Promise((resolve) => setImmediate(resolve)); // lets a SIGINT be seen
      if (ctx.signal?.aborted) break;
      const latent = await model.latentFromSeed(seed, truncation);
      const image = await model.backend.render(latent);
      rendered.push(seed);
      if (grid) {
        images.push(image);
      } else {
        await writeFileAtomic(files[k]!, encodePng(image));
        written.push(files[k]!);
      }
      if (!values.quiet) ctx.stderr.write(`seed ${seed} (${k + 1}/${seeds.length})\n`);
    }
    // Ctrl-C: the images rendered so far are still written (a partial grid).
    if (grid && images.length > 0) {
      await writeFileAtomic(out, encodeImage(makeGrid(images, columns), gridFormat!));
      written.push(out);
    }
    if (values.json) {
      const report = { model: model.spec, seeds: rendered, ...(truncation !== undefined ? { truncation } : {}), files: written };
      ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    }
    return ctx.signal?.aborted ? ExitCode.INTERRUPTED : ExitCode.OK;
  } finally {
    await model.dispose();
  }
}
