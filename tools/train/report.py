"""Draw the loss curve (from tools/.cache/train_log.csv) and the 16-seed sample grid (from the
latest checkpoint's EMA generator) into docs/images/. PIL only, no matplotlib.

    /usr/bin/python3 tools/train/report.py [--run tools/.cache/faces2] [--images docs/images]
"""

from __future__ import annotations

import csv
import math
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from networks import Generator  # noqa: E402
from train import grid, seed_z  # noqa: E402

CACHE = os.path.join(ROOT, "tools", ".cache")
OUT = os.path.join(ROOT, "docs", "images")


def font(size: int):
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    return ImageFont.load_default()


def loss_plot(rows: list[dict], path: str, boundaries: tuple[float, ...] = ()) -> None:
    W, H, L, R, T, B = 900, 500, 70, 20, 40, 50
    im = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(im)
    f = font(14)
    xs = np.array([float(r["elapsed_s"]) / 60 for r in rows])
    series = [
        ("training loss (L1 + multi-scale + gradient)", [float(r["loss"]) for r in rows], (70, 110, 200)),
        ("training L1 (image in [-1,1])", [float(r["l1"]) for r in rows], (220, 120, 40)),
        ("held-out L1, EMA generator", [float(r["eval_l1_ema"]) for r in rows], (40, 160, 70)),
    ]
    vals = np.concatenate([np.array(v) for _, v, _ in series])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    ylo, yhi = math.log10(vals.min()) - 0.05, math.log10(vals.max()) + 0.05
    xmax = max(xs.max(), 1e-3)

    def px(x, y):
        return L + (W - L - R) * x / xmax, T + (H - T - B) * (1 - (math.log10(y) - ylo) / (yhi - ylo))

    d.rectangle([L, T, W - R, H - B], outline=(0, 0, 0))
    for e in range(math.floor(ylo), math.ceil(yhi) + 1):
        for m in (1, 2, 5):
            v = m * 10**e
            if ylo <= math.log10(v) <= yhi:
                _, y = px(0, v)
                d.line([L, y, W - R, y], fill=(225, 225, 225))
                d.text((5, y - 8), f"{v:g}", fill=(0, 0, 0), font=f)
    step = max(1, int(xmax / 8 / 5 + 1) * 5)
    for t in range(0, int(xmax) + 1, step):
        x, _ = px(t, 10**ylo)
        d.line([x, H - B, x, H - B + 5], fill=(0, 0, 0))
        d.text((x - 8, H - B + 8), str(t), fill=(0, 0, 0), font=f)
    d.text((W // 2 - 60, H - 22), "wall time (minutes)", fill=(0, 0, 0), font=f)
    for b in boundaries:
        # where one run continued another's checkpoint (its loss may add terms, e.g. --geo-weight)
        x, _ = px(b, 10**ylo)
        d.line([x, T, x, H - B], fill=(150, 150, 150), width=1)
    for i, (name, v, col) in enumerate(series):
        # the held-out value is logged every 200 steps and repeated in between: plot its changes only
        keep = [i for i in range(len(v)) if i == 0 or v[i] != v[i - 1]]
        pts = [px(xs[i], v[i]) for i in keep if math.isfinite(v[i]) and v[i] > 0]
        if len(pts) > 1:
            d.line(pts, fill=col, width=2)
        d.rectangle([L + 15, T + 10 + 20 * i, L + 35, T + 22 + 20 * i], fill=col)
        d.text((L + 42, T + 7 + 20 * i), name, fill=(0, 0, 0), font=f)
    d.text((L, 10), "Default generator training (log scale)", fill=(0, 0, 0), font=font(16))
    im.save(path)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=CACHE, help="training --out folder (train_log.csv, checkpoints/)")
    ap.add_argument("--images", default=OUT, help="where training-loss.png and samples.png go")
    ap.add_argument(
        "--before", nargs="*", default=[],
        help="train_log.csv of the runs this one continued (--init-from), oldest first: plotted before it, each "
        "shifted by the wall time of those before, with a grey line where each continued",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.images, exist_ok=True)
    rows: list[dict] = []
    boundaries: list[float] = []
    for path in [*args.before, os.path.join(args.run, "train_log.csv")]:
        offset = float(rows[-1]["elapsed_s"]) if rows else 0.0
        if rows:
            boundaries.append(offset / 60)
        with open(path) as f:
            rows += [{**r, "elapsed_s": str(float(r["elapsed_s"]) + offset)} for r in csv.DictReader(f)]
    loss_plot(rows, os.path.join(args.images, "training-loss.png"), tuple(boundaries))
    ck = torch.load(os.path.join(args.run, "checkpoints", "latest.pt"))
    G = Generator(**ck["config"]).eval()
    G.load_state_dict(ck["G_ema"])
    with torch.no_grad():
        z = torch.cat([seed_z(s, G.z_dim) for s in range(16)])
        Image.fromarray(grid(G(z))).save(os.path.join(args.images, "samples.png"))
    print("step", ck["step"], "elapsed h", round(ck["elapsed"] / 3600, 2), "last row", rows[-1])


if __name__ == "__main__":
    main()
