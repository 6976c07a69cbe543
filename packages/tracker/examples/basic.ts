import type { FeatureMap } from '@stabledrag/core';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';

// A 16-channel, 32×32 feature map of a 128×128 image (scale 4), whose content is shifted
// `shift` image pixels to the right.
const C = 16;
const H = 32;
const W = 32;
const scale = 4;
function render(shift: number): FeatureMap {
  const data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const x = (u + 0.5) * scale - 0.5 - shift; // image coordinate of the feature pixel centre
        const y = (v + 0.5) * scale - 0.5;
        data[c * H * W + v * W + u] = Math.sin(0.05 * (c + 1) * x + 0.3 * c) * Math.cos(0.04 * (c + 2) * y);
      }
    }
  }
  return { data, channels: C, height: H, width: W, scale };
}

const F0 = render(0);
const F1 = render(8);
const handle = { x: 60, y: 64 };

const stable = new DiscriminativeTracker(); // r2 = 12 px, λ = 0.3, closed-form filter
stable.init(F0, [handle]); // learns z_i on the step-0 window
const [found] = stable.track(F1, [handle]);
console.log('discriminative:', found!.point, 'confidence', found!.confidence.toFixed(3)); // { x: 68, y: 64 }

const baseline = new NearestNeighbourTracker({ norm: 'l2' });
baseline.init(F0, [handle]);
console.log('nearest neighbour:', baseline.track(F1, [handle])[0]!.point);
