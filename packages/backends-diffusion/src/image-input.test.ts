import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode-image.js';
import { fitImage, resizeImage } from './fit-image.js';
import { chwToRgba, rgbaToChw } from './image-convert.js';

const { PNG } = pngjs;

function pngBytes(width: number, height: number, colorType: 0 | 2 | 4 | 6, pixel: (x: number, y: number) => [number, number, number, number]): Uint8Array {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data.set(pixel(x, y), 4 * (y * width + x));
  return PNG.sync.write(png, { colorType, inputColorType: 6 } as never);
}

describe('decodeImage', () => {
  it('reads grey, grey+alpha, RGB and RGBA PNGs into RGBA8 with R = G = B for grey', () => {
    const grey = decodeImage(pngBytes(3, 2, 0, (x, y) => [40 * x + y, 40 * x + y, 40 * x + y, 255]), 'g.png');
    expect(grey.width).toBe(3);
    expect([...grey.data.subarray(4 * 5, 4 * 6)]).toEqual([81, 81, 81, 255]);
    const ga = decodeImage(pngBytes(2, 2, 4, (x) => [100, 100, 100, x === 0 ? 0 : 255]), 'ga.png');
    expect(ga.data[3]).toBe(0);
    const rgba = decodeImage(pngBytes(2, 1, 6, (x) => [10, 20, 30, 128 + x]), 'c.png');
    expect([...rgba.data]).toEqual([10, 20, 30, 128, 10, 20, 30, 129]);
  });

  it('reads a JPEG to within JPEG error of what was encoded', () => {
    const w = 16;
    const data = new Uint8Array(w * w * 4);
    for (let i = 0; i < w * w; i++) data.set([200, 100, 50, 255], 4 * i);
    const bytes = jpeg.encode({ data, width: w, height: w }, 95).data;
    const img = decodeImage(new Uint8Array(bytes), 'x.jpg');
    expect(img.width).toBe(w);
    for (let i = 0; i < w * w; i++) {
      expect(Math.abs(img.data[4 * i]! - 200)).toBeLessThanOrEqual(3);
      expect(Math.abs(img.data[4 * i + 2]! - 50)).toBeLessThanOrEqual(3);
      expect(img.data[4 * i + 3]).toBe(255);
    }
  });

  it('refuses what is not a PNG or JPEG, and a truncated PNG, in one line naming the file', () => {
    expect(() => decodeImage(new TextEncoder().encode('hello'), 'notes.txt')).toThrow(/^notes.txt is neither a PNG nor a JPEG/);
    const png = pngBytes(4, 4, 6, () => [1, 2, 3, 255]);
    expect(() => decodeImage(png.subarray(0, 30), 'cut.png')).toThrow(/cut.png is not a readable PNG/);
  });
});

describe('fitImage', () => {
  it('leaves an image of the right size untouched, with no notice', () => {
    const img = { data: new Uint8ClampedArray(4 * 4 * 4).fill(255), width: 4, height: 4 };
    const f = fitImage(img, 4);
    expect(f.notices).toEqual([]);
    expect([...f.image.data]).toEqual([...img.data]);
  });

  it('composites alpha over white, crops the centred square, then resizes — each with a notice', () => {
    // 6×4, left and right columns marked 0, the centred 4×4 square a horizontal ramp.
    const w = 6;
    const h = 4;
    const data = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(x === 0 || x === 5 ? [0, 0, 0, 255] : [40 * x, 40 * x, 40 * x, 255], 4 * (y * w + x));
    data[3] = 0; // one transparent corner pixel, cropped away later
    const f = fitImage({ data, width: w, height: h }, 2);
    expect(f.notices).toHaveLength(3);
    expect(f.notices[0]).toMatch(/1 transparent pixel\(s\) were composited over white/);
    expect(f.notices[1]).toMatch(/6×4 image was cropped to its centred 4×4 square/);
    expect(f.notices[2]).toMatch(/resized to the model's 2×2/);
    // Antialiased 2× shrink of the ramp 40, 80, 120, 160: weights (1, 3, 3, 1)/8 inside, clipped at the edge.
    expect(f.image.data[0]).toBe(Math.round((3 * 40 + 3 * 80 + 120) / 7));
    expect(f.image.data[4]).toBe(Math.round((80 + 3 * 120 + 3 * 160) / 7));
  });

  it('keeps a linear ramp linear when resizing up (no shift of half a pixel)', () => {
    const n = 8;
    const data = new Uint8ClampedArray(n * 4);
    for (let x = 0; x < n; x++) data.set([20 * x + 10, 0, 0, 255], 4 * x);
    const up = resizeImage({ data, width: n, height: 1 }, 2 * n, 1);
    // Output pixel i has centre (i + 0.5)/2 − 0.5 in input pixels; inside, the value is linear in it.
    for (let i = 2; i < 2 * n - 2; i++) expect(up.data[4 * i]).toBe(Math.round(20 * ((i + 0.5) / 2 - 0.5) + 10));
  });

  it('rejects malformed image objects', () => {
    expect(() => fitImage({ data: new Uint8ClampedArray(3), width: 1, height: 1 }, 1)).toThrow(/RGBA8/);
  });
});

describe('rgbaToChw / chwToRgba', () => {
  it('maps 0 → −1, 255 → 1 and back', () => {
    const img = { data: Uint8ClampedArray.from([0, 255, 128, 7]), width: 1, height: 1 };
    const chw = rgbaToChw(img);
    expect(chw[0]).toBe(-1);
    expect(chw[1]).toBe(1);
    expect([...chwToRgba(chw, 1, 1).data]).toEqual([0, 255, 128, 255]);
  });
});

describe('imageKey', () => {
  it('is equal for equal images and differs when one byte or the shape changes', async () => {
    const { imageKey } = await import('./image-key.js');
    const a = { data: Uint8ClampedArray.from({ length: 64 }, (_, i) => i), width: 4, height: 4 };
    expect(imageKey({ ...a, data: new Uint8ClampedArray(a.data) })).toBe(imageKey(a));
    const b = new Uint8ClampedArray(a.data);
    b[17] = 0;
    expect(imageKey({ ...a, data: b })).not.toBe(imageKey(a));
    expect(imageKey({ ...a, width: 8, height: 2 })).not.toBe(imageKey(a));
  });
});
