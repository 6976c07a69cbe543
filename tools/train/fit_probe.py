"""How fast a network learns the small parts when it only has to memorise: N fixed held-out images
(train.held_out_set), trained on them alone, per-part L1 / detail ratio (part_check's windows)
every 50 steps. A few minutes on one core: the cheap first test of a network change, before a
long run (tools/README.md, "Why the eyes stay soft").

    /usr/bin/python3 tools/train/fit_probe.py --config faces2wk2h --init tools/checkpoints/faces2wk2/latest.pt --steps 200
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import edge_check  # noqa: E402
import part_check  # noqa: E402
import train  # noqa: E402
from networks import CONFIGS, Generator  # noqa: E402


def load(config: str, init: str | None) -> Generator:
    """The network of --config, from --init's trained (not EMA) weights, widened as train.py does."""
    G = Generator(**CONFIGS[config])
    if init:
        train.load_widened(G, torch.load(init)["G"], {k: v.clone() for k, v in G.state_dict().items()}, init)
    if G.keypoints:  # as with --kp-refit-every: the head is not trained by gradient
        G.kp_head_detached = True
        for p in G.kp.parameters():
            p.requires_grad_(False)
    if G.bg_waves:  # the probe has no head loss: the heads are fitted (below), not trained
        for p in list(G.tex.parameters()) + (list(G.pose.parameters()) if G.hair_strands else []):
            p.requires_grad_(False)
    return G


def fit_texture_oracle(G: Generator, z: torch.Tensor) -> None:
    """The texture (and pose) heads fitted on the probe's own latents without ridge: on so few w
    they interpolate, i.e. give each image its true parameters (the ceiling of what the heads
    can give, --tex-oracle)."""
    heads = [("tex", train.tex_columns(G))] + ([("pose", train.POSE_COLUMNS)] if G.hair_strands else [])
    with torch.no_grad():
        a = torch.cat([G.mapping(z), torch.ones(len(z), 1)], 1).double()
        for name, cols in heads:
            getattr(G, name).set_solution((torch.linalg.pinv(a) @ z[:, cols].double()).float())  # Gaussian latents


def part_weights(lms: list[dict], res: int, sigma: float = 4.0) -> torch.Tensor:
    """[N, 1, R, R]: the largest Gaussian bump (sigma px) of the keypoints at each pixel."""
    pts = torch.tensor(np.array([[lm[n] for n in train.landmarks2.KEYPOINTS] for lm in lms]), dtype=torch.float32)
    g = torch.arange(res, dtype=torch.float32)
    bx = torch.exp(-((g - pts[:, :, 0:1]) ** 2) / (2 * sigma * sigma))
    by = torch.exp(-((g - pts[:, :, 1:2]) ** 2) / (2 * sigma * sigma))
    return (by[:, :, :, None] * bx[:, :, None, :]).amax(1, keepdim=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), default="faces2wk2")
    ap.add_argument("--init", default=None, help="checkpoint to start from (default: the network's initialisation)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--mapping-lr-scale", type=float, default=10.0)
    ap.add_argument("--part-weight", type=float, default=0.0, help="extra L1 and gradient-difference term inside the keypoints' bumps (mean over the bumps)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--tex-oracle", action="store_true",
        help="networks with background waves: their head fitted exactly on the probe's own latents (default: refitted "
        "every 50 steps on the mapping's w, as train.py --init-from starts it)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    G = load(args.config, args.init)
    cfg = CONFIGS[args.config]
    z, x = train.held_out_set(train.faces2, cfg)
    z, x = torch.from_numpy(z[: args.images]), x[: args.images]
    theta = train._erf(z.numpy() / math.sqrt(2.0))
    lms = [train.landmarks2.landmarks_px(t, cfg["resolution"], names=train.landmarks2.KEYPOINTS) for t in theta]
    m = part_weights(lms, cfg["resolution"])
    opt = train.make_adam(G, args.lr, args.mapping_lr_scale)
    for g in opt.param_groups:
        g["lr"] = args.lr * g["lr_scale"]

    def part_windows(img: torch.Tensor, names: list[str]) -> torch.Tensor:
        return torch.cat([part_check.windows(img[b], [lm[n] for n in names]) for b, lm in enumerate(lms)])

    targets = {part: part_windows(x, names) for part, names in part_check.PARTS.items()}  # fixed: cut once
    edges = edge_check.edge_mask(x)

    def report(step: int, out: torch.Tensor, t0: float) -> None:
        cells = []
        for part, names in part_check.PARTS.items():
            gw, tw = part_windows(out, names), targets[part]
            cells.append(f"{part} {(gw - tw).abs().mean().item():.3f}/{(part_check.detail(gw) / part_check.detail(tw)).item():.2f}")
        edge = f"edges {edge_check.masked_l1(out, x, edges):.4f} (shifted {edge_check.shifted_block_l1(out, x, edges):.4f})"
        print(f"step {step} {time.time() - t0:.0f} s | L1 {(out - x).abs().mean().item():.4f} | {edge} | " + " | ".join(cells), flush=True)

    t0 = time.time()
    for step in range(args.steps + 1):
        if G.bg_waves and step % 50 == 0:
            if args.tex_oracle:
                fit_texture_oracle(G, z)
            else:
                err = train.fit_texture_head([G], np.random.default_rng(step), 2048)
                if G.hair_strands:
                    train.fit_pose_head([G], np.random.default_rng(step + 1), 2048, noise=0.1)
                print(f"texture head refitted: error {err:.3f}", flush=True)
        out = G(z)
        if step % 50 == 0:
            report(step, out.detach(), t0)
        if step == args.steps:
            break
        loss, _ = train.loss_fn(out, x, 1.0)
        if args.part_weight > 0:
            d = out - x
            gx = (d[..., :, 1:] - d[..., :, :-1]).abs() * m[..., :, 1:]
            gy = (d[..., 1:, :] - d[..., :-1, :]).abs() * m[..., 1:, :]
            loss = loss + args.part_weight * ((d.abs() * m).sum() + 0.5 * (gx.sum() + gy.sum())) / (3 * m.sum())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


if __name__ == "__main__":
    main()
