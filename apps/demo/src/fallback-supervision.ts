import { sampleBilinear, scatterBilinear } from '@stabledrag/core';
import type { FeatureMap, Mask, MotionSupervisor, Point, SupervisionBranch, SupervisionInput, SupervisionResult } from '@stabledrag/core';

/**
 * DragGAN's motion supervision (StableDrag Eq. 1) plus the fixed-region term, for the demo while
 * @stabledrag/motion has no exports: for every q within r1 of a handle, mean |F(q + d) − sg(F(q))|
 * with d the unit step towards the target; plus maskWeight · mean |(F − F0)·(1 − mask)|.
 */
export class FallbackMotionSupervision implements MotionSupervisor {
  readonly name = 'motion-fallback';
  private readonly r1: number;
  private readonly maskWeight: number;
  private f0: Float32Array | null = null;
  private fixed: Float32Array | null = null;

  constructor(options: { r1: number; maskWeight: number }) {
    this.r1 = options.r1;
    this.maskWeight = options.maskWeight;
  }

  init(features0: FeatureMap, _handles0: readonly Point[], mask?: Mask): void {
    this.f0 = new Float32Array(features0.data);
    this.fixed = null;
    if (!mask) return;
    // A feature pixel is fixed when most of the image pixels it covers are fixed.
    const { width: W, height: H, scale } = features0;
    const fixed = new Float32Array(W * H);
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        let sum = 0;
        let n = 0;
        for (let y = Math.floor(v * scale); y < Math.min(mask.height, Math.floor((v + 1) * scale)); y++) {
          for (let x = Math.floor(u * scale); x < Math.min(mask.width, Math.floor((u + 1) * scale)); x++) {
            sum += mask.data[y * mask.width + x]!;
            n++;
          }
        }
        fixed[v * W + u] = n > 0 && sum / n < 0.5 ? 1 : 0;
      }
    }
    this.fixed = fixed;
  }

  compute(input: SupervisionInput): SupervisionResult {
    const { features, handles, targets } = input;
    const C = features.channels;
    const grad = new Float32Array(features.data.length);
    let loss = 0;
    const branches: SupervisionBranch[] = [];
    const offsets: Point[] = [];
    const r = this.r1;
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++) {
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) if (dx * dx + dy * dy <= r * r) offsets.push({ x: dx, y: dy });
    }
    handles.forEach((p, i) => {
      const t = targets[i]!;
      const len = Math.hypot(t.x - p.x, t.y - p.y);
      if (len < 1) {
        branches.push('none');
        return;
      }
      const d = { x: (t.x - p.x) / len, y: (t.y - p.y) / len };
      const qs = offsets.map((o) => ({ x: p.x + o.x, y: p.y + o.y }));
      const moved = qs.map((q) => ({ x: q.x + d.x, y: q.y + d.y }));
      const a = sampleBilinear(features, qs);
      const b = sampleBilinear(features, moved);
      const scale = 1 / (C * qs.length);
      const g = new Float32Array(b.length);
      for (let k = 0; k < b.length; k++) {
        const e = b[k]! - a[k]!;
        loss += Math.abs(e) * scale;
        g[k] = Math.sign(e) * scale;
      }
      scatterBilinear(features, moved, g, grad);
      branches.push('motion');
    });
    if (this.fixed && this.f0 && this.maskWeight > 0) {
      const plane = features.width * features.height;
      const k = this.maskWeight / features.data.length;
      for (let c = 0; c < C; c++) {
        for (let n = 0; n < plane; n++) {
          if (this.fixed[n] === 0) continue;
          const idx = c * plane + n;
          const e = features.data[idx]! - this.f0[idx]!;
          loss += Math.abs(e) * k;
          grad[idx] = grad[idx]! + Math.sign(e) * k;
        }
      }
    }
    return { loss, grad, branches };
  }
}
