import type { DragPair, Mask } from '@stabledrag/core';
import { EDIT_REGION_RADIUS, segmentDistance } from '../stability.js';

/**
 * The edit region of a task (1 = inside): every pixel within `radius` of a pair's handle→target
 * segment (the stability section's definition, EDIT_REGION_RADIUS = 16 px at 128 px, scaled with
 * the image), plus the editable part of the task's mask when it has one. Fidelity to the source
 * is measured outside it, similarity to the exact edit inside it.
 */
export function editRegionMask(pairs: readonly DragPair[], width: number, height: number, mask?: Mask, radius = (EDIT_REGION_RADIUS * width) / 128): Mask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask && mask.data[i] === 1) data[i] = 1;
      else if (pairs.some((q) => segmentDistance({ x, y }, q.handle, q.target) < radius)) data[i] = 1;
    }
  }
  return { data, width, height };
}

/** 1 where `mask` is 0 and the reverse. */
export function invertMask(mask: Mask): Mask {
  return { data: mask.data.map((v) => (v === 1 ? 0 : 1)), width: mask.width, height: mask.height };
}
