import { describe, expect, it } from 'vitest';
import type { FeatureMap, MotionSupervisor, Point, PointTracker } from '@stabledrag/core';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';
import { ConfidentSupervision, MotionSupervision } from './supervision.js';

/**
 * A drag loop with the feature map itself as the optimised variable (no generator): gradient
 * descent on F with the supervision gradient, then tracking. Eq. 1 copies the content at q one
 * step towards the target each step, so the tracked handle must walk towards the target.
 */
function blobMap(): FeatureMap {
  const C = 8;
  const S = 24;
  const data = new Float32Array(C * S * S);
  for (let c = 0; c < C; c++) {
    for (let v = 0; v < S; v++) {
      for (let u = 0; u < S; u++) {
        const x = (u + 0.5) * 2 - 0.5;
        const y = (v + 0.5) * 2 - 0.5;
        const blob = Math.exp(-((x - 14) ** 2 + (y - 24) ** 2) / 18);
        data[c * S * S + v * S + u] = blob * Math.cos(0.7 * c) + 0.1 * Math.sin(0.3 * x + 0.2 * y + c);
      }
    }
  }
  return { data, channels: C, height: S, width: S, scale: 2 };
}

function drag(supervisor: MotionSupervisor, tracker: PointTracker, steps: number): Point {
  const F0 = blobMap();
  const F: FeatureMap = { ...F0, data: F0.data.slice() };
  let p: Point = { x: 14, y: 24 };
  const target = { x: 30, y: 24 };
  supervisor.init(F0, [p]);
  tracker.init(F0, [p]);
  let confidence = tracker.track(F, [p])[0]!.confidence;
  for (let step = 1; step <= steps; step++) {
    const { grad } = supervisor.compute({ features: F, handles: [p], targets: [target], confidences: [confidence], step });
    const lr = 40;
    for (let i = 0; i < F.data.length; i++) F.data[i] = F.data[i]! - lr * grad[i]!;
    const r = tracker.track(F, [p])[0]!;
    p = r.point;
    confidence = r.confidence;
  }
  return p;
}

describe('drag loop on a directly optimised feature map', () => {
  const cases: [string, () => [MotionSupervisor, PointTracker]][] = [
    ['motion + nearest neighbour', () => [new MotionSupervision({ radius: 3 }), new NearestNeighbourTracker({ radius: 6 })]],
    ['confident + discriminative', () => [new ConfidentSupervision({ radius: 3 }), new DiscriminativeTracker({ radius: 6 })]],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the handle moves towards the target`, () => {
      const [sup, tr] = make();
      const end = drag(sup, tr, 30);
      expect(end.x).toBeGreaterThanOrEqual(27); // from 14 to within 3 px of 30
      expect(Math.abs(end.y - 24)).toBeLessThanOrEqual(3);
    });
  }
});
