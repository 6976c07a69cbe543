import { sampleBilinear, scatterBilinear } from '@stabledrag/core';
import type { FeatureMap, Mask, MotionSupervisor, Point, SupervisionInput, SupervisionResult } from '@stabledrag/core';

/**
 * A minimal DragGAN motion supervision (Eq. 1, no template branch), used by the benchmark's own
 * tests and by `--backend reference` while @stabledrag/motion has not landed. Never used for the
 * numbers in BENCHMARKS.md: those come from @stabledrag/cli's createMethod.
 */
export class StandInMotionSupervision implements MotionSupervisor {
  readonly name = 'stand-in-motion';
  private offsets: Point[] = [];
  private f0: FeatureMap | null = null;
  private fixed: Uint8Array | null = null;

  constructor(private readonly r1: number, private readonly maskWeight = 20) {}

  init(features0: FeatureMap, _handles0: readonly Point[], mask?: Mask): void {
    this.f0 = { ...features0, data: new Float32Array(features0.data) };
    this.offsets = [];
    const r = Math.ceil(this.r1);
    for (let j = -r; j <= r; j++) for (let i = -r; i <= r; i++) if (i * i + j * j <= this.r1 * this.r1) this.offsets.push({ x: i, y: j });
    this.fixed = null;
    if (mask) {
      const { width: W, height: H, scale } = features0;
      this.fixed = new Uint8Array(W * H);
      for (let v = 0; v < H; v++) {
        for (let u = 0; u < W; u++) {
          const x = Math.min(mask.width - 1, Math.round((u + 0.5) * scale - 0.5));
          const y = Math.min(mask.height - 1, Math.round((v + 0.5) * scale - 0.5));
          this.fixed[v * W + u] = mask.data[y * mask.width + x] ? 0 : 1;
        }
      }
    }
  }

  compute({ features, handles, targets }: SupervisionInput): SupervisionResult {
    const C = features.channels;
    const grad = new Float32Array(features.data.length);
    let loss = 0;
    const branches = handles.map((p, i) => {
      const t = targets[i]!;
      const len = Math.hypot(t.x - p.x, t.y - p.y);
      if (len < 1) return 'none' as const;
      const d = { x: (t.x - p.x) / len, y: (t.y - p.y) / len };
      const qs = this.offsets.map((o) => ({ x: p.x + o.x, y: p.y + o.y }));
      const moved = qs.map((q) => ({ x: q.x + d.x, y: q.y + d.y }));
      const a = sampleBilinear(features, qs); // detached
      const b = sampleBilinear(features, moved);
      const g = new Float32Array(b.length);
      const norm = 1 / b.length;
      for (let k = 0; k < b.length; k++) {
        const e = b[k]! - a[k]!;
        loss += Math.abs(e) * norm;
        g[k] = Math.sign(e) * norm;
      }
      scatterBilinear(features, moved, g, grad);
      return 'motion' as const;
    });
    if (this.fixed && this.f0) {
      const plane = features.width * features.height;
      let n = 0;
      for (let k = 0; k < plane; k++) n += this.fixed[k]!;
      const w = n > 0 ? this.maskWeight / (n * C) : 0;
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < plane; k++) {
          if (!this.fixed[k]) continue;
          const e = features.data[c * plane + k]! - this.f0.data[c * plane + k]!;
          loss += w * Math.abs(e);
          grad[c * plane + k] = grad[c * plane + k]! + w * Math.sign(e);
        }
      }
    }
    return { loss, grad, branches };
  }
}
