import type { RgbaImage } from '@stabledrag/core';

/**
 * A content key of an RGBA image: its size and two independent 32-bit FNV-1a hashes of its bytes
 * (different offsets, one over the bytes reversed), so a cache can tell images apart without
 * keeping them. Collisions need both hashes to collide at once.
 */
export function imageKey(image: RgbaImage): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  const d = image.data;
  for (let i = 0; i < d.length; i++) {
    a = Math.imul(a ^ d[i]!, 0x01000193);
    b = Math.imul(b ^ d[d.length - 1 - i]!, 0x01000193);
  }
  return `${image.width}x${image.height}:${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
}
