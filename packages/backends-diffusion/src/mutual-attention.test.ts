import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareClose, expectAllClose } from '@stabledrag/core/conformance';
import { mutualAttentionLayers } from './mutual-attention.js';
import { layoutModelDir, loadDiffusionBackend, readDiffusionModelFiles } from './node.js';

describe('mutual self-attention (MasaCtrl) in render', () => {
  it('swaps the self-attentions of up_blocks.2 on: model.json\'s layers [5, 6], and the same by default', async () => {
    const f = await readDiffusionModelFiles(async (p) => new Uint8Array(readFileSync(join(layoutModelDir, p))), layoutModelDir, 'x');
    const declared = mutualAttentionLayers(f.unet, f.config, 'unet/model.onnx').map((l) => l.module);
    expect(declared).toEqual(['up_blocks.2.attentions.0.transformer_blocks.0.attn1', 'up_blocks.2.attentions.1.transformer_blocks.0.attn1']);
    const byDefault = mutualAttentionLayers(f.unet, { ...f.config, selfAttention: [], mutualSelfAttention: { layers: [], startStep: 0 } }, 'unet/model.onnx');
    expect(byDefault.map((l) => l.module)).toEqual(declared);
  });

  it('leaves an unedited latent\'s image unchanged and changes an edited one\'s', async () => {
    const b = await loadDiffusionBackend({ modelDir: layoutModelDir });
    const latent = await b.createLatent({ type: 'seed', seed: 6 });
    const steps: number[] = [];
    const mutual = await b.denoise(latent, { onProgress: (p) => steps.push(p.step) });
    expect(steps).toHaveLength(35);
    // Source and edited branch are the same latent: the swapped K/V are the branch's own, bit for bit.
    const plain = await b.denoise(latent, { mutualSelfAttention: false });
    expectAllClose(mutual, plain, { atol: 0, rtol: 0 });
    const edited = { ...latent, optimized: Float32Array.from(latent.optimized, (v, i) => v + 0.3 * Math.sin(i)) };
    const withMasa = await b.denoise(edited);
    const without = await b.denoise(edited, { mutualSelfAttention: false });
    expect(withMasa.every(Number.isFinite)).toBe(true);
    // The random layout model's up_blocks.2 self-attention moves z_0 by ~1e-3 (of values up to ~40):
    // small but far above the exact agreement of the unedited case.
    expect(compareClose(withMasa, without, { atol: 1e-4, rtol: 0 }).ok).toBe(false);
    await b.dispose();
  });
});
