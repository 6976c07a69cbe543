"""Renderer of stylised faces with local freedom: the training data of the second default generator.

Like faces.py (kept for the first model), every image is a deterministic, continuous function of
theta in [-1, 1]^P: shapes are signed-distance fields with a one-pixel coverage ramp (analytic
anti-aliasing), colours move along palettes, layers are alpha-composited back to front. New here:

- parts with their own position and shape: each eye (position, lid opening; iris, pupil,
  highlight, lash line), each brow (height, tilt), the nose (tip position, length, width), each
  ear (height, how far it sticks out), each mouth corner (x, y), two hair locks whose tips move
  freely, two collar tips;
- texture that moves with the content: hair strands, background waves, shirt stripes;
- a smooth displacement field: a G x G grid of control-point offsets, interpolated with the cubic
  B-spline basis, that warps the coordinates at which the whole scene is evaluated:
  image(x) = scene(x + D(x)). D is linear in the control offsets, which is what lets
  `exact_edit.py` solve a drag exactly by least squares (see `warp_basis`).

Vectorised over the batch with numpy (float32).
"""

from __future__ import annotations

import numpy as np

from faces import HAIR, IRIS, SKIN, _cov, _ellipse_sd, _hsv, _lerp_palette, _segment_sd

RES = 128
GRID = 6  # control points per side of the displacement field
WARP_AMP = 0.12  # control-point offset at |theta| = 1, image coordinates ([-1, 1] spans the image)

_PART_NAMES = [
    # head frame
    "head_x", "head_y", "head_size", "head_aspect", "head_yaw", "head_roll", "jaw",
    # colours and texture
    "skin_tone", "hair_color", "iris_color", "bg_hue", "bg_gradient", "shirt_hue",
    "bg_tex_angle", "bg_tex_phase", "shirt_stripes", "hair_strand_phase",
    # hair
    "hair_volume", "hair_length", "fringe", "hair_part",
    "lock_l_x", "lock_l_y", "lock_r_x", "lock_r_y",
    # eyes (l/r = image left/right)
    "eye_l_x", "eye_l_y", "eye_r_x", "eye_r_y", "eye_size", "lid_l", "lid_r", "gaze_x", "gaze_y",
    # brows
    "brow_l_y", "brow_r_y", "brow_l_tilt", "brow_r_tilt", "brow_thick",
    # nose
    "nose_x", "nose_y", "nose_length", "nose_width",
    # ears
    "ear_l_y", "ear_r_y", "ear_l_out", "ear_r_out", "ear_size",
    # mouth
    "mouth_y", "mouth_l_x", "mouth_l_y", "mouth_r_x", "mouth_r_y", "mouth_open", "lip_thick",
    # collar
    "collar_l_x", "collar_l_y", "collar_r_x", "collar_r_y",
]
# warp_dx_<row>_<col>, warp_dy_<row>_<col>: row = y index, col = x index of the control point
_WARP_NAMES = [f"warp_d{c}_{i}_{j}" for c in "xy" for i in range(GRID) for j in range(GRID)]
PARAM_NAMES = _PART_NAMES + _WARP_NAMES
P = len(PARAM_NAMES)
N_PART = len(_PART_NAMES)
WARP_X = slice(N_PART, N_PART + GRID * GRID)  # theta indices of the x offsets, row-major
WARP_Y = slice(N_PART + GRID * GRID, P)

KNOTS = np.linspace(-1.0, 1.0, GRID).astype(np.float32)
H_KNOT = float(KNOTS[1] - KNOTS[0])


def _bspline3(t: np.ndarray) -> np.ndarray:
    """Uniform cubic B-spline kernel (support |t| < 2, C2, sums to 1 over integer shifts)."""
    a = np.abs(t)
    return np.where(a < 1, 2 / 3 - a**2 + a**3 / 2, np.where(a < 2, (2 - a) ** 3 / 6, 0.0)).astype(np.float32)


def warp_basis(u: np.ndarray, grid: int = GRID) -> np.ndarray:
    """1-D weights of the `grid` control points (evenly spaced over [-1, 1]) at coordinates u [N] -> [N, grid]."""
    knots = KNOTS if grid == GRID else np.linspace(-1.0, 1.0, grid).astype(np.float32)
    return _bspline3((np.asarray(u, np.float32)[:, None] - knots[None, :]) / float(knots[1] - knots[0]))


def displacement_at(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """D(x, y) of one theta [P] at points x, y [N] (image coordinates) -> [N, 2]."""
    w = (warp_basis(y)[:, :, None] * warp_basis(x)[:, None, :]).reshape(len(x), GRID * GRID)
    cx = np.asarray(theta, np.float32)[WARP_X] * WARP_AMP
    cy = np.asarray(theta, np.float32)[WARP_Y] * WARP_AMP
    return np.stack([w @ cx, w @ cy], 1)


def px_to_coord(p: np.ndarray, res: int = RES) -> np.ndarray:
    """Pixel coordinates (x right, y down, pixel centres at integers + 0.5 edges) -> [-1, 1]."""
    return (np.asarray(p, np.float32) + 0.5) * (2.0 / res) - 1.0


def coord_to_px(c: np.ndarray, res: int = RES) -> np.ndarray:
    return (np.asarray(c, np.float32) + 1.0) * (res / 2.0) - 0.5


def _tri_sd(x, y, a, b, c):
    """Signed distance to a triangle with vertices a, b, c (each a pair of [B,1,1] arrays)."""
    d = None
    s = None
    verts = [a, b, c]
    for k in range(3):
        (ax, ay), (bx, by) = verts[k], verts[(k + 1) % 3]
        ex, ey = bx - ax, by - ay
        wx, wy = x - ax, y - ay
        h = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey + 1e-9), 0, 1)
        dk = (wx - ex * h) ** 2 + (wy - ey * h) ** 2
        sk = ex * wy - ey * wx
        d = dk if d is None else np.minimum(d, dk)
        sg = np.sign(sk)
        s = sg if s is None else s + sg
    inside = np.abs(s) > 2.5  # same side of all three edges
    return np.where(inside, -1.0, 1.0) * np.sqrt(d)


def _taper_sd(x, y, ax, ay, bx, by, ra, rb):
    """Approximate signed distance to a tapered capsule (radius ra at a, rb at b)."""
    px_, py_ = x - ax, y - ay
    dx, dy = bx - ax, by - ay
    h = np.clip((px_ * dx + py_ * dy) / (dx * dx + dy * dy + 1e-9), 0.0, 1.0)
    return np.sqrt((px_ - dx * h) ** 2 + (py_ - dy * h) ** 2) - (ra + (rb - ra) * h)


class _Canvas:
    def __init__(self, bg: np.ndarray):
        self.rgb = bg

    def paint(self, alpha: np.ndarray, color: np.ndarray) -> None:
        a = alpha[..., None]
        if color.ndim == 2:
            color = color[:, None, None, :]
        self.rgb = self.rgb + (color - self.rgb) * a


def _c(rgb) -> np.ndarray:
    return np.array([rgb], np.float32)


def render(theta: np.ndarray, res: int = RES) -> np.ndarray:
    """theta [B,P] (parts clipped to [-1,1]; warp offsets not clipped) -> float32 [B,res,res,3] in [0,1].

    The warp offsets may leave [-1, 1] (exact edits of long drags need that); training samples
    them in [-1, 1].
    """
    theta = np.asarray(theta, np.float32)
    B = theta.shape[0]
    cx = theta[:, WARP_X].reshape(B, GRID, GRID) * WARP_AMP
    cy = theta[:, WARP_Y].reshape(B, GRID, GRID) * WARP_AMP
    return render_scene(theta[:, :N_PART], cx, cy, res)


def render_scene(parts: np.ndarray, cx: np.ndarray, cy: np.ndarray, res: int = RES) -> np.ndarray:
    """The scene of the part parameters parts [B, N_PART], seen through the displacement field
    whose control-point offsets (image units) are cx, cy [B, G, G], for any grid size G >= 2
    (faces2g4.py renders the same scene with G = 4) -> float32 [B,res,res,3] in [0,1]."""
    G = cx.shape[1]
    parts = np.clip(np.asarray(parts, np.float32), -1, 1)
    t = {n: parts[:, i][:, None, None] for i, n in enumerate(_PART_NAMES)}
    tb = {n: parts[:, i] for i, n in enumerate(_PART_NAMES)}
    px = 2.0 / res
    c = (np.arange(res, dtype=np.float32) + 0.5) * px - 1.0
    # --- the displacement field: X = x + Dx(x, y), Y = y + Dy(x, y) -------------------------
    bw = warp_basis(c, G)  # [res, G]
    X = c[None, None, :] + np.einsum("hi,bij,wj->bhw", bw, cx, bw, optimize=True)
    Y = c[None, :, None] + np.einsum("hi,bij,wj->bhw", bw, cy, bw, optimize=True)

    # --- background: two hues along a direction, soft waves -----------------------------------
    hue = 0.5 + 0.45 * tb["bg_hue"]
    c1 = _hsv(hue, 0.35, 0.92)
    c2 = _hsv((hue + 0.12) % 1.0, 0.45, 0.62)
    ang = t["bg_gradient"] * 1.6
    g = np.clip(0.5 + 0.5 * (np.sin(ang) * X + np.cos(ang) * Y) * (0.3 + 0.7 * np.abs(t["bg_gradient"])), 0, 1)
    ta = 0.8 + 0.6 * t["bg_tex_angle"]
    ph = 3.14 * t["bg_tex_phase"]
    wave = np.sin(14.0 * (np.cos(ta) * X + np.sin(ta) * Y) + 1.5 * np.sin(5.0 * (np.cos(ta) * Y - np.sin(ta) * X)) + ph)
    bg = c1[:, None, None, :] * (1 - g[..., None]) + c2[:, None, None, :] * g[..., None]
    canvas = _Canvas(bg * (1.0 + 0.07 * wave[..., None]))

    # --- head frame ---------------------------------------------------------------------------
    hx = 0.10 * t["head_x"]
    hy = -0.03 + 0.07 * t["head_y"]
    s = 1.0 + 0.10 * t["head_size"]
    hh = 0.64 * s
    hw = hh * (0.78 + 0.10 * t["head_aspect"])
    roll = 0.25 * t["head_roll"]
    cr, sr = np.cos(roll), np.sin(roll)
    dx, dy = X - hx, Y - hy
    LX = cr * dx + sr * dy
    LY = -sr * dx + cr * dy
    yaw = t["head_yaw"]
    fshift = 0.20 * hw * yaw
    fsq = 1.0 - 0.15 * np.abs(yaw)

    skin = _lerp_palette(SKIN, 0.5 + 0.5 * tb["skin_tone"])
    hair = _lerp_palette(HAIR, 0.5 + 0.5 * tb["hair_color"])
    hair_dark = hair * 0.7
    # hair strands: stripes fanning out from the crown, in head-local coordinates
    strand = np.sin(22.0 * np.arctan2(LX - 0.3 * fshift, LY + 1.2 * hh) + 3.14 * t["hair_strand_phase"])
    hair_tex = (1.0 + 0.13 * strand)[..., None]

    # --- shirt, collar, neck -------------------------------------------------------------------
    shirt = _hsv(0.5 + 0.5 * tb["shirt_hue"], 0.55, 0.75)
    sy = hy + hh + 0.33
    scx = hx * 0.6
    d_sh = _ellipse_sd(X - scx, Y - sy, 0.95 * s, 0.44)
    neck = _segment_sd(X, Y, hx + sr * hh * 0.5, hy + hh * 0.6, hx * 0.8, sy - 0.2, 0.16 * s)
    vol = 1.06 + 0.10 * (t["hair_volume"] + 1)
    d_hb = _ellipse_sd(LX + 0.3 * fshift, LY + 0.06 * s, hw * vol + 0.02, hh * (0.96 + 0.06 * t["hair_volume"]))
    long_bottom = 0.05 + 0.50 * (t["hair_length"] + 1) * 0.5
    d_long = np.maximum(_ellipse_sd(LX + 0.3 * fshift, LY, hw * vol * 1.02 + 0.02, hh * 1.2), LY - long_bottom * s)
    canvas.paint(_cov(np.minimum(d_hb, d_long), px), hair_dark[:, None, None, :] * hair_tex)
    for side, kx, ky in ((-1.0, "lock_l_x", "lock_l_y"), (1.0, "lock_r_x", "lock_r_y")):
        root = (side * hw * 0.86 * vol + 0.3 * fshift * 0, -0.45 * hh)
        tip_x = side * hw * (1.02 + 0.12 * t[kx]) * vol
        tip_y = hh * (0.50 + 0.20 * t[ky] + 0.10 * t["hair_length"])
        mid_x = side * hw * 1.02 * vol
        d_lock = np.minimum(
            _taper_sd(LX, LY, root[0], root[1], mid_x, root[1] + 0.5 * (tip_y - root[1]), 0.07 * s, 0.055 * s),
            _taper_sd(LX, LY, mid_x, root[1] + 0.5 * (tip_y - root[1]), tip_x, tip_y, 0.055 * s, 0.006),
        )
        canvas.paint(_cov(d_lock - 0.005, px), hair_dark * 0.8)
        canvas.paint(_cov(d_lock, px), hair[:, None, None, :] * hair_tex)
    canvas.paint(_cov(neck, px), skin * 0.85)
    stripes = 1.0 + 0.12 * (t["shirt_stripes"] + 1) * 0.5 * np.sin(30.0 * (Y - sy) + 6.0 * (X - scx))
    canvas.paint(_cov(d_sh, px), shirt[:, None, None, :] * stripes[..., None])
    # V neckline (skin) and two collar flaps whose tips move freely
    ny = sy - 0.40
    d_v = _tri_sd(X, Y, (scx - 0.13 * s, ny), (scx + 0.13 * s, ny), (scx, ny + 0.20 * s))
    canvas.paint(_cov(np.maximum(d_v, d_sh), px), skin * 0.85)
    for side, kx, ky in ((-1.0, "collar_l_x", "collar_l_y"), (1.0, "collar_r_x", "collar_r_y")):
        a = (scx + side * 0.15 * s, ny - 0.02)
        b = (scx + side * 0.005, ny + 0.21 * s)
        tip = (scx + side * (0.27 * s + 0.07 * t[kx]), ny + 0.20 * s + 0.07 * t[ky])
        d_col = _tri_sd(X, Y, a, b, tip)
        canvas.paint(_cov(d_col - 0.006, px), shirt * 0.45)
        canvas.paint(_cov(d_col, px), np.minimum(shirt * 1.25 + 0.12, 1))

    # --- ears -------------------------------------------------------------------------------
    er = 0.115 * s * (1 + 0.25 * t["ear_size"])
    for side, ky, ko in ((-1.0, "ear_l_y", "ear_l_out"), (1.0, "ear_r_y", "ear_r_out")):
        vis = np.clip(1.0 - side * yaw * 0.8, 0.15, 1.0)
        ex = side * (hw * 0.97 - 0.2 * fshift * side + 0.05 * (t[ko] + 0.3) * vis)
        ey = 0.02 * s + 0.08 * t[ky]
        d_ear = _ellipse_sd(LX - ex, LY - ey, er * 0.75 * vis, er)
        canvas.paint(_cov(d_ear - 0.006, px), skin * 0.7)
        canvas.paint(_cov(d_ear, px), skin * 0.93)
        d_in = _ellipse_sd(LX - ex - side * 0.012, LY - ey + 0.01, er * 0.36 * vis, er * 0.58)
        canvas.paint(0.6 * _cov(d_in, px), skin * 0.68)

    # --- head -----------------------------------------------------------------------------------
    yn = np.clip(LY / hh, 0, 1)
    narrow = 1.0 - (0.22 - 0.14 * t["jaw"]) * yn**2
    d_head = _ellipse_sd(LX / narrow, LY, hw, hh)
    shade = 1.0 - 0.12 * np.clip(((LX - fshift) / hw) ** 2 + (LY / hh) ** 2, 0, 1.2)
    canvas.paint(_cov(d_head - 0.006, px), skin * 0.72)
    canvas.paint(_cov(d_head, px), skin[:, None, None, :] * shade[..., None])
    for side in (-1.0, 1.0):
        d_ch = _ellipse_sd(LX - fshift - side * 0.50 * hw * fsq, LY - 0.30 * hh, 0.12 * s, 0.075 * s)
        canvas.paint(0.25 * np.clip(0.5 - d_ch / (6 * px), 0, 1), _c([0.95, 0.45, 0.45]))

    # --- hair cap (fringe) and two locks with free tips ---------------------------------------
    fr = -hh * (0.45 - 0.30 * (t["fringe"] + 1) * 0.5)
    part = 0.25 * t["hair_part"]
    edge = fr + part * (LX - fshift) / hw * hh + 0.025 * s * np.cos((LX - fshift) / hw * 9.0)
    d_cap = np.maximum(_ellipse_sd(LX + 0.3 * fshift, LY + 0.03 * s, hw * (vol * 0.98), hh), LY - edge)
    hair_col = hair[:, None, None, :] * hair_tex
    canvas.paint(_cov(d_cap, px), hair_col)
    d_hl = _ellipse_sd(LX + 0.3 * hw - 0.3 * fshift, LY + 0.75 * hh, 0.17 * s, 0.045 * s)
    canvas.paint(0.35 * _cov(np.maximum(d_hl, d_cap), px), np.minimum(hair * 1.5 + 0.15, 1))

    # --- eyes: sclera, iris, pupil, highlight, upper lid with lash line, brows ----------------
    ers = 0.10 * s * (1 + 0.20 * t["eye_size"])
    erh = ers * 0.62
    iris_c = _lerp_palette(IRIS, 0.5 + 0.5 * tb["iris_color"])
    for side, kx, ky, kl, kby, kbt in (
        (-1.0, "eye_l_x", "eye_l_y", "lid_l", "brow_l_y", "brow_l_tilt"),
        (1.0, "eye_r_x", "eye_r_y", "lid_r", "brow_r_y", "brow_r_tilt"),
    ):
        exx = fshift + side * hw * fsq * 0.40 + 0.06 * t[kx]
        eyy = hh * (-0.02) + 0.06 * t[ky]
        ex_, ey_ = LX - exx, LY - eyy
        d_sc = _ellipse_sd(ex_, ey_, ers, erh)
        canvas.paint(_cov(d_sc - 0.010, px), _c([0.25, 0.15, 0.13]) * (0.5 + 0.5 * skin))
        canvas.paint(_cov(d_sc, px), _c([0.97, 0.97, 0.96]))
        gx = (0.45 * t["gaze_x"] + 0.25 * yaw) * ers
        gy = 0.30 * t["gaze_y"] * erh
        ir = 0.52 * ers
        rr = np.sqrt((ex_ - gx) ** 2 + (ey_ - gy) ** 2)
        canvas.paint(_cov(np.maximum(rr - ir, d_sc), px), iris_c)
        canvas.paint(_cov(np.maximum(rr - ir * 0.48, d_sc), px), _c([0.03, 0.03, 0.03]))
        d_hi = np.maximum(np.sqrt((ex_ - gx + ir * 0.35) ** 2 + (ey_ - gy + ir * 0.35) ** 2) - ir * 0.22, d_sc)
        canvas.paint(0.9 * _cov(d_hi, px), _c([1.0, 1.0, 1.0]))
        # upper lid: covers the eye above a curved line; lid = -1 wide open, +1 nearly closed
        close = 0.04 + 0.56 * (t[kl] + 1) * 0.5
        lid_y = -erh + 2 * erh * close + 0.25 * erh * (ex_ / ers) ** 2
        d_lid = np.maximum(d_sc - 0.004, ey_ - lid_y)
        canvas.paint(_cov(d_lid, px), skin * 0.88)
        d_lash = np.maximum(np.abs(ey_ - lid_y) - 0.010, d_sc - 0.012)
        canvas.paint(_cov(d_lash, px), _c([0.12, 0.08, 0.07]))
        # brow: its own height and tilt
        bh = eyy - ers * (1.25 + 0.45 * (t[kby] + 1) * 0.5)
        tilt = 0.40 * t[kbt]
        inner_x, outer_x = exx - side * ers * 0.95, exx + side * ers * 1.15
        bthick = 0.022 * s * (1 + 0.4 * t["brow_thick"])
        d_br = _taper_sd(LX, LY, inner_x, bh - tilt * ers, outer_x, bh + 0.15 * ers, bthick * 1.2, bthick * 0.6)
        canvas.paint(_cov(d_br, px), hair_dark[:, None, None, :] * 0.9 * hair_tex)

    # --- nose: bridge shading, tip, nostrils ------------------------------------------------------
    nl = hh * (0.20 + 0.07 * t["nose_length"])
    ntop = -0.02 * hh + 0.05 * hh
    nx = fshift * 1.25 + 0.05 * t["nose_x"]
    ny_tip = ntop + nl + 0.04 * t["nose_y"]
    nw = 0.040 * s * (1 + 0.3 * t["nose_width"])
    d_nose = _segment_sd(LX, LY, fshift * 1.1, ntop, nx, ny_tip - 0.02, 0.03 * s)
    canvas.paint(0.30 * np.clip(0.5 - d_nose / (3 * px), 0, 1), skin * 0.6)
    d_tip = _ellipse_sd(LX - nx, LY - ny_tip + 0.01, nw, nw * 0.7)
    canvas.paint(0.45 * np.clip(0.5 - d_tip / (2 * px), 0, 1), skin * 0.75)
    for side in (-1.0, 1.0):
        d_ns = _ellipse_sd(LX - nx - side * 0.6 * nw, LY - ny_tip - 0.008, 0.016 * s, 0.011 * s)
        canvas.paint(0.8 * _cov(d_ns, px), skin * 0.4)

    # --- mouth: a quadratic centre line through the two corners and the middle ------------------
    my = hh * (0.50 + 0.08 * t["mouth_y"])
    mw = hw * fsq * 0.33
    mcx = fshift * 1.1
    lx_, ly_ = mcx - mw + 0.06 * t["mouth_l_x"], my + 0.06 * t["mouth_l_y"]
    rx_, ry_ = mcx + mw + 0.06 * t["mouth_r_x"], my + 0.06 * t["mouth_r_y"]
    half = 0.5 * (rx_ - lx_)
    mid = 0.5 * (rx_ + lx_)
    u = (LX - mid) / half
    yc = my + (0.5 * (ly_ + ry_) - my) * u**2 + 0.5 * (ry_ - ly_) * u
    prof = np.sqrt(np.clip(1 - u**2, 0, 1))
    o = 0.08 * s * (t["mouth_open"] + 1) * 0.5
    lip = 0.020 * s * (1 + 0.35 * t["lip_thick"])
    dy_m = np.abs(LY - yc)
    end = (np.abs(u) - 1) * half
    d_lips = np.maximum(dy_m - (o + lip) * prof - 0.004, end)
    d_int = np.maximum(dy_m - o * prof, end)
    canvas.paint(_cov(d_lips, px), _c([0.75, 0.30, 0.32]) * (0.6 + 0.4 * skin))
    canvas.paint(_cov(d_int, px), _c([0.30, 0.06, 0.08]))
    canvas.paint(_cov(np.maximum(d_int, (LY - yc) + 0.45 * o * prof), px), _c([0.96, 0.95, 0.90]))
    d_tg = np.maximum(d_int, _ellipse_sd(u * half * 0.9, LY - yc - o * 0.9, half * 0.55, o * 0.75 + 1e-3))
    canvas.paint(_cov(d_tg, px), _c([0.85, 0.35, 0.40]))
    # a dark line where the lips meet (visible when closed) and dimples at the corners
    d_seam = np.maximum(dy_m - 0.006, end + 0.004)
    canvas.paint(0.8 * _cov(d_seam, px), _c([0.35, 0.10, 0.12]))
    for cxp, cyp in ((lx_, ly_), (rx_, ry_)):
        d_dim = np.sqrt((LX - cxp) ** 2 + (LY - cyp) ** 2) - 0.012 * s
        canvas.paint(0.5 * _cov(d_dim, px), skin * 0.55)

    return np.clip(canvas.rgb, 0.0, 1.0).astype(np.float32)


def sample_theta(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1, 1, size=(n, P)).astype(np.float32)


def to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
