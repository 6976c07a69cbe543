import { describe, expect, it } from 'vitest';
import { createRng } from '@stabledrag/core';
import { cubePalette, encodeGif, lzwEncode, quantize } from './gif-encoder.js';

/** A straightforward GIF LZW decoder, written from the spec to check the encoder against. */
function lzwDecode(data: Uint8Array, minCodeSize: number): number[] {
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  let codeSize = minCodeSize + 1;
  let dict: number[][] = [];
  const reset = (): void => {
    dict = [];
    for (let i = 0; i < clear; i++) dict.push([i]);
    dict.push([], []);
    codeSize = minCodeSize + 1;
  };
  reset();
  let bitPos = 0;
  const read = (): number => {
    let code = 0;
    for (let b = 0; b < codeSize; b++, bitPos++) {
      const byte = data[bitPos >> 3];
      if (byte === undefined) throw new Error('ran past the end of the code stream');
      code |= ((byte >> (bitPos & 7)) & 1) << b;
    }
    return code;
  };
  const out: number[] = [];
  let prev: number[] | null = null;
  for (;;) {
    const code = read();
    if (code === clear) {
      reset();
      prev = null;
      continue;
    }
    if (code === eoi) return out;
    let entry: number[];
    if (code < dict.length) entry = dict[code]!;
    else if (code === dict.length && prev) entry = [...prev, prev[0]!];
    else throw new Error(`bad code ${code} (table ${dict.length})`);
    out.push(...entry);
    if (prev && dict.length < 4096) dict.push([...prev, entry[0]!]);
    if (dict.length === 1 << codeSize && codeSize < 12) codeSize++;
    prev = entry;
  }
}

describe('lzwEncode', () => {
  it('round-trips through a spec decoder: empty, constant, and noisy data past the 4096-code reset', () => {
    expect(lzwDecode(lzwEncode(new Uint8Array(0)), 8)).toEqual([]);
    const flat = new Uint8Array(5000).fill(7);
    expect(lzwDecode(lzwEncode(flat), 8)).toEqual(Array.from(flat));
    const rng = createRng(3);
    const noisy = Uint8Array.from({ length: 40_000 }, () => Math.floor(rng() * 256));
    expect(lzwDecode(lzwEncode(noisy), 8)).toEqual(Array.from(noisy));
    const fewColours = Uint8Array.from({ length: 30_000 }, () => Math.floor(rng() * 5));
    expect(lzwDecode(lzwEncode(fewColours), 8)).toEqual(Array.from(fewColours));
  });
});

describe('quantize', () => {
  it('maps pure colours to their exact palette entries', () => {
    const pal = cubePalette();
    const img = { width: 4, height: 1, data: Uint8ClampedArray.of(255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255) };
    const idx = quantize(img);
    const rgb = Array.from(idx, (i) => [pal[3 * i], pal[3 * i + 1], pal[3 * i + 2]]);
    expect(rgb).toEqual([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]);
  });
});

describe('encodeGif', () => {
  it('writes a GIF89a with one image block per frame and the trailer', () => {
    const frame = { width: 3, height: 2, data: new Uint8ClampedArray(3 * 2 * 4).fill(128) };
    const gif = encodeGif([frame, frame, frame]);
    expect(String.fromCharCode(...gif.subarray(0, 6))).toBe('GIF89a');
    expect(gif[6]! | (gif[7]! << 8)).toBe(3);
    expect(gif[8]! | (gif[9]! << 8)).toBe(2);
    expect(gif[gif.length - 1]).toBe(0x3b);
    let descriptors = 0;
    for (let i = 0; i + 1 < gif.length; i++) if (gif[i] === 0x21 && gif[i + 1] === 0xf9) descriptors++;
    expect(descriptors).toBe(3);
    expect(() => encodeGif([])).toThrow(/at least one frame/);
    expect(() => encodeGif([frame, { ...frame, width: 2 }])).toThrow(/Frame 1/);
  });
});
