"""A/B from a checkpoint: does the mapping network's learning rate hold the fit back?

    /usr/bin/python3 tools/train/compare_mapping_lr.py --ckpt tools/checkpoints/faces2/latest.pt --steps 900

Renders a pool of 2048 training images and 128 held-out ones (seeds 777 and 4242), then trains two
copies of the checkpoint's raw generator (and its Adam state) on the same batches: A as saved
(mapping lr_mul 0.1), B with the mapping's learning rate ×10 (train.py --mapping-lr-scale 10).
Prints the held-out L1 of each copy every 150 steps. Raw generators, not the EMA: with EMA 0.999
an A/B of a few hundred steps would mostly measure the old weights.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from networks import CONFIGS, Generator  # noqa: E402
from train import DATA, load_adam_state, loss_fn, make_adam, render_z, to_float  # noqa: E402


def pool(data, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    z = np.random.default_rng(seed).standard_normal((n, data.P)).astype(np.float32)
    return z, np.concatenate([render_z(z[i : i + 128], data) for i in range(0, n, 128)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="tools/checkpoints/faces2/latest.pt")
    ap.add_argument("--data", default="faces2")
    ap.add_argument("--config", default="faces2")
    ap.add_argument("--steps", type=int, default=900)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = DATA[args.data]
    z, x = pool(data, 2048, 777)
    zh, xh = pool(data, 128, 4242)
    zh, xh = torch.from_numpy(zh), to_float(xh)
    ck = torch.load(args.ckpt, map_location="cpu")
    arms = {}
    for name, scale in (("A", 1.0), ("B", 10.0)):
        G = Generator(**CONFIGS[args.config])
        G.load_state_dict(ck["G"])
        opt = make_adam(G, 2e-3, scale)
        for g in opt.param_groups:
            g["lr"] = 2e-3 * g["lr_scale"]
        load_adam_state(opt, ck["opt"], G)
        arms[name] = (G, opt)

    def held_out(G) -> float:
        with torch.no_grad():
            return sum((G(zh[i : i + 32]) - xh[i : i + 32]).abs().mean().item() for i in range(0, 128, 32)) / 4

    rng = np.random.default_rng(1)
    print("step " + " ".join(f"{n}:held-out-L1" for n in arms), flush=True)
    for step in range(args.steps + 1):
        if step % 150 == 0:
            print(step, " ".join(f"{held_out(G):.4f}" for G, _ in arms.values()), flush=True)
        idx = rng.integers(0, len(z), 16)
        zb, xb = torch.from_numpy(z[idx]), to_float(x[idx])
        for G, opt in arms.values():
            loss, _ = loss_fn(G(zb), xb, 1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


if __name__ == "__main__":
    main()
