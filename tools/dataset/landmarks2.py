"""Landmarks of faces2 images in pixels: the points drag tasks start from.

Each landmark is computed from theta with the same formulas faces2.render uses (scene
coordinates, head-local for the face parts), then mapped through the displacement field: the
pixel x that shows scene point s solves x + D(x) = s (fixed-point iteration, as in exact_edit).
`test_faces2.py` checks each against the renderer (moving the landmark's own part moves the
image right there).
"""

from __future__ import annotations

import numpy as np

import faces2

NAMES = [
    "pupil_l", "pupil_r", "mouth_corner_l", "mouth_corner_r", "nose_tip",
    "ear_l", "ear_r", "lock_tip_l", "lock_tip_r", "collar_tip_l", "collar_tip_r",
]


def _scene_points(theta: np.ndarray) -> dict[str, tuple[float, float]]:
    t = {n: float(np.clip(theta[i], -1, 1)) for i, n in enumerate(faces2.PARAM_NAMES[: faces2.N_PART])}
    hx = 0.10 * t["head_x"]
    hy = -0.03 + 0.07 * t["head_y"]
    s = 1.0 + 0.10 * t["head_size"]
    hh = 0.64 * s
    hw = hh * (0.78 + 0.10 * t["head_aspect"])
    roll = 0.25 * t["head_roll"]
    cr, sr = np.cos(roll), np.sin(roll)
    yaw = t["head_yaw"]
    fshift = 0.20 * hw * yaw
    fsq = 1.0 - 0.15 * abs(yaw)
    vol = 1.06 + 0.10 * (t["hair_volume"] + 1)

    def world(lx: float, ly: float) -> tuple[float, float]:
        # inverse of LX = cr*dx + sr*dy, LY = -sr*dx + cr*dy
        return hx + cr * lx - sr * ly, hy + sr * lx + cr * ly

    pts: dict[str, tuple[float, float]] = {}
    ers = 0.10 * s * (1 + 0.20 * t["eye_size"])
    erh = ers * 0.62
    for side, key in ((-1.0, "l"), (1.0, "r")):
        exx = fshift + side * hw * fsq * 0.40 + 0.06 * t[f"eye_{key}_x"]
        eyy = hh * (-0.02) + 0.06 * t[f"eye_{key}_y"]
        gx = (0.45 * t["gaze_x"] + 0.25 * yaw) * ers
        gy = 0.30 * t["gaze_y"] * erh
        pts[f"pupil_{key}"] = world(exx + gx, eyy + gy)
        pts[f"eye_{key}"] = world(exx, eyy)
        # the lid line's middle (faces2.render: lid_y at ex_ = 0) and the brow's two ends
        close = 0.04 + 0.56 * (t[f"lid_{key}"] + 1) * 0.5
        pts[f"lid_{key}"] = world(exx, eyy - erh + 2 * erh * close)
        bh = eyy - ers * (1.25 + 0.45 * (t[f"brow_{key}_y"] + 1) * 0.5)
        tilt = 0.40 * t[f"brow_{key}_tilt"]
        pts[f"brow_in_{key}"] = world(exx - side * ers * 0.95, bh - tilt * ers)
        pts[f"brow_out_{key}"] = world(exx + side * ers * 1.15, bh + 0.15 * ers)
        vis = float(np.clip(1.0 - side * yaw * 0.8, 0.15, 1.0))
        ex = side * (hw * 0.97 - 0.2 * fshift * side + 0.05 * (t[f"ear_{key}_out"] + 0.3) * vis)
        pts[f"ear_{key}"] = world(ex, 0.02 * s + 0.08 * t[f"ear_{key}_y"])
        tip_x = side * hw * (1.02 + 0.12 * t[f"lock_{key}_x"]) * vol
        tip_y = hh * (0.50 + 0.20 * t[f"lock_{key}_y"] + 0.10 * t["hair_length"])
        pts[f"lock_tip_{key}"] = world(tip_x, tip_y)
        scx = hx * 0.6
        ny = hy + hh + 0.33 - 0.40
        pts[f"collar_tip_{key}"] = (scx + side * (0.27 * s + 0.07 * t[f"collar_{key}_x"]), ny + 0.20 * s + 0.07 * t[f"collar_{key}_y"])
    my = hh * (0.50 + 0.08 * t["mouth_y"])
    mw = hw * fsq * 0.33
    mcx = fshift * 1.1
    pts["mouth_corner_l"] = world(mcx - mw + 0.06 * t["mouth_l_x"], my + 0.06 * t["mouth_l_y"])
    pts["mouth_corner_r"] = world(mcx + mw + 0.06 * t["mouth_r_x"], my + 0.06 * t["mouth_r_y"])
    nl = hh * (0.20 + 0.07 * t["nose_length"])
    nx, ny_tip = fshift * 1.25 + 0.05 * t["nose_x"], 0.03 * hh + nl + 0.04 * t["nose_y"]
    pts["nose_tip"] = world(nx, ny_tip)
    pts["nose_top"] = world(fshift * 1.1, 0.03 * hh)
    nw = 0.040 * s * (1 + 0.3 * t["nose_width"])
    pts["nostril_l"] = world(nx - 0.6 * nw, ny_tip + 0.008)
    pts["nostril_r"] = world(nx + 0.6 * nw, ny_tip + 0.008)
    return pts


# the points the faces2wk generator is told about (tools/train/networks.py): the drag landmarks and
# the eye centres (the lids and the sclera sit there; the pupil is off them by the gaze)
# (faces2wk: the first 13). faces2wk2 adds the thin parts an L1 fit drops when it does not know
# where they are: lid lines, both ends of each brow, the nose's bridge top and nostrils (22).
KEYPOINTS = NAMES + ["eye_l", "eye_r"] + [
    "lid_l", "lid_r", "brow_in_l", "brow_out_l", "brow_in_r", "brow_out_r", "nose_top", "nostril_l", "nostril_r",
]


def scene_keypoints(theta: np.ndarray, k: int) -> np.ndarray:
    """Scene coordinates ([-1, 1], before the displacement field) of the first k KEYPOINTS (a
    network's `keypoints`): [B, k, 2] for theta [B, P]."""
    if not 0 < k <= len(KEYPOINTS):
        raise ValueError(f"k = {k}: landmarks2 knows {len(KEYPOINTS)} keypoints")
    names = KEYPOINTS[:k]
    out = np.zeros((len(theta), k, 2), np.float32)
    for b, th in enumerate(np.asarray(theta, np.float32)):
        pts = _scene_points(th)
        out[b] = [pts[n] for n in names]
    return out


def landmarks_px(theta: np.ndarray, res: int = faces2.RES, iters: int = 60, names: list[str] = NAMES) -> dict[str, np.ndarray]:
    """Pixel position (x, y) of each landmark (or of `names`, e.g. KEYPOINTS) in the image of theta."""
    pts = _scene_points(np.asarray(theta, np.float32))
    s = np.array([pts[n] for n in names], np.float64)
    x = s.copy()
    for _ in range(iters):
        x = s - faces2.displacement_at(theta, x[:, 0], x[:, 1])
    px = faces2.coord_to_px(x, res)
    return {n: px[i] for i, n in enumerate(names)}
