import type { MotionSupervisor, PointTracker } from '@stabledrag/core';
import * as motion from '@stabledrag/motion';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';
import { FallbackMotionSupervision } from './fallback-supervision.js';
import type { DragSettings } from './settings.js';

export interface DemoMethod {
  readonly label: string;
  readonly tracker: PointTracker;
  readonly supervisor: MotionSupervisor;
}

type SupervisorCtor = new (options: Record<string, unknown>) => MotionSupervisor;

function motionExport(name: string): SupervisorCtor | undefined {
  const ctor = (motion as Record<string, unknown>)[name];
  return typeof ctor === 'function' ? (ctor as SupervisorCtor) : undefined;
}

/**
 * The demo's name → tracker + supervisor mapping (the CLI has its own; this one must stay free of
 * Node imports). StableDrag = discriminative tracking (Eq. 2–3) + confident supervision (Eq. 5);
 * DragGAN = nearest-neighbour tracking + motion supervision (Eq. 1).
 */
export function createDemoMethod(s: DragSettings): DemoMethod {
  const stable = s.method === 'stabledrag';
  const tracker: PointTracker = stable
    ? new DiscriminativeTracker({ radius: s.r2, lambda: s.lambda })
    : new NearestNeighbourTracker({ radius: s.r2 });
  const Confident = motionExport('ConfidentSupervision');
  const Motion = motionExport('MotionSupervision');
  let supervisor: MotionSupervisor;
  let supervision: string;
  if (stable && Confident) {
    supervisor = new Confident({ r1: s.r1, tau: s.tau, maskWeight: s.maskWeight });
    supervision = 'confident supervision';
  } else if (Motion) {
    supervisor = new Motion({ r1: s.r1, maskWeight: s.maskWeight });
    supervision = 'motion supervision';
  } else {
    // @stabledrag/motion is still being written; until it ships its classes, use Eq. 1 from here.
    supervisor = new FallbackMotionSupervision({ r1: s.r1, maskWeight: s.maskWeight });
    supervision = 'motion supervision (demo fallback)';
  }
  const label = `${stable ? 'StableDrag' : 'DragGAN'}: ${tracker.name} tracking, ${supervision}`;
  return { label, tracker, supervisor };
}
