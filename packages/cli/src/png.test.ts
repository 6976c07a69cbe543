import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs } from './__fixtures__/dirs.js';
import type { RgbaImage } from '@stabledrag/core';
import { decodePng, encodePng, imageToMask, maskToImage, readMask } from './png.js';

function gradient(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([i % 256, (i * 7) % 256, (i * 13) % 256, 255 - (i % 3)], 4 * i);
  return { data, width, height };
}

afterAll(removeFreshDirs);

describe('PNG encode/decode', () => {
  it('round-trips RGBA8 exactly, with the PNG signature and size in the header', () => {
    const img = gradient(5, 3);
    const bytes = encodePng(img);
    expect([...bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(16)).toBe(5);
    expect(view.getUint32(20)).toBe(3);
    const back = decodePng(bytes, 'x');
    expect(back.width).toBe(5);
    expect(back.height).toBe(3);
    expect([...back.data]).toEqual([...img.data]);
  });
  it('decodes greyscale PNGs to RGBA', () => {
    const png = new pngjs.PNG({ width: 2, height: 1, colorType: 0, inputColorType: 0, bitDepth: 8 } as never);
    png.data = Buffer.from([0, 0, 0, 255, 255, 255, 255, 255]);
    const bytes = pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 6 } as never);
    const back = decodePng(bytes, 'grey');
    expect([...back.data]).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });
  it('says which file is not a PNG', () => {
    expect(() => decodePng(new TextEncoder().encode('hello'), 'The mask m.png')).toThrow(/The mask m.png is not a readable PNG/);
  });
});

describe('masks', () => {
  it('white and opaque is editable; dark, grey below half and transparent are fixed', () => {
    const data = new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255, 100, 100, 100, 255, 255, 255, 255, 0, 200, 200, 200, 255]);
    expect([...imageToMask({ data, width: 5, height: 1 }).data]).toEqual([1, 0, 0, 0, 1]);
  });
  it('reads a mask file, refusing a wrong size, an unreadable file and an all-black mask', async () => {
    const dir = freshDir('sd-mask-');
    const mask = { data: new Uint8Array([0, 1, 1, 0, 0, 0]), width: 3, height: 2 };
    writeFileSync(join(dir, 'ok.png'), encodePng(maskToImage(mask)));
    writeFileSync(join(dir, 'black.png'), encodePng(maskToImage({ ...mask, data: new Uint8Array(6) })));
    writeFileSync(join(dir, 'junk.png'), 'not a png');
    expect([...(await readMask(join(dir, 'ok.png'), 3, 2)).data]).toEqual([0, 1, 1, 0, 0, 0]);
    await expect(readMask(join(dir, 'ok.png'), 4, 2)).rejects.toThrow(/is 3×2 but the image is 4×2/);
    await expect(readMask(join(dir, 'junk.png'), 3, 2)).rejects.toThrow(/not a readable PNG/);
    await expect(readMask(join(dir, 'missing.png'), 3, 2)).rejects.toThrow(/Cannot read the mask/);
    await expect(readMask(join(dir, 'black.png'), 3, 2)).rejects.toThrow(/no white pixel/);
  });
});
