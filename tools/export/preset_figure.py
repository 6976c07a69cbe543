"""README's preset figure: the image before `pnpm drag` with its pairs (red handle, blue target,
white line) beside the image after, both scaled 2x with nearest-neighbour pixels.

    pnpm drag && /usr/bin/python3 tools/export/preset_figure.py
    # reads examples/preset-drag.json, out/drag-before.png, out/drag.png
    # writes docs/images/preset-before-after.png
"""

from __future__ import annotations

import argparse
import json
import os

from PIL import Image, ImageDraw

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCALE, GAP, DOT = 2, 8, 4


def centre(p: list[int]) -> tuple[float, float]:
    # pixel centres are at integers in the CLI's coordinates
    return ((p[0] + 0.5) * SCALE, (p[1] + 0.5) * SCALE)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default=os.path.join(ROOT, "examples", "preset-drag.json"))
    ap.add_argument("--before", default=os.path.join(ROOT, "out", "drag-before.png"))
    ap.add_argument("--after", default=os.path.join(ROOT, "out", "drag.png"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "images", "preset-before-after.png"))
    args = ap.parse_args()
    for path in (args.task, args.before, args.after):
        if not os.path.exists(path):
            raise SystemExit(f"error: {path} is missing; run `pnpm drag` first")
    pairs = json.load(open(args.task))["pairs"]
    before, after = (Image.open(p).convert("RGB") for p in (args.before, args.after))
    w, h = before.size
    before = before.resize((w * SCALE, h * SCALE), Image.NEAREST)
    after = after.resize((w * SCALE, h * SCALE), Image.NEAREST)
    d = ImageDraw.Draw(before)
    for pair in pairs:
        hx, hy = centre(pair["handle"])
        tx, ty = centre(pair["target"])
        d.line([hx, hy, tx, ty], fill=(255, 255, 255), width=2)
        d.ellipse([hx - DOT, hy - DOT, hx + DOT, hy + DOT], fill=(220, 30, 30))
        d.ellipse([tx - DOT, ty - DOT, tx + DOT, ty + DOT], fill=(40, 80, 230))
    fig = Image.new("RGB", (2 * w * SCALE + GAP, h * SCALE), "white")
    fig.paste(before, (0, 0))
    fig.paste(after, (w * SCALE + GAP, 0))
    fig.save(args.out)
    print(f"wrote {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
