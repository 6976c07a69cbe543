"""How the keypoint head (faces2wk) answers off the mapping's w, where a drag's W+ goes: refits it
by train.fit_keypoint_head with each --kp-noise and prints, in image pixels, the fit error on held-out
w, the keypoints' move for random steps of norm STEP in ws[0] and for steps of the same norm
towards other seeds' w, and the raw generator's held-out L1 with that head.

    /usr/bin/python3 tools/train/kp_head_check.py CKPT [--noise 0 0.01 0.03 0.1] [--step 0.45] [--save OUT.pt --save-noise S]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402
from networks import Generator  # noqa: E402


def head_moves(head, w0: torch.Tensor, dirs: list[torch.Tensor], step: float) -> list[float]:
    """Mean keypoint move ([-1, 1] units) of any head (w -> [B, 2K]) for steps of norm step from
    w0 [1, w_dim] along each set of directions [n, w_dim]."""
    with torch.no_grad():
        k0 = head(w0).reshape(1, -1, 2)
        return [
            (head(w0 + d / d.norm(dim=1, keepdim=True) * step).reshape(len(d), -1, 2) - k0).norm(dim=-1).mean().item()
            for d in dirs
        ]


def responses(G, step: float, res: int) -> tuple[float, float]:
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        w = G.mapping(torch.randn(17, G.z_dim, generator=g))
    rand = torch.randn(16, w.shape[1], generator=g)
    moves = head_moves(G.keypoint_coords, w[:1], [rand, w[1:] - w[:1]], step)
    return moves[0] * (res / 2), moves[1] * (res / 2)  # [-1, 1] -> image px


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01, 0.03, 0.1])
    ap.add_argument("--step", type=float, default=0.45)
    ap.add_argument("--save", help="write the checkpoint with the head refitted at --save-noise")
    ap.add_argument("--save-noise", type=float, default=0.03)
    args = ap.parse_args()
    ck = torch.load(args.ckpt)
    G = Generator(**ck["config"]).eval()
    G_ema = Generator(**ck["config"]).eval()
    G.load_state_dict(ck["G"])
    G_ema.load_state_dict(ck["G_ema"])
    res = ck["config"]["resolution"]
    z_eval, x_eval = train.held_out_set(train.faces2, ck["config"])
    print("noise  fit error (px)  random step (px)  step toward seeds (px)  held-out L1 (EMA)")
    for noise in sorted(set(args.noise + ([args.save_noise] if args.save else []))):
        err = train.fit_keypoint_head(G, G_ema, np.random.default_rng(0), noise=noise) * res / G.feature_res  # feature px -> image px
        rand, toward = responses(G_ema, args.step, res)
        with torch.no_grad():
            l1 = (G_ema(torch.from_numpy(z_eval)) - x_eval).abs().mean().item()
        print(f"{noise:5.3f}  {err:14.2f}  {rand:16.2f}  {toward:22.2f}  {l1:.4f}")
        if args.save and noise == args.save_noise:
            ck = {**ck, "G": G.state_dict(), "G_ema": G_ema.state_dict()}
            torch.save(ck, args.save)
            print(f"wrote {args.save} (head refitted with noise {noise})")


if __name__ == "__main__":
    main()
