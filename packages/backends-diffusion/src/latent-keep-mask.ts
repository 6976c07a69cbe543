import { StableDragError } from '@stabledrag/core';
import type { Mask } from '@stabledrag/core';

/**
 * 1 − M at latent resolution, one float per latent pixel (row-major): where the DDIM-stepped latent
 * must stay. DragDiffusion resizes the mask with `F.interpolate(mask, (h, w), mode='nearest')`,
 * PyTorch's legacy nearest: latent pixel (i, j) takes mask pixel (⌊i·H/h⌋, ⌊j·W/w⌋), the top-left
 * pixel of its block when the factor is an integer (8 for SD 1.5), not the block's majority.
 */
export function latentKeepMask(mask: Mask, height: number, width: number): Float32Array {
  const { width: W, height: H, data } = mask;
  if (data.length !== W * H) throw new StableDragError('INVALID_INPUT', `The mask holds ${data.length} values, expected ${W * H} (one per pixel).`);
  const keep = new Float32Array(height * width);
  for (let i = 0; i < height; i++) {
    const y = Math.min(Math.floor((i * H) / height), H - 1);
    for (let j = 0; j < width; j++) {
      const x = Math.min(Math.floor((j * W) / width), W - 1);
      keep[i * width + j] = data[y * W + x] === 0 ? 1 : 0;
    }
  }
  return keep;
}
