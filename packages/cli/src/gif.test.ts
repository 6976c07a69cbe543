import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '@stabledrag/core';
import { DragGifWriter, defaultGifScale } from './gif.js';
import { HANDLE_COLOUR, TARGET_COLOUR, drawDrag, upscale } from './overlay.js';

function flat(width: number, height: number, v: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4).fill(v);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { data, width, height };
}

function pixel(img: RgbaImage, x: number, y: number): number[] {
  const o = 4 * (y * img.width + x);
  return [...img.data.subarray(o, o + 3)];
}

/** Frames in a GIF = graphic control extensions (0x21 0xF9 0x04) before each image descriptor. */
function countFrames(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0x21 && bytes[i + 1] === 0xf9 && bytes[i + 2] === 0x04) n++;
  return n;
}

describe('overlay', () => {
  it('draws the handle red and the target blue at their (scaled) pixels, and an arrow between', () => {
    const img = upscale(flat(32, 32, 40), 4);
    expect(img.width).toBe(128);
    drawDrag(img, [{ x: 5, y: 10 }], [{ x: 25, y: 10 }], 4);
    expect(pixel(img, 22, 42)).toEqual([...HANDLE_COLOUR]);
    expect(pixel(img, 102, 42)).toEqual([...TARGET_COLOUR]);
    expect(pixel(img, 62, 42)).toEqual([255, 255, 255]);
    expect(pixel(img, 62, 10)).toEqual([40, 40, 40]);
  });
  it('upscales by repeating pixels', () => {
    const img: RgbaImage = { data: new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 255]), width: 2, height: 1 };
    const big = upscale(img, 2);
    expect([...big.data.subarray(0, 16)]).toEqual([1, 2, 3, 255, 1, 2, 3, 255, 4, 5, 6, 255, 4, 5, 6, 255]);
    expect(pixel(big, 3, 1)).toEqual([4, 5, 6]);
  });
});

describe('DragGifWriter', () => {
  it('writes a looping GIF89a with one frame per added image at the upscaled size', () => {
    const gif = new DragGifWriter({ delayMs: 50 });
    for (let k = 0; k < 4; k++) gif.add(flat(64, 64, 30 * k), [{ x: 10 + k, y: 10 }], [{ x: 40, y: 10 }]);
    const bytes = gif.finish();
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe('GIF89a');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint16(6, true)).toBe(256);
    expect(view.getUint16(8, true)).toBe(256);
    expect(countFrames(bytes)).toBe(4);
    expect(new TextDecoder().decode(bytes)).toContain('NETSCAPE2.0');
    expect(bytes.at(-1)).toBe(0x3b);
    expect(gif.finish()).toEqual(bytes);
  });
  it('refuses to finish without frames', () => {
    expect(() => new DragGifWriter().finish()).toThrow(/no frame/);
  });
  it('picks an integer scale towards 256 px', () => {
    expect(defaultGifScale(64, 64)).toBe(4);
    expect(defaultGifScale(128, 128)).toBe(2);
    expect(defaultGifScale(512, 512)).toBe(1);
  });
});
