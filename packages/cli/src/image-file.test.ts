import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '@stabledrag/core';
import { freshDir, removeFreshDirs } from './__fixtures__/dirs.js';
import { runMain } from './__fixtures__/run-main.js';
import { encodeImage, imageFormatOf } from './image-file.js';
import { decodePng } from './png.js';

afterAll(removeFreshDirs);

/** A smooth opaque test image (JPEG is meant for such pictures, not for noise). */
function smooth(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([(255 * x) / width, (255 * y) / height, 128 + 60 * Math.sin(x / 5), 255], 4 * (y * width + x));
  }
  return { data, width, height };
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue; // JPEG has no alpha
    sum += Math.abs(a[i]! - b[i]!);
    n++;
  }
  return sum / n;
}

const DRAG = ['drag', '--model', 'reference', '--seed', '0', '--points', '22,10:34,14', '--steps', '3', '--quiet'];

describe('image outputs', () => {
  it('picks the format from the extension and refuses the rest in one line', () => {
    expect(imageFormatOf('/a/b.png', '--out')).toBe('png');
    expect(imageFormatOf('/a/b.JPG', '--out')).toBe('jpeg');
    expect(imageFormatOf('b.jpeg', '--out')).toBe('jpeg');
    expect(() => imageFormatOf('b.webp', '--out')).toThrow(/^--out b\.webp ends in "\.webp"; images are written as \.png or \.jpg\/\.jpeg/);
    expect(() => imageFormatOf('b', '--before')).toThrow(/^--before b has no extension/);
  });

  it('encodes JPEG that starts with FF D8, ends with FF D9 and decodes close to the image', () => {
    const image = smooth(40, 24);
    const bytes = encodeImage(image, 'jpeg');
    expect([bytes[0], bytes[1], bytes[2]]).toEqual([0xff, 0xd8, 0xff]);
    expect([bytes.at(-2), bytes.at(-1)]).toEqual([0xff, 0xd9]);
    const back = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    expect([back.width, back.height]).toEqual([40, 24]);
    // Quality 92 on a smooth picture: well under 3 levels of 255 on average.
    expect(meanAbsDiff(back.data, image.data)).toBeLessThan(3);
    expect([...encodeImage(image, 'png').subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('drag --out x.jpg writes a JPEG, into a folder it creates', async () => {
    const dir = freshDir();
    const r = await runMain([...DRAG, '--out', 'new/sub/x.jpg', '--before', 'b.jpeg'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['new/sub/x.jpg', 'b.jpeg']) {
      const bytes = readFileSync(join(dir, name));
      expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
      expect(jpeg.decode(bytes, { useTArray: true }).width).toBe(64);
    }
    // The reference blobs are smooth: the JPEG is close to the PNG of the same drag.
    expect((await runMain([...DRAG, '--out', 'x.png'], { cwd: dir })).code).toBe(0);
    const png = decodePng(readFileSync(join(dir, 'x.png')), 'x.png');
    expect(meanAbsDiff(jpeg.decode(readFileSync(join(dir, 'new/sub/x.jpg')), { useTArray: true }).data, png.data)).toBeLessThan(4);
  });

  it('refuses an unknown extension before the drag, writing nothing', async () => {
    const dir = freshDir();
    const r = await runMain([...DRAG, '--out', 'x.gif', '--gif', 'd.gif'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stabledrag: --out \S+x\.gif ends in "\.gif"; images are written as \.png or \.jpg\/\.jpeg[^\n]*\n$/);
    expect(readdirSync(dir)).toEqual([]);
    expect((await runMain([...DRAG, '--out', 'o.png', '--before', 'before.bmp'], { cwd: dir })).stderr).toMatch(/--before \S+ ends in "\.bmp"/);
    expect(existsSync(join(dir, 'o.png'))).toBe(false);
  });

  it('says in --help that image outputs may be JPEG and missing folders are created', async () => {
    const help = (await runMain(['drag', '--help'])).stdout;
    expect(help).toMatch(/missing folders are created/);
    expect(help).toMatch(/--out out\.png +the dragged image: \.png, or \.jpg\/\.jpeg for JPEG/);
  });

  it('sample writes a JPEG grid for grid.jpg, and the files its help names', async () => {
    const dir = freshDir();
    expect((await runMain(['sample', '--model', 'reference', '--seeds', '0-3', '--out', 'g/grid.jpg', '--quiet'], { cwd: dir })).code).toBe(0);
    const grid = jpeg.decode(readFileSync(join(dir, 'g/grid.jpg')), { useTArray: true });
    expect([grid.width, grid.height]).toEqual([130, 130]);
    const help = (await runMain(['sample', '--help'])).stdout;
    expect(help).not.toMatch(/seed-<n>/);
    const named = /one (seed-\d+\.png) per seed/.exec(help)?.[1];
    expect(named).toBe('seed-0004.png');
    expect((await runMain(['sample', '--model', 'reference', '--seeds', '4', '--out', 'seeds', '--quiet'], { cwd: dir })).code).toBe(0);
    expect(readdirSync(join(dir, 'seeds'))).toEqual([named]);
    expect((await runMain(['sample', '--model', 'reference', '--grid', '--out', 'grid.tiff'], { cwd: dir })).stderr).toMatch(/ends in "\.tiff"/);
  });
});
