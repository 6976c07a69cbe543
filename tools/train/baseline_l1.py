"""Held-out L1 of trivial predictors on a renderer's images: the scale against which a trained
generator's held-out L1 is read (faces2 images vary more than faces ones, so the same L1 means a
better fit there).

    /usr/bin/python3 tools/train/baseline_l1.py --data faces2 [--n 512]

Prints the L1 (images in [-1, 1]) of the 32 held-out images of train.py (the same z) against
(a) the mean image of --n other renderer images and (b) a per-image constant colour (its mean).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import DATA, render_z, to_float  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", choices=sorted(DATA), default="faces2")
    ap.add_argument("--n", type=int, default=512)
    args = ap.parse_args()
    data = DATA[args.data]
    z_eval = np.random.default_rng(12345).standard_normal((32, data.P)).astype(np.float32)  # as train.py
    x_eval = to_float(render_z(z_eval, data)).numpy()
    zs = np.random.default_rng(999).standard_normal((args.n, data.P)).astype(np.float32)
    mean = np.mean([to_float(render_z(zs[i : i + 64], data)).numpy().mean(0) for i in range(0, args.n, 64)], 0)
    l1_mean = np.abs(x_eval - mean[None]).mean()
    l1_flat = np.abs(x_eval - x_eval.mean(axis=(2, 3), keepdims=True)).mean()
    print(f"{args.data}: held-out L1 of the mean image {l1_mean:.4f}, of each image's mean colour {l1_flat:.4f}")


if __name__ == "__main__":
    main()
