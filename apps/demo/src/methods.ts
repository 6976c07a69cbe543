import type { MotionSupervisor, PointTracker } from '@stabledrag/core';
import { ConfidentSupervision, MotionSupervision } from '@stabledrag/motion';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';
import type { DragSettings } from './settings.js';

export interface DemoMethod {
  readonly label: string;
  readonly tracker: PointTracker;
  readonly supervisor: MotionSupervisor;
}

/**
 * The demo's name → tracker + supervisor mapping (the CLI has its own; this one must stay free of
 * Node imports). StableDrag = discriminative tracking (Eq. 2–3) + confident supervision (Eq. 5);
 * DragGAN = nearest-neighbour tracking + motion supervision (Eq. 1).
 */
export function createDemoMethod(s: DragSettings): DemoMethod {
  if (s.method === 'stabledrag') {
    return {
      label: `StableDrag (discriminative tracking λ=${s.lambda}, confident supervision τ=${s.tau})`,
      tracker: new DiscriminativeTracker({ radius: s.r2, lambda: s.lambda }),
      supervisor: new ConfidentSupervision({ radius: s.r1, tau: s.tau, maskWeight: s.maskWeight }),
    };
  }
  return {
    label: 'DragGAN (nearest-neighbour tracking, motion supervision)',
    tracker: new NearestNeighbourTracker({ radius: s.r2 }),
    supervisor: new MotionSupervision({ radius: s.r1, maskWeight: s.maskWeight }),
  };
}
