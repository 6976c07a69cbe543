"""Candidate drag tasks from the procedural face renderer (tools/dataset/faces.py).

The default generator is trained to reproduce faces.render(theta) with theta = erf(z / sqrt(2)),
so a seed's sample at truncation 1 is (approximately) the render of that seed's theta. For every
candidate we take a seed's theta, change one or a few face parameters (smile, eye height, head
roll, hair length, ...), and read the handle and target off the renderer's own geometry: the
handle is a landmark (pupil, mouth corner, ear, fringe tip, hair corner, ...) under theta, the
target the same landmark under the edited theta. Every drag is therefore one the face model can
actually make, and its exact answer (the edited render) is saved as the oracle image.

    python3 make_candidates.py SEED_Z_JSON OUT_DIR

writes OUT_DIR/candidates.json and OUT_DIR/<id>-original.png, OUT_DIR/<id>-oracle.png.
"""

from __future__ import annotations

import json
import math
import os
import sys
import zlib
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools", "dataset"))
import faces  # noqa: E402

IDX = {n: i for i, n in enumerate(faces.PARAM_NAMES)}
RES = faces.RES


def theta_of(z: list[float]) -> np.ndarray:
    return np.array([math.erf(v / math.sqrt(2.0)) for v in z], np.float32)


def frame(th: np.ndarray) -> dict:
    """The head frame and feature geometry of faces.render, for one theta (scalars)."""
    t = {n: float(th[i]) for n, i in IDX.items()}
    g = dict(t=t)
    g["cx"] = 0.10 * t["head_x"]
    g["cy"] = 0.07 * t["head_y"]
    s = 1.0 + 0.12 * t["head_size"]
    g["s"] = s
    hh = 0.62 * s
    hw = hh * (0.78 + 0.10 * t["head_aspect"])
    g["hh"], g["hw"] = hh, hw
    g["roll"] = 0.30 * t["head_roll"]
    yaw = t["head_yaw"]
    g["yaw"] = yaw
    g["fshift"] = 0.22 * hw * yaw
    g["fsq"] = 1.0 - 0.18 * abs(yaw)
    return g


def to_px(g: dict, lx: float, ly: float) -> tuple[float, float]:
    """Head-local coordinates -> image pixels (pixel centres on integers)."""
    cr, sr = math.cos(g["roll"]), math.sin(g["roll"])
    x = g["cx"] + cr * lx - sr * ly
    y = g["cy"] + sr * lx + cr * ly
    return ((x + 1.0) * RES / 2 - 0.5, (y + 1.0) * RES / 2 - 0.5)


def landmarks(th: np.ndarray) -> dict[str, tuple[float, float]]:
    g = frame(th)
    t, s, hh, hw, fshift, fsq, yaw = g["t"], g["s"], g["hh"], g["hw"], g["fshift"], g["fsq"], g["yaw"]
    L: dict[str, tuple[float, float]] = {}
    # eyes: pupil centres
    ey = hh * (-0.02 + 0.14 * t["eye_height"])
    esp = hw * fsq * (0.40 + 0.08 * t["eye_spacing"])
    ers = 0.085 * s * (1 + 0.25 * t["eye_size"])
    gx = (0.55 * t["gaze_x"] + 0.25 * yaw) * ers
    gy = 0.35 * t["gaze_y"] * ers
    for name, side in (("left", -1.0), ("right", 1.0)):
        exx = fshift + side * esp
        L[f"pupil-{name}"] = to_px(g, exx + gx, ey + gy)
        L[f"eye-outer-{name}"] = to_px(g, exx + side * ers, ey)
    # mouth corners and lower lip
    my = hh * (0.48 + 0.10 * t["mouth_height"])
    mw = hw * fsq * (0.30 + 0.10 * t["mouth_width"])
    ycorner = my - 0.09 * s * t["smile"] * (1 - 0.35)
    L["mouth-corner-left"] = to_px(g, fshift * 1.1 - mw, ycorner)
    L["mouth-corner-right"] = to_px(g, fshift * 1.1 + mw, ycorner)
    o = 0.09 * s * (t["mouth_open"] + 1) * 0.5
    lip = 0.022 * s
    yc0 = my - 0.09 * s * t["smile"] * (0 - 0.35)
    L["lower-lip"] = to_px(g, fshift * 1.1, yc0 + o + lip)
    # nose tip
    nl = hh * (0.20 + 0.08 * t["nose_length"])
    ntop = ey + 0.05 * hh
    nx = fshift * 1.25
    L["nose-tip"] = to_px(g, nx + 0.02 * yaw * s, ntop + nl)
    # chin (bottom of the head ellipse)
    L["chin"] = to_px(g, 0.0, hh)
    # ears (centre of the inner ear)
    er = 0.12 * s * (1 + 0.30 * t["ear_size"])
    for name, side in (("left", -1.0), ("right", 1.0)):
        ex = side * (hw * 0.97 - 0.2 * fshift * side)
        L[f"ear-{name}"] = to_px(g, ex, 0.02 * s)
    # fringe edge at the face's centre line (a crest of the wavy edge)
    fr = -hh * (0.45 - 0.30 * (t["fringe"] + 1) * 0.5)
    L["fringe"] = to_px(g, fshift, fr + 0.025 * s)
    # long hair: the bottom corners of the hair behind the shoulders
    vol = 1.06 + 0.10 * (t["hair_volume"] + 1)
    long_bottom = (0.05 + 0.55 * (t["hair_length"] + 1) * 0.5) * s
    a = hw * vol * 1.02 + 0.02
    b = hh * 1.2
    q = max(0.0, 1 - (long_bottom / b) ** 2)
    for name, side in (("left", -1.0), ("right", 1.0)):
        L[f"hair-end-{name}"] = to_px(g, side * a * math.sqrt(q) * 0.85 - 0.3 * fshift, long_bottom)
    # hair side at eye level (outline of the hair behind the head)
    for name, side in (("left", -1.0), ("right", 1.0)):
        L[f"hair-side-{name}"] = to_px(g, side * (hw * vol + 0.02) - 0.3 * fshift, -0.06 * s - 0.25 * hh)
    return L


# Edits: name, the parameters they change, the landmarks dragged, whether the task gets a mask.
EDITS = [
    ("smile", ["smile"], ["mouth-corner-left", "mouth-corner-right"], True),
    ("grin", ["smile", "mouth_width"], ["mouth-corner-left", "mouth-corner-right"], True),
    ("mouth-wide", ["mouth_width"], ["mouth-corner-right"], False),
    ("mouth-open", ["mouth_open"], ["lower-lip"], True),
    ("eyes-height", ["eye_height"], ["pupil-left", "pupil-right"], True),
    ("gaze", ["gaze_x", "gaze_y"], ["pupil-left"], True),
    ("eye-spacing", ["eye_spacing"], ["pupil-left", "pupil-right"], False),
    ("nose", ["nose_length"], ["nose-tip"], True),
    ("chin", ["head_size", "head_y"], ["chin"], False),
    ("head-wider", ["head_aspect"], ["ear-left", "ear-right"], False),
    ("head-turn", ["head_yaw"], ["nose-tip", "pupil-right"], False),
    ("head-tilt", ["head_roll"], ["ear-left", "ear-right", "mouth-corner-left"], False),
    ("head-move", ["head_x", "head_y"], ["pupil-right", "ear-left"], False),
    ("head-tilt-move", ["head_roll", "head_x"], ["ear-right"], False),
    ("fringe", ["fringe"], ["fringe"], True),
    ("hair-length", ["hair_length"], ["hair-end-left", "hair-end-right"], False),
    ("hair-volume", ["hair_volume"], ["hair-side-left"], True),
]

# Long drags: several parameters pushed to the same end together, so the features translate far
# (head position + yaw + feature height add up) without the rotation of head-tilt.
TOGETHER = [
    ("face-shift", ["head_x", "head_yaw"], ["pupil-left", "pupil-right"], False),
    ("face-shift-vertical", ["head_x", "head_yaw", "head_y", "eye_height"], ["pupil-right"], False),
    ("mouth-shift", ["head_x", "head_yaw", "head_y", "mouth_height"], ["mouth-corner-left", "mouth-corner-right"], False),
    ("nose-shift", ["head_x", "head_yaw", "head_y"], ["nose-tip"], False),
    ("chin-long", ["head_size", "head_y"], ["chin"], False),
]


def write_png(path: str, img: np.ndarray) -> None:
    """img float [H,W,3] in [0,1] -> 8-bit RGB PNG (no dependency on PIL)."""
    u8 = faces.to_uint8(img)
    h, w, _ = u8.shape
    raw = b"".join(b"\x00" + u8[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main() -> None:
    zs = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(2024)
    cands = []
    seeds = sorted(int(k) for k in zs)
    for seed in seeds:
        th = theta_of(zs[str(seed)])
        # two different edits per seed, chosen at random
        picks = [(EDITS[k], False) for k in rng.choice(len(EDITS), size=2, replace=False)]
        picks.append((TOGETHER[int(rng.integers(len(TOGETHER)))], True))
        for (name, params, marks, masked), together in picks:
            th2 = th.copy()
            lead = float(th[IDX[params[0]]])
            share = float(rng.uniform(0.8, 1.0)) if together else float(rng.uniform(0.5, 1.0))
            for p in params:
                v = float(th[IDX[p]])
                # move the parameter towards the far end of [-1, 1] (the lead parameter's far end
                # for the long edits), by a random share of the way
                far = (-1.0 if lead > 0 else 1.0) if together else (-1.0 if v > 0 else 1.0)
                th2[IDX[p]] = v + (far - v) * share
            L1, L2 = landmarks(th), landmarks(th2)
            pairs = []
            for m in marks:
                h = [round(L1[m][0]), round(L1[m][1])]
                tg = [round(L2[m][0]), round(L2[m][1])]
                if math.dist(h, tg) < 3 or not all(6 <= c <= RES - 7 for c in h + tg):
                    continue
                pairs.append(dict(handle=h, target=tg, landmark=m, exact_handle=L1[m], exact_target=L2[m]))
            if not pairs:
                continue
            cid = f"s{seed:03d}-{name}"
            img1 = faces.render(th[None])[0]
            img2 = faces.render(th2[None])[0]
            write_png(os.path.join(out, f"{cid}-original.png"), img1)
            write_png(os.path.join(out, f"{cid}-oracle.png"), img2)
            cands.append(dict(id=cid, seed=seed, edit=name, params={p: [float(th[IDX[p]]), float(th2[IDX[p]])] for p in params}, masked=masked, pairs=pairs))
    json.dump(cands, open(os.path.join(out, "candidates.json"), "w"), indent=1)
    print(len(cands), "candidates")


if __name__ == "__main__":
    main()
