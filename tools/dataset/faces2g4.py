"""faces2 with a coarser warp: the same scene and part parameters, a 4 x 4 grid of control points.

faces2.py keeps its 6 x 6 grid (72 warp parameters, P = 131): the diffusion model, its bench
tasks and the exact edits were made with it. Here the displacement field has 16 control points
(32 warp parameters, P = 91), spaced 2/3 image units (43 px) apart instead of 0.4 (26 px), with the
same offset per control point (WARP_AMP). The generator trained on faces2 had not learnt the
72-dim warp after 11 600 steps (its response to the warp entries was uncorrelated with the
target's; tools/README.md, "A coarser warp: faces2g4"), so this is the family a second run
fits first.

    /usr/bin/python3 tools/train/train.py --data faces2g4 --config faces2g4 ...
"""

from __future__ import annotations

import numpy as np

import faces2
from faces2 import N_PART, RES, WARP_AMP, coord_to_px, px_to_coord, to_uint8  # noqa: F401  (re-exported)

GRID = 4
_WARP_NAMES = [f"warp_d{c}_{i}_{j}" for c in "xy" for i in range(GRID) for j in range(GRID)]
PARAM_NAMES = faces2.PARAM_NAMES[:N_PART] + _WARP_NAMES
P = len(PARAM_NAMES)
WARP_X = slice(N_PART, N_PART + GRID * GRID)
WARP_Y = slice(N_PART + GRID * GRID, P)


def warp_basis(u: np.ndarray) -> np.ndarray:
    return faces2.warp_basis(u, GRID)


def displacement_at(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """D(x, y) of one theta [P] at points x, y [N] (image coordinates) -> [N, 2]."""
    w = (warp_basis(y)[:, :, None] * warp_basis(x)[:, None, :]).reshape(len(x), GRID * GRID)
    th = np.asarray(theta, np.float32)
    return np.stack([w @ (th[WARP_X] * WARP_AMP), w @ (th[WARP_Y] * WARP_AMP)], 1)


def render(theta: np.ndarray, res: int = RES) -> np.ndarray:
    """theta [B,P] -> float32 [B,res,res,3] in [0,1] (as faces2.render)."""
    theta = np.asarray(theta, np.float32)
    B = theta.shape[0]
    cx = theta[:, WARP_X].reshape(B, GRID, GRID) * WARP_AMP
    cy = theta[:, WARP_Y].reshape(B, GRID, GRID) * WARP_AMP
    return faces2.render_scene(theta[:, :N_PART], cx, cy, res)


def sample_theta(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1, 1, size=(n, P)).astype(np.float32)
