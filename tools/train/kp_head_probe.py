"""Could a nonlinear keypoint head place the blobs closer than the linear ridge fit, and stay as
calm off the mapping's w? Fits, on a checkpoint's EMA mapping, the ridge head that training uses
(--kp-noise) and a small MLP trained on w plus the same isotropic noise, and prints for each the
held-out fit error and the keypoints' move for random steps / steps towards other seeds
(kp_head_check's measures), all in image pixels. Changes no checkpoint.

    /usr/bin/python3 tools/train/kp_head_probe.py CKPT [--noise 0.1] [--hidden 256] [--steps 3000]
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kp_head_check  # noqa: E402
import train  # noqa: E402
from networks import Generator  # noqa: E402


def data(G: Generator, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    z = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, G.z_dim)).astype(np.float32))
    kp = train.landmarks2.scene_keypoints(torch.erf(z / math.sqrt(2.0)).numpy(), G.keypoints)
    with torch.no_grad():
        return G.mapping(z), torch.from_numpy(kp).reshape(n, -1)


def responses(head, w: torch.Tensor, step: float) -> tuple[float, float]:
    """kp_head_check's measure on any head: moves for random steps from w[0] and towards w[1:]."""
    g = torch.Generator().manual_seed(1)
    rand = torch.randn(len(w) - 1, w.shape[1], generator=g)
    moves = kp_head_check.head_moves(head, w[:1], [rand, w[1:] - w[:1]], step)
    return moves[0], moves[1]


def fit_mlp(w: torch.Tensor, kp: torch.Tensor, noise: float, hidden: int, steps: int) -> torch.nn.Module:
    torch.manual_seed(0)
    mu, sd = w.mean(0), w.std(0).mean()
    net = torch.nn.Sequential(torch.nn.Linear(w.shape[1], hidden), torch.nn.SiLU(), torch.nn.Linear(hidden, hidden),
                              torch.nn.SiLU(), torch.nn.Linear(hidden, kp.shape[1]))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    head = lambda v: net((v - mu) / sd)  # noqa: E731
    for i in range(steps):
        for group in opt.param_groups:
            group["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * i / steps))
        idx = torch.randint(0, len(w), (256,))
        x = w[idx] + noise * torch.randn(256, w.shape[1])  # the ridge's isotropic noise, sampled
        loss = (head(x) - kp[idx]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return head


def fit_random_features(w: torch.Tensor, kp: torch.Tensor, noise: float, width: int, copies: int = 4) -> torch.nn.Module:
    """kp ~ [SiLU(R w' + b), w, 1] @ sol by least squares, with fixed random R, b (w' standardised):
    a closed-form refit like the ridge's, so train.py's refit machinery would keep working. The
    noise is sampled (copies of w + noise) since the ridge's noise equivalence holds only for a
    linear head."""
    g = torch.Generator().manual_seed(0)
    mu, sd = w.mean(0), w.std(0).mean()
    r = torch.randn(w.shape[1], width, generator=g) / math.sqrt(w.shape[1])
    b = torch.rand(width, generator=g) * 2 - 1
    feats = lambda v: torch.cat([torch.nn.functional.silu((v - mu) / sd @ r + b), v, torch.ones(len(v), 1)], 1)  # noqa: E731
    x = torch.cat([w + noise * torch.randn(w.shape, generator=g) for _ in range(copies)])
    a = feats(x).double()
    sol = torch.linalg.solve(a.T @ a + 1e-3 * torch.eye(a.shape[1], dtype=a.dtype), a.T @ kp.repeat(copies, 1).double()).float()
    return lambda v: feats(v) @ sol


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--step", type=float, default=0.45)
    ap.add_argument("--features", type=int, default=0, help="also a random-features head of this width (closed-form fit)")
    args = ap.parse_args()
    ck = torch.load(args.ckpt)
    G = Generator(**ck["config"]).eval()
    G.load_state_dict(ck["G_ema"])
    px = ck["config"]["resolution"] / 2  # [-1, 1] -> image px
    w, kp = data(G, 16384, 0)
    w_test, kp_test = data(G, 1024, 1)
    a = torch.cat([w, torch.ones(len(w), 1)], 1).double()
    sol = train.ridge_solve(a, kp.double(), len(w) * args.noise**2).float()
    heads = {
        f"linear ridge (noise {args.noise})": lambda v: torch.cat([v, torch.ones(len(v), 1)], 1) @ sol,
        f"MLP {args.hidden}x2 (noise {args.noise})": fit_mlp(w, kp, args.noise, args.hidden, args.steps),
    }
    if args.features:
        heads[f"random features {args.features} (noise {args.noise})"] = fit_random_features(w, kp, args.noise, args.features)
    print("head | held-out fit error (px, per coordinate) | random step (px) | step toward seeds (px)")
    for name, head in heads.items():
        with torch.no_grad():
            err = (head(w_test) - kp_test).abs().mean().item() * px
        rand, toward = responses(head, w_test[:17], args.step)
        print(f"{name} | {err:.2f} | {rand * px:.2f} | {toward * px:.2f}")


if __name__ == "__main__":
    main()
