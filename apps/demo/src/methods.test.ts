import { describe, expect, it } from 'vitest';
import { ConfidentSupervision, MotionSupervision } from '@stabledrag/motion';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';
import { createDemoMethod } from './methods.js';
import { defaultSettings } from './settings.js';

describe('createDemoMethod', () => {
  it('maps StableDrag to the discriminative tracker + confident supervision, with the form radii', () => {
    const m = createDemoMethod({ ...defaultSettings(128, 0.001), r2: 7, lambda: 0.5 });
    expect(m.tracker).toBeInstanceOf(DiscriminativeTracker);
    expect((m.tracker as DiscriminativeTracker).radius).toBe(7);
    expect((m.tracker as DiscriminativeTracker).lambda).toBe(0.5);
    expect(m.supervisor).toBeInstanceOf(ConfidentSupervision);
  });

  it('maps DragGAN to nearest-neighbour tracking + plain motion supervision', () => {
    const m = createDemoMethod({ ...defaultSettings(128, 0.001), method: 'draggan', r2: 9 });
    expect(m.tracker).toBeInstanceOf(NearestNeighbourTracker);
    expect((m.tracker as NearestNeighbourTracker).radius).toBe(9);
    expect(m.supervisor).toBeInstanceOf(MotionSupervision);
    expect(m.supervisor).not.toBeInstanceOf(ConfidentSupervision);
  });
});
