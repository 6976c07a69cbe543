import { describe, expect, it } from 'vitest';
import { diffusionDefaultsOf } from './diffusion-holder.js';

const backend = { dragDefaults: { learningRate: 0.01, featureRadii: { motion: 1, tracking: 3 }, imageRadii: { motion: 2, tracking: 6 } } };

describe('diffusionDefaultsOf', () => {
  it("takes steps and LoRA steps from model.json's defaults, radii and lr from the backend", () => {
    const d = diffusionDefaultsOf({ defaults: { dragSteps: 80, stabledrag: { dragSteps: 60 }, lora: { steps: 40 } } }, backend);
    expect(d).toEqual({ learningRate: 0.01, r1: 2, r2: 6, steps: { dragdiffusion: 80, stabledrag: 60 }, loraSteps: 40 });
  });

  it("falls back to DragDiffusion's values when model.json is missing or malformed", () => {
    for (const json of [undefined, null, 'x', { defaults: { dragSteps: -3, lora: { steps: 1.5 } } }]) {
      expect(diffusionDefaultsOf(json, backend)).toMatchObject({ steps: { dragdiffusion: 80, stabledrag: 60 }, loraSteps: 80 });
    }
  });
});
