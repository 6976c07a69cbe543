"""Where a checkpoint's held-out error lives: L1 on the 32 held-out renders (as train.py logs it),
against blurred targets (σ = 1, 2, 4 px) and over 4 / 8 / 16-px blocks. Large coarse-scale error
means layout and colour are off, not only detail.

    /usr/bin/python3 tools/train/error_scales.py tools/checkpoints/faces2w/latest.pt [--raw]

--raw: the raw generator instead of the EMA (which lags ~1 000 steps: short A/Bs are judged on it).
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "dataset"))
import faces2  # noqa: E402
import train  # noqa: E402
from networks import Generator  # noqa: E402


def blur(t: torch.Tensor, s: float) -> torch.Tensor:
    k = 2 * max(1, math.ceil(3 * s)) + 1  # taps reach 3 s, at least one each side (sigma < 1/3 too)
    g = torch.exp(-((torch.arange(k) - k // 2) ** 2) / (2 * s * s))
    g = g / g.sum()
    t = F.conv2d(F.pad(t, (k // 2,) * 4, mode="replicate"), g.view(1, 1, 1, k).repeat(3, 1, 1, 1), groups=3)
    return F.conv2d(t, g.view(1, 1, k, 1).repeat(3, 1, 1, 1), groups=3)


def main() -> None:
    torch.set_num_threads(1)
    z = np.random.default_rng(12345).standard_normal((32, faces2.P)).astype(np.float32)  # train.py's held-out set
    x = train.to_float(train.render_z(z, faces2, faces2.RES))
    ck = torch.load(sys.argv[1])
    G = Generator(**ck["config"]).eval()
    raw = "--raw" in sys.argv[2:]
    G.load_state_dict(ck["G" if raw else "G_ema"])
    with torch.no_grad():
        y = G(torch.from_numpy(z))
    print(f"step {ck['step']} ({'raw' if raw else 'EMA'}): held-out L1 {(y - x).abs().mean():.4f}")
    for s in (1, 2, 4):
        print(f"  blurred σ={s}: model vs target {(y - blur(x, s)).abs().mean():.4f}, both blurred {(blur(y, s) - blur(x, s)).abs().mean():.4f}, detail the blur removes {(blur(x, s) - x).abs().mean():.4f}")
    for b in (4, 8, 16):
        print(f"  {b}x{b} blocks: {(F.avg_pool2d(y, b) - F.avg_pool2d(x, b)).abs().mean():.4f}")


if __name__ == "__main__":
    main()
