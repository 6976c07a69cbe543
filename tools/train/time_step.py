"""Time training steps (forward, loss, backward, Adam) of a network configuration, and the
renderer, on random data: what chose the resolution and channels of a model.

    /usr/bin/python3 tools/train/time_step.py --config faces2 --threads 2 [--steps 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from networks import CONFIGS, Generator  # noqa: E402
from train import DATA, loss_fn, render_z  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), default="faces2")
    ap.add_argument("--data", choices=sorted(DATA), default=None, help="also time rendering 4 images")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = CONFIGS[args.config]
    G = Generator(**cfg)
    n_params = sum(p.numel() for p in G.parameters())
    opt = torch.optim.Adam(G.parameters(), lr=1e-3)
    R = cfg["resolution"]
    z = torch.randn(args.batch, cfg["z_dim"])
    tgt = torch.rand(args.batch, 3, R, R) * 2 - 1
    times = []
    for _ in range(args.steps + 1):
        t = time.perf_counter()
        loss, _ = loss_fn(G(z), tgt, 1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    med = float(np.median(times[1:]))
    print(f"{args.config}: {R} px, {n_params / 1e6:.2f} M params, batch {args.batch}, {args.threads} thread(s): "
          f"median step {med:.3f} s (min {min(times[1:]):.3f}, first {times[0]:.3f})")
    if args.data:
        zz = np.random.default_rng(0).standard_normal((4, cfg["z_dim"])).astype(np.float32)
        t = time.perf_counter()
        render_z(zz, DATA[args.data], R)
        print(f"render 4 images of {args.data} at {R} px: {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
