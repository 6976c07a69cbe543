import { describe, expect, it } from 'vitest';
import { findBlockOutput } from './diffusers-names';
import { insertLora } from './lora';
import { pinInputs } from './pin-inputs';
import { f32 } from './tensor';
import type { Value } from './testing/harness';
import { goldenFolder } from './testing/sd-golden';

// More golden cases of tools/diffusion/make_tiny.py (tolerance: see testing/sd-golden.ts):
// LoRA on the cross-attention's to_k/to_v, whose input is the text embedding — with the
// embedding pinned and folded, as a drag or LoRA training does — and the second test folder with
// SD 1.5's VAE factor 8 and attention levels.

describe('SD-1.5-layout golden: cross-attention LoRA and the factor-8 folder', () => {
  const F = goldenFolder('sd15-layout-tiny');

  for (const pinned of [false, true]) {
    it(`LoRA on attn2 to_k/to_v: gradients w.r.t. A and B${pinned ? ', text embedding and timestep pinned after inserting it' : ''}`, async () => {
      const cfg = F.golden.loraAttn2;
      const ps = Object.keys(cfg.nodes);
      const nm = (p: string, m: 'A' | 'B'): string => `lora_attn2_${m}_${p}`;
      let { model } = insertLora(F.unet(), ps.map((p) => cfg.nodes[p] as string), {
        rank: cfg.rank,
        alpha: cfg.alpha,
        names: (node) => {
          const p = ps.find((q) => cfg.nodes[q] === node) as string;
          return { down: nm(p, 'A'), up: nm(p, 'B') };
        },
      });
      const feeds: Record<string, Value> = F.inputs();
      if (pinned) {
        model = pinInputs(model, { timestep: f32([1], F.g('timestep').data), encoder_hidden_states: f32(F.shapes.encoder_hidden_states, F.g('encoder_hidden_states').data) }, { sample: F.shapes.sample });
        expect(model.graph.nodes.some((n) => n.name === cfg.nodes.to_k)).toBe(false); // the plain K product is folded, its LoRA term stays
        delete feeds.timestep;
        delete feeds.encoder_hidden_states;
      }
      for (const p of ps) for (const m of ['A', 'B'] as const) feeds[nm(p, m)] = F.g(nm(p, m));
      const wrt = ps.flatMap((p) => [nm(p, 'A'), nm(p, 'B')]);
      const { fwd, grads } = await F.splitVjp(model, wrt, feeds, undefined, pinned ? { sample: F.shapes.sample } : F.shapes);
      F.expectGolden((fwd[F.description.features.tensor] as Value).data, 'features_lora_attn2');
      for (const p of ps) {
        F.expectGolden(grads[nm(p, 'A')] as Float32Array, `grad_attn2_A_${p}`);
        F.expectGolden(grads[nm(p, 'B')] as Float32Array, `grad_attn2_B_${p}`);
      }
    });
  }

  it('factor-8 folder (SD 1.5 attention levels): features and their gradient w.r.t. the latent and attn1 LoRA A/B', async () => {
    const G = goldenFolder('sd15-layout-tiny-f8');
    const base = G.unet();
    expect(findBlockOutput(base, 'up_blocks.2')).toBe(G.description.features.tensor);
    const plain = await G.splitVjp(base, ['sample'], G.inputs());
    G.expectGolden((plain.fwd[G.description.features.tensor] as Value).data, 'features');
    G.expectGolden(plain.grads.sample as Float32Array, 'grad_sample');
    const ps = Object.keys(G.golden.lora.nodes);
    const { model, adapters } = insertLora(base, ps.map((p) => G.golden.lora.nodes[p] as string), { rank: G.golden.lora.rank, alpha: G.golden.lora.alpha });
    const feeds: Record<string, Value> = G.inputs();
    adapters.forEach((a, i) => {
      feeds[a.down] = G.g(`lora_A_${ps[i]}`);
      feeds[a.up] = G.g(`lora_B_${ps[i]}`);
    });
    const { fwd, grads } = await G.splitVjp(model, ['sample', ...adapters.flatMap((a) => [a.down, a.up])], feeds);
    G.expectGolden((fwd[G.description.features.tensor] as Value).data, 'features_lora');
    G.expectGolden(grads.sample as Float32Array, 'grad_sample_lora');
    adapters.forEach((a, i) => {
      G.expectGolden(grads[a.down] as Float32Array, `grad_A_${ps[i]}`);
      G.expectGolden(grads[a.up] as Float32Array, `grad_B_${ps[i]}`);
    });
  });
});
