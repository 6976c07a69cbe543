import { describe, expect, it } from 'vitest';
import { parseDiffusionDefaults } from './diffusion-defaults.js';

describe('parseDiffusionDefaults', () => {
  it("reads model.json's drag and LoRA defaults", () => {
    const d = parseDiffusionDefaults({ defaults: { dragSteps: 40, stabledrag: { dragSteps: 30 }, lora: { steps: 12, rank: 8, batch: 2, lr: 0.001, weightDecay: 0 } } });
    expect(d).toEqual({ dragSteps: 40, stabledragDragSteps: 30, lora: { steps: 12, rank: 8, batch: 2, learningRate: 0.001, weightDecay: 0 } });
  });

  it("falls back to DragDiffusion's and the paper's values for missing or malformed fields", () => {
    expect(parseDiffusionDefaults(undefined)).toEqual({ dragSteps: 80, stabledragDragSteps: 60, lora: { steps: 80 } });
    expect(parseDiffusionDefaults({ defaults: { dragSteps: -3, lora: { steps: 2.5, rank: 'x' } } })).toEqual({ dragSteps: 80, stabledragDragSteps: 60, lora: { steps: 80 } });
    // 0 LoRA steps in model.json means no LoRA by default, and is kept.
    expect(parseDiffusionDefaults({ defaults: { lora: { steps: 0 } } }).lora.steps).toBe(0);
  });
});
