"""How well generators draw the small facial parts: for the 32 held-out images (train.held_out_set),
in a window of 11 x 11 image px around each part's keypoints (landmarks2.KEYPOINTS, placed in the
image through the renderer's displacement field), the L1 of the EMA generator to the renderer and
the detail ratio: mean |finite-difference gradient| of the generator's window over the renderer's
(1 = as sharp as the renderer; a blurred or missing part scores well below 1).

    /usr/bin/python3 tools/train/part_check.py [--raw] CKPT [CKPT ...]
    /usr/bin/python3 tools/train/part_check.py --per-image nose OLD.pt NEW.pt   # which images a part changed on
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
import train  # noqa: E402
from networks import Generator  # noqa: E402

landmarks2 = train.landmarks2
PARTS = {
    "pupils": ["pupil_l", "pupil_r"],
    "lids": ["lid_l", "lid_r"],
    "brows": ["brow_in_l", "brow_out_l", "brow_in_r", "brow_out_r"],
    "nose": ["nose_tip", "nostril_l", "nostril_r"],
    "mouth corners": ["mouth_corner_l", "mouth_corner_r"],
}
HALF = 5  # window 11 x 11


def windows(img: torch.Tensor, pts: list[np.ndarray]) -> torch.Tensor:
    """[3, R, R] -> [n, 3, 11, 11] around each (x, y), clamped inside the image."""
    R = img.shape[-1]
    out = []
    for x, y in pts:
        cx = int(np.clip(round(x), HALF, R - 1 - HALF))
        cy = int(np.clip(round(y), HALF, R - 1 - HALF))
        out.append(img[:, cy - HALF : cy + HALF + 1, cx - HALF : cx + HALF + 1])
    return torch.stack(out)


def detail(w: torch.Tensor) -> torch.Tensor:
    return (w[..., 1:, :] - w[..., :-1, :]).abs().mean() + (w[..., :, 1:] - w[..., :, :-1]).abs().mean()


def held_out(path: str, raw: bool):
    """The checkpoint, its generator's images y and the renderer's x on the 32 held-out latents,
    and each image's landmarks (every name in PARTS)."""
    ck = torch.load(path)
    cfg = ck["config"]
    G = Generator(**cfg).eval()
    G.load_state_dict(ck["G" if raw else "G_ema"])
    z, x = train.held_out_set(train.faces2, cfg)
    with torch.no_grad():
        y = G(torch.from_numpy(z))
    theta = train._erf(z / math.sqrt(2.0))
    all_names = [n for names in PARTS.values() for n in names]
    lms = [landmarks2.landmarks_px(theta[b], cfg["resolution"], names=all_names) for b in range(len(z))]
    return ck, y, x, lms


def part_windows(y: torch.Tensor, x: torch.Tensor, lms: list[dict], part: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Generator and renderer windows of one part, image by image: [B, n, 3, 11, 11] each."""
    names = PARTS[part]
    gw = torch.stack([windows(y[b], [lm[n] for n in names]) for b, lm in enumerate(lms)])
    tw = torch.stack([windows(x[b], [lm[n] for n in names]) for b, lm in enumerate(lms)])
    return gw, tw


def part_l1(path: str, part: str, raw: bool) -> np.ndarray:
    """The part's window L1 on each of the 32 held-out images: [32]."""
    _, y, x, lms = held_out(path, raw)
    gw, tw = part_windows(y, x, lms, part)
    return (gw - tw).abs().flatten(1).mean(1).numpy()


def per_image(paths: list[str], part: str, raw: bool) -> None:
    """One row per held-out image, largest change (last checkpoint minus first) first."""
    cols = [part_l1(p, part, raw) for p in paths]
    change = cols[-1] - cols[0]
    print("image | " + " | ".join(os.path.relpath(p) for p in paths) + " | change")
    for b in np.argsort(-change):
        print(f"{b} | " + " | ".join(f"{c[b]:.4f}" for c in cols) + f" | {change[b]:+.4f}")
    print("mean | " + " | ".join(f"{c.mean():.4f}" for c in cols) + f" | {change.mean():+.4f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt", nargs="+")
    ap.add_argument("--raw", action="store_true", help="the trained generator instead of its EMA (short A/Bs: the EMA lags ~1 000 steps)")
    ap.add_argument("--per-image", choices=list(PARTS), help="print this part's L1 on each held-out image instead of the table")
    args = ap.parse_args()
    if args.per_image:
        per_image(args.ckpt, args.per_image, args.raw)
        return
    print("checkpoint | " + " | ".join(f"{p} L1 / detail" for p in PARTS) + " | whole image L1")
    for path in args.ckpt:
        ck, y, x, lms = held_out(path, args.raw)
        cells = []
        for part in PARTS:
            gw, tw = part_windows(y, x, lms, part)
            cells.append(f"{(gw - tw).abs().mean().item():.4f} / {(detail(gw) / detail(tw)).item():.2f}")
        print(f"{os.path.relpath(path)} (step {ck['step']}) | " + " | ".join(cells) + f" | {(y - x).abs().mean().item():.4f}")


if __name__ == "__main__":
    main()
