import { layoutModelDir } from '@stabledrag/backends-diffusion/node';
import { describe, expect, it } from 'vitest';
import { runMain } from '../__fixtures__/run-main.js';

describe('stabledrag info on diffusion models', () => {
  it('describes diffusion-tiny: resolution, latent, VAE factor, features, self-attention layers, defaults', { timeout: 600_000 }, async () => {
    const text = await runMain(['info', '--model', 'diffusion-tiny']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^kind +diffusion$/m);
    expect(text.stdout).toMatch(/^resolution +64$/m);
    expect(text.stdout).toMatch(/^latent +\[4, 16, 16\]$/m);
    expect(text.stdout).toMatch(/^vaeScaleFactor +4$/m);
    expect(text.stdout).toMatch(/^featureShape +\[16, 32, 32\]$/m);
    expect(text.stdout).toMatch(/^editTimestep +681$/m);
    expect(text.stdout).toMatch(/^dragSteps +dragdiffusion=80, stabledrag=60$/m);

    // A folder path is recognised as diffusion by its model.json, and --json gives the same facts.
    const json = await runMain(['info', '--model', layoutModelDir, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const d = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(d).toMatchObject({
      kind: 'diffusion',
      name: 'sd15-layout-tiny',
      vaeScalingFactor: 0.18215,
      inversionStrength: 0.7,
      featureRadii: { motion: 1, tracking: 3 },
      defaultRadii: { r1: 2, r2: 6 },
      mutualSelfAttention: { layers: [5, 6], startStep: 0 },
      lora: { steps: 80, rank: 16, batch: 4 },
    });
    expect(d.selfAttentionLayers).toHaveLength(7);
    expect((d.selfAttentionLayers as string[])[5]).toBe('up_blocks.2.attentions.0.transformer_blocks.0.attn1');
  });
});
