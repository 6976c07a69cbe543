"""How the displacement head answers the bench's exact edits: its control offsets at the seed's z
and at the exact edit's z' = sqrt(2) erfinv(theta') (clamped to |theta| <= 0.999, as the bench's
exact-z.ts does) against the renderer's own offsets, and the slope of its change against the
renderer's change (1 = the model moves content as the renderer does).

    /usr/bin/python3 tools/train/exact_head_check.py CKPT [TASKS_DIR]   # default apps/bench/tasks-faces2
"""

from __future__ import annotations

import glob
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "dataset"))
import faces2  # noqa: E402
from networks import Generator  # noqa: E402


def z_of(theta: np.ndarray) -> torch.Tensor:
    th = torch.tensor(np.clip(np.asarray(theta, np.float64), -0.999, 0.999))
    return (torch.erfinv(th) * math.sqrt(2.0)).float()[None]


def main() -> None:
    ck = torch.load(sys.argv[1])
    tasks = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "apps", "bench", "tasks-faces2")
    G = Generator(**ck["config"]).eval()
    G.load_state_dict(ck["G_ema"])
    scale = faces2.WARP_AMP * G.feature_res / 2
    err0, err1, true_d, pred_d = [], [], [], []
    for f in sorted(glob.glob(os.path.join(tasks, "exact", "*.json"))):
        e = json.load(open(f))
        t0, t1 = np.array(e["theta0"]), np.clip(np.array(e["theta"]), -0.999, 0.999)
        with torch.no_grad():
            g0, g1 = (G.geometry(G.mapping(z_of(t)))[0].numpy() for t in (t0, t1))
        c0, c1 = (np.stack([t[faces2.WARP_X], t[faces2.WARP_Y]]) * scale for t in (t0, t1))
        err0.append(np.abs(g0 - c0).mean())
        err1.append(np.abs(g1 - c1).mean())
        moved = np.abs(c1 - c0) > 1e-4
        true_d.append((c1 - c0)[moved])
        pred_d.append((g1 - g0)[moved])
    dt, dp = np.concatenate(true_d), np.concatenate(pred_d)
    print(f"step {ck['step']}, {len(err0)} exact edits: head error {np.mean(err0):.3f} feature px at the seeds' z, {np.mean(err1):.3f} at z'")
    print(f"  {dt.size} moved offsets: renderer's change |{np.abs(dt).mean():.3f}| feature px, head's change off by {np.abs(dp - dt).mean():.3f}, slope {(dp * dt).sum() / (dt * dt).sum():.2f}")


if __name__ == "__main__":
    main()
