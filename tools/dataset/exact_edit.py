"""Exact answers to drag tasks on the faces2 renderer.

faces2 renders image(x) = scene(x + D(x)), with D a cubic B-spline displacement field that is
linear in the control offsets C (theta's warp entries times WARP_AMP). For an original theta0
with field D0, dragging the content at handle h to target t means: the edited image at t shows
the scene point the original showed at h,

    t + D'(t) = h + D0(h),                                   (1)

and a fixed region F (the black part of a task's mask) keeps its pixels: D'(x) = D0(x), x in F.
Both are linear in C', so C' is the least-squares solution of (1) (heavily weighted), the fixed
condition on a grid of points in F, and a prior that keeps C' - C0 small and smooth (a discrete
gradient penalty between neighbouring control points). The scene (every part parameter) is left
as it is, so the edited image is the renderer's own image of the solved theta: the exact edit.

The true correspondence: the content at original pixel p lands where x + D'(x) = p + D0(p);
`landed` solves that by fixed-point iteration (a contraction while |dD'/dx| < 1, which the
smooth field satisfies for the drags here; the residual is reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import faces2

G = faces2.GRID
AMP = faces2.WARP_AMP


def basis_2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights of the G*G control points (row-major: y index, then x) at points [N] -> [N, G*G]."""
    return (faces2.warp_basis(y)[:, :, None] * faces2.warp_basis(x)[:, None, :]).reshape(len(x), G * G)


def _grad_operator() -> np.ndarray:
    """Differences between horizontally and vertically neighbouring control points -> [E, G*G]."""
    rows = []
    for i in range(G):
        for j in range(G):
            k = i * G + j
            if j + 1 < G:
                r = np.zeros(G * G)
                r[k], r[k + 1] = -1, 1
                rows.append(r)
            if i + 1 < G:
                r = np.zeros(G * G)
                r[k], r[k + G] = -1, 1
                rows.append(r)
    return np.array(rows)


@dataclass
class ExactEdit:
    theta: np.ndarray  # edited parameters [P]
    landed_px: np.ndarray  # [K, 2] where each handle's content is in the edited image (pixels)
    residual_px: np.ndarray  # [K] |landed - target|
    max_abs_warp_theta: float  # > 1: outside the training range of the warp entries


def solve(
    theta0: np.ndarray,
    handles_px: np.ndarray,
    targets_px: np.ndarray,
    fixed: np.ndarray | None = None,
    res: int = faces2.RES,
    pair_weight: float = 1e4,
    fixed_step: int = 4,
    smooth: float = 1e-2,
    damping: float = 1e-3,
    bounded: bool = False,
) -> ExactEdit:
    """Solve the warp of theta0 so each handle's content lands on its target.

    handles_px, targets_px: [K, 2] image pixels (x right, y down, pixel centres at integers).
    fixed: optional bool [res, res], True where the image must stay (a task mask's black part).
    bounded: keep every warp entry of theta in the training range [-1, 1] (bounded least squares);
    the handles then land exactly only when the drag is possible inside that range.
    """
    theta0 = np.asarray(theta0, np.float32)
    h = faces2.px_to_coord(np.asarray(handles_px, np.float32).reshape(-1, 2), res)
    t = faces2.px_to_coord(np.asarray(targets_px, np.float32).reshape(-1, 2), res)
    c0 = np.stack([theta0[faces2.WARP_X], theta0[faces2.WARP_Y]], 1).astype(np.float64) * AMP  # [G*G, 2]
    d0h = basis_2d(h[:, 0], h[:, 1]) @ c0
    q = h + d0h  # scene points of the handles, eq. (1)
    blocks_a = [np.sqrt(pair_weight) * basis_2d(t[:, 0], t[:, 1])]
    blocks_b = [np.sqrt(pair_weight) * (q - t)]
    if fixed is not None and fixed.any():
        ys, xs = np.nonzero(fixed[::fixed_step, ::fixed_step])
        fx = faces2.px_to_coord(xs * fixed_step, res)
        fy = faces2.px_to_coord(ys * fixed_step, res)
        wf = basis_2d(fx, fy)
        blocks_a.append(wf / np.sqrt(len(fx)) * np.sqrt(50.0))
        blocks_b.append(wf @ c0 / np.sqrt(len(fx)) * np.sqrt(50.0))
    # prior on the change C' - C0: smooth (neighbour differences) and small
    gop = _grad_operator()
    blocks_a.append(np.sqrt(smooth) * gop)
    blocks_b.append(np.sqrt(smooth) * gop @ c0)
    blocks_a.append(np.sqrt(damping) * np.eye(G * G))
    blocks_b.append(np.sqrt(damping) * c0)
    A = np.concatenate(blocks_a, 0)
    b = np.concatenate(blocks_b, 0)
    if bounded:
        from scipy.optimize import lsq_linear

        c1 = np.stack([lsq_linear(A, b[:, k], bounds=(-AMP, AMP)).x for k in range(2)], 1)
    else:
        c1 = np.linalg.lstsq(A, b, rcond=None)[0]  # [G*G, 2]
    theta = theta0.copy()
    theta[faces2.WARP_X] = (c1[:, 0] / AMP).astype(np.float32)
    theta[faces2.WARP_Y] = (c1[:, 1] / AMP).astype(np.float32)
    landed = landed_px(theta0, theta, np.asarray(handles_px, np.float32).reshape(-1, 2), res)
    resid = np.linalg.norm(landed - np.asarray(targets_px, np.float32).reshape(-1, 2), axis=1)
    warp = np.concatenate([theta[faces2.WARP_X], theta[faces2.WARP_Y]])
    return ExactEdit(theta, landed, resid, float(np.abs(warp).max()))


def landed_px(theta0: np.ndarray, theta1: np.ndarray, p_px: np.ndarray, res: int = faces2.RES, iters: int = 60):
    """Where the content at original pixels p [N, 2] is in the image of theta1: x + D1(x) = p + D0(p)."""
    p = faces2.px_to_coord(p_px, res).astype(np.float64)
    q = p + faces2.displacement_at(theta0, p[:, 0], p[:, 1])
    x = q - faces2.displacement_at(theta1, q[:, 0], q[:, 1])
    for _ in range(iters):
        x = q - faces2.displacement_at(theta1, x[:, 0], x[:, 1])
    return faces2.coord_to_px(x, res)


def flow_px(theta0: np.ndarray, theta1: np.ndarray, res: int = faces2.RES) -> np.ndarray:
    """Forward correspondence of every original pixel: [res, res, 2] positions (x, y) in the edit."""
    yy, xx = np.mgrid[0:res, 0:res].astype(np.float32)
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    return landed_px(theta0, theta1, pts, res).reshape(res, res, 2).astype(np.float32)
