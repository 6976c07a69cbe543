#!/usr/bin/python3
"""Held-out renders of the faces2 renderer, as PNGs, for the ONNX evaluation of the embedded model.

  /usr/bin/python3 tools/diffusion/render_heldout.py [--n 16] [--out tools/.cache/diffusion/heldout]

The set evaluate.py used: theta from numpy's default_rng(20 000), a generator apart from the
training renders' (seed, default 0) and train.py's own held-out set's (10 000 + seed). Writes
heldout-00.png, heldout-01.png, ... (128² RGB, uint8 as the TypeScript API takes images) and theta.npy.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "dataset"))
import faces2  # noqa: E402

SEED = 20_000
RES = 128  # the embedded model's resolution


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--out", default=os.path.join(ROOT, "tools", ".cache", "diffusion", "heldout"))
    args = ap.parse_args()
    theta = faces2.sample_theta(np.random.default_rng(SEED), args.n)
    images = faces2.to_uint8(faces2.render(theta, res=RES))
    os.makedirs(args.out, exist_ok=True)
    for i, img in enumerate(images):
        Image.fromarray(img).save(os.path.join(args.out, f"heldout-{i:02d}.png"))
    np.save(os.path.join(args.out, "theta.npy"), theta)
    print(f"{args.n} faces2 renders (seed {SEED}) -> {args.out}")


if __name__ == "__main__":
    main()
