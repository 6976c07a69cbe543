import type { RgbaImage } from '@stabledrag/core';

/**
 * A small animated-GIF (GIF89a) writer for the drag's frames: one fixed 6×7×6 colour cube as the
 * global palette, a 4×4 ordered dither, LZW-compressed frames. Enough for a 64–512 px preview,
 * with no dependency and no per-GIF palette search.
 */

const R_LEVELS = 6;
const G_LEVELS = 7;
const B_LEVELS = 6;

/** Palette of the cube (252 colours) padded with black to 256 entries. */
export function cubePalette(): Uint8Array {
  const pal = new Uint8Array(256 * 3);
  let k = 0;
  for (let r = 0; r < R_LEVELS; r++) {
    for (let g = 0; g < G_LEVELS; g++) {
      for (let b = 0; b < B_LEVELS; b++) {
        pal[k++] = Math.round((r * 255) / (R_LEVELS - 1));
        pal[k++] = Math.round((g * 255) / (G_LEVELS - 1));
        pal[k++] = Math.round((b * 255) / (B_LEVELS - 1));
      }
    }
  }
  return pal;
}

// Bayer 4×4 thresholds in (−0.5, 0.5), in units of one quantisation step.
const BAYER = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5].map((v) => (v + 0.5) / 16 - 0.5);

/** RGBA → palette indices of {@link cubePalette}, ordered-dithered. */
export function quantize(image: RgbaImage): Uint8Array {
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  const level = (v: number, levels: number, t: number): number => {
    const q = Math.round((v / 255) * (levels - 1) + t);
    return q < 0 ? 0 : q > levels - 1 ? levels - 1 : q;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const t = BAYER[(y & 3) * 4 + (x & 3)]!;
      const r = level(data[4 * i]!, R_LEVELS, t);
      const g = level(data[4 * i + 1]!, G_LEVELS, t);
      const b = level(data[4 * i + 2]!, B_LEVELS, t);
      out[i] = r * G_LEVELS * B_LEVELS + g * B_LEVELS + b;
    }
  }
  return out;
}

/** Growable byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(4096);
  length = 0;

  byte(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v & 0xff;
  }

  u16(v: number): void {
    this.byte(v);
    this.byte(v >> 8);
  }

  bytes(a: ArrayLike<number>): void {
    for (let i = 0; i < a.length; i++) this.byte(a[i]!);
  }

  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * GIF's variable-width LZW (min code size 8): codes are written LSB-first; the width grows when
 * the next free code no longer fits, and a clear code restarts the table when it reaches 4096.
 * Returns the raw code stream (not yet cut into sub-blocks).
 */
export function lzwEncode(indices: Uint8Array, minCodeSize = 8): Uint8Array {
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  const out = new ByteWriter();
  let bitBuf = 0;
  let bitCount = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number): void => {
    bitBuf |= code << bitCount;
    bitCount += codeSize;
    while (bitCount >= 8) {
      out.byte(bitBuf & 0xff);
      bitBuf >>>= 8;
      bitCount -= 8;
    }
  };
  // Table: key = prefix code · 256 + next index → code.
  let table = new Map<number, number>();
  let next = eoi + 1;
  emit(clear);
  if (indices.length === 0) {
    emit(eoi);
    if (bitCount > 0) out.byte(bitBuf & 0xff);
    return out.result();
  }
  let prefix = indices[0]!;
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i]!;
    const key = prefix * 256 + k;
    const found = table.get(key);
    if (found !== undefined) {
      prefix = found;
      continue;
    }
    emit(prefix);
    // The decoder adds its entry one code later, so the width grows after this code is written.
    if (next >= 1 << codeSize && codeSize < 12) codeSize++;
    if (next < 4096) {
      table.set(key, next++);
    } else {
      emit(clear);
      table = new Map();
      next = eoi + 1;
      codeSize = minCodeSize + 1;
    }
    prefix = k;
  }
  emit(prefix);
  if (next >= 1 << codeSize && codeSize < 12) codeSize++;
  emit(eoi);
  if (bitCount > 0) out.byte(bitBuf & 0xff);
  return out.result();
}

export interface GifOptions {
  /** Delay per frame in milliseconds (GIF stores hundredths). Default 80. */
  readonly delayMs?: number;
  /** Extra delay on the last frame, ms. Default 1000. */
  readonly lastFrameHoldMs?: number;
}

/** Encodes same-size RGBA frames as a looping animated GIF. */
export function encodeGif(frames: readonly RgbaImage[], options: GifOptions = {}): Uint8Array {
  const first = frames[0];
  if (!first) throw new Error('A GIF needs at least one frame.');
  const { width, height } = first;
  const delay = Math.max(2, Math.round((options.delayMs ?? 80) / 10));
  const hold = Math.round((options.lastFrameHoldMs ?? 1000) / 10);
  const w = new ByteWriter();
  w.ascii('GIF89a');
  w.u16(width);
  w.u16(height);
  w.byte(0xf7); // global colour table, 8 bits per primary, 256 entries
  w.byte(0);
  w.byte(0);
  w.bytes(cubePalette());
  // NETSCAPE2.0: loop forever.
  w.bytes([0x21, 0xff, 0x0b]);
  w.ascii('NETSCAPE2.0');
  w.bytes([0x03, 0x01, 0x00, 0x00, 0x00]);
  frames.forEach((frame, n) => {
    if (frame.width !== width || frame.height !== height) {
      throw new Error(`Frame ${n} is ${frame.width}×${frame.height}; the GIF is ${width}×${height}.`);
    }
    w.bytes([0x21, 0xf9, 0x04, 0x04]); // graphic control: disposal "do not dispose"
    w.u16(n === frames.length - 1 ? delay + hold : delay);
    w.bytes([0x00, 0x00]);
    w.byte(0x2c);
    w.u16(0);
    w.u16(0);
    w.u16(width);
    w.u16(height);
    w.byte(0x00);
    w.byte(8);
    const codes = lzwEncode(quantize(frame), 8);
    for (let i = 0; i < codes.length; i += 255) {
      const block = codes.subarray(i, i + 255);
      w.byte(block.length);
      w.bytes(block);
    }
    w.byte(0x00);
  });
  w.byte(0x3b);
  return w.result();
}
