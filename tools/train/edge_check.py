"""What the error on outlines is: on the 32 held-out images, the EMA generator's L1 on edge pixels
(the renderer's finite-difference gradient above 0.1) and elsewhere; the blur of the target that the
generator's edges match best (a soft outline matches a blurred target better than the sharp one);
and how much of the edge error a shift of at most 1 px per 8 x 8 block removes (a misplaced outline
loses most of its error to a shift, a soft one little).

    /usr/bin/python3 tools/train/edge_check.py CKPT [CKPT ...]
"""

from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import error_scales  # noqa: E402
import train  # noqa: E402
from networks import Generator  # noqa: E402

SIGMAS = [0.0, 0.3, 0.5, 0.7, 1.0, 1.4]
EDGE = 0.1
BLOCK = 8


def blur(t: torch.Tensor, s: float) -> torch.Tensor:
    """error_scales.blur, with s = 0 the image itself."""
    return error_scales.blur(t, s) if s > 0 else t


def edge_mask(x: torch.Tensor) -> torch.Tensor:
    """[B, 1, R, R]: pixels where the target's forward difference (x or y, any channel) exceeds EDGE."""
    gx = F.pad((x[..., :, 1:] - x[..., :, :-1]).abs(), (0, 1))
    gy = F.pad((x[..., 1:, :] - x[..., :-1, :]).abs(), (0, 0, 0, 1))
    return (torch.maximum(gx, gy).amax(1, keepdim=True) > EDGE).float()


def masked_l1(a: torch.Tensor, b: torch.Tensor, m: torch.Tensor) -> float:
    return ((a - b).abs().mean(1, keepdim=True) * m).sum().item() / m.sum().item()


def shifted_block_l1(y: torch.Tensor, x: torch.Tensor, m: torch.Tensor) -> float:
    """Edge L1 when each 8 x 8 block may take the best of the 9 shifts of y by at most 1 px."""
    yp = F.pad(y, (1, 1, 1, 1), mode="replicate")
    R = y.shape[-1]
    per_shift = []
    for dy in range(3):
        for dx in range(3):
            e = (yp[..., dy : dy + R, dx : dx + R] - x).abs().mean(1, keepdim=True) * m
            per_shift.append(F.avg_pool2d(e, BLOCK) * BLOCK * BLOCK)  # edge error summed per block
    return torch.stack(per_shift).amin(0).sum().item() / m.sum().item()


def report(path: str) -> None:
    ck = torch.load(path)
    cfg = ck["config"]
    G = Generator(**cfg).eval()
    G.load_state_dict(ck["G_ema"])
    z, x = train.held_out_set(train.faces2, cfg)
    with torch.no_grad():
        y = G(torch.from_numpy(z))
    m = edge_mask(x)
    n = m.numel()
    edges = masked_l1(y, x, m) * m.sum().item() / n
    rest = masked_l1(y, x, 1 - m) * (1 - m).sum().item() / n
    fits = {s: masked_l1(y, blur(x, s), m) for s in SIGMAS}
    best = min(fits, key=fits.get)
    print(f"{os.path.relpath(path)} (step {ck['step']}): edge pixels {m.mean().item():.1%}; whole-image L1 "
          f"{edges + rest:.4f} = edges {edges:.4f} + rest {rest:.4f}")
    print("  edge L1 against the target blurred by sigma: " + ", ".join(f"{s}: {v:.4f}" for s, v in fits.items())
          + f" (best {best})")
    soft = blur(x, best)
    print(f"  edge L1 {fits[0.0]:.4f}, with a shift of <= 1 px per {BLOCK} x {BLOCK} block {shifted_block_l1(y, x, m):.4f}; "
          f"for comparison the renderer's image blurred by {best} px (soft, not misplaced): "
          f"{masked_l1(soft, x, m):.4f}, with the shift {shifted_block_l1(soft, x, m):.4f}")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        report(p)
