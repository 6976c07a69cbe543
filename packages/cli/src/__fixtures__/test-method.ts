import { sampleBilinear, scatterBilinear } from '@stabledrag/core';
import type { MotionSupervisor, Point } from '@stabledrag/core';
import { NearestNeighbourTracker } from '@stabledrag/tracker';
import type { DragMethod, MethodName, MethodSettings } from '../methods.js';

/**
 * A test double for createMethod that does not need @stabledrag/motion: the nearest-neighbour
 * tracker with a bare Eq. 1 on the handle point only (|sg(F(p)) − F(p + d)|₁, gradient through
 * F(p + d)). Enough to move the reference backend's blobs, so the CLI plumbing can be tested.
 */
export function createTestMethod(name: MethodName, settings: MethodSettings): DragMethod {
  const supervisor: MotionSupervisor = {
    name: 'test-eq1',
    init: () => {},
    compute: ({ features, handles, targets }) => {
      const grad = new Float32Array(features.data.length);
      let loss = 0;
      const branches = handles.map((p, i) => {
        const t = targets[i]!;
        const len = Math.hypot(t.x - p.x, t.y - p.y);
        if (len < 1) return 'none' as const;
        const q: Point = { x: p.x + (t.x - p.x) / len, y: p.y + (t.y - p.y) / len };
        const f0 = sampleBilinear(features, [p]);
        const f1 = sampleBilinear(features, [q]);
        const g = new Float32Array(f1.length);
        for (let c = 0; c < g.length; c++) {
          const e = f1[c]! - f0[c]!;
          loss += Math.abs(e);
          g[c] = Math.sign(e);
        }
        scatterBilinear(features, [q], g, grad);
        return 'motion' as const;
      });
      return { loss, grad, branches };
    },
  };
  return { name, label: `test ${name}`, tracker: new NearestNeighbourTracker({ radius: settings.r2 }), supervisor };
}
