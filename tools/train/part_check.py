"""How well generators draw the small facial parts: for the 32 held-out images (train.held_out_set,
or with --set 128 a larger fixed set of its own),
in a window of 11 x 11 image px around each part's keypoints (landmarks2.KEYPOINTS, placed in the
image through the renderer's displacement field), the L1 of the EMA generator to the renderer and
the detail ratio: mean |finite-difference gradient| of the generator's window over the renderer's
(1 = as sharp as the renderer; a blurred or missing part scores well below 1).

    /usr/bin/python3 tools/train/part_check.py [--raw] CKPT [CKPT ...]
    /usr/bin/python3 tools/train/part_check.py --per-image nose OLD.pt NEW.pt   # which images a part changed on
    /usr/bin/python3 tools/train/part_check.py --set 128 --noninferior 0.05 DEFAULT.pt NEW.pt   # the adoption test

--noninferior M passes a part when the paired 95 % interval (t over the images) of NEW's window L1
minus DEFAULT's has its upper end below M times DEFAULT's L1 for that part: one image swinging
cannot fail it, a rise shown to be larger than the margin does (tools/README.md, the rule of the
eighth session of 7 Dec 2026).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch
from scipy import stats

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
SET_SEEDS = {32: None, 128: 20261207}  # None: train.held_out_set, the logs' images


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


def held_out_latents(cfg: dict, n: int) -> tuple[np.ndarray, torch.Tensor]:
    """The fixed set of n held-out latents and their renders: the logs' 32, or 128 of its own."""
    seed = SET_SEEDS[n]
    if seed is None:
        return train.held_out_set(train.faces2, cfg)
    z = np.random.default_rng(seed).standard_normal((n, cfg["z_dim"])).astype(np.float32)
    return z, train.to_float(train.render_z(z, train.faces2, cfg["resolution"]))


def held_out(path: str, raw: bool, n: int = 32):
    """The checkpoint, its generator's images y and the renderer's x on the n held-out latents,
    and each image's landmarks (every name in PARTS)."""
    ck = torch.load(path)
    cfg = ck["config"]
    G = Generator(**cfg).eval()
    G.load_state_dict(ck["G" if raw else "G_ema"])
    z, x = held_out_latents(cfg, n)
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


def part_l1(path: str, part: str, raw: bool, n: int = 32) -> np.ndarray:
    """The part's window L1 on each of the n held-out images: [n]."""
    _, y, x, lms = held_out(path, raw, n)
    return per_image_l1(y, x, lms, part)


def per_image_l1(y: torch.Tensor, x: torch.Tensor, lms: list[dict], part: str) -> np.ndarray:
    gw, tw = part_windows(y, x, lms, part)
    return (gw - tw).abs().flatten(1).mean(1).numpy()


def paired_interval(new: np.ndarray, old: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of new - old and its two-sided t interval over the images (paired)."""
    d = np.asarray(new, np.float64) - np.asarray(old, np.float64)
    half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def noninferior(old_path: str, new_path: str, margin: float, raw: bool, n: int) -> bool:
    """The adoption test: every part's paired interval ends below margin x the old L1, and the
    whole-image L1 falls. Prints one row per part."""
    runs = [held_out(p, raw, n) for p in (old_path, new_path)]
    ok = True
    print(f"{n} images | {os.path.relpath(old_path)} | {os.path.relpath(new_path)} | change (95 % interval) | margin | pass")
    for part in PARTS:
        old, new = (per_image_l1(y, x, lms, part) for _, y, x, lms in runs)
        mean, lo, hi = paired_interval(new, old)
        bound = margin * float(old.mean())
        ok &= hi < bound
        print(f"{part} | {old.mean():.4f} | {new.mean():.4f} | {mean:+.4f} ({lo:+.4f} .. {hi:+.4f}) | {bound:.4f} | {'yes' if hi < bound else 'NO'}")
    whole = [(y - x).abs().mean().item() for _, y, x, _ in runs]
    ok &= whole[1] < whole[0]
    print(f"whole image | {whole[0]:.4f} | {whole[1]:.4f} | {whole[1] - whole[0]:+.4f} | below | {'yes' if whole[1] < whole[0] else 'NO'}")
    print("passes" if ok else "fails")
    return ok


def per_image(paths: list[str], part: str, raw: bool, n: int = 32) -> None:
    """One row per held-out image, largest change (last checkpoint minus first) first."""
    cols = [part_l1(p, part, raw, n) for p in paths]
    change = cols[-1] - cols[0]
    print("image | " + " | ".join(os.path.relpath(p) for p in paths) + " | change")
    for b in np.argsort(-change):
        print(f"{b} | " + " | ".join(f"{c[b]:.4f}" for c in cols) + f" | {change[b]:+.4f}")
    mean, lo, hi = paired_interval(cols[-1], cols[0])
    print("mean | " + " | ".join(f"{c.mean():.4f}" for c in cols) + f" | {mean:+.4f} (95 %: {lo:+.4f} .. {hi:+.4f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt", nargs="+")
    ap.add_argument("--raw", action="store_true", help="the trained generator instead of its EMA (short A/Bs: the EMA lags ~1 000 steps)")
    ap.add_argument("--per-image", choices=list(PARTS), help="print this part's L1 on each held-out image instead of the table")
    ap.add_argument("--set", type=int, choices=sorted(SET_SEEDS), default=32, help="which fixed held-out set: the logs' 32, or 128")
    ap.add_argument("--noninferior", type=float, metavar="MARGIN", help="OLD NEW: the adoption test (exit 1 when it fails)")
    args = ap.parse_args()
    if args.noninferior is not None:
        if len(args.ckpt) != 2:
            ap.error("--noninferior takes two checkpoints: the default, then the candidate")
        sys.exit(0 if noninferior(*args.ckpt, args.noninferior, args.raw, args.set) else 1)
    if args.per_image:
        per_image(args.ckpt, args.per_image, args.raw, args.set)
        return
    print("checkpoint | " + " | ".join(f"{p} L1 / detail" for p in PARTS) + " | whole image L1")
    for path in args.ckpt:
        ck, y, x, lms = held_out(path, args.raw, args.set)
        cells = []
        for part in PARTS:
            gw, tw = part_windows(y, x, lms, part)
            cells.append(f"{(gw - tw).abs().mean().item():.4f} / {(detail(gw) / detail(tw)).item():.2f}")
        print(f"{os.path.relpath(path)} (step {ck['step']}) | " + " | ".join(cells) + f" | {(y - x).abs().mean().item():.4f}")


if __name__ == "__main__":
    main()
