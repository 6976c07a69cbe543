"""Drag tasks with exact answers for the diffusion benchmark (apps/bench/tasks-diffusion/).

The diffusion backend edits an *image* (VAE encode + DDIM inversion, DragDiffusion's setting), so
each task starts from a faces2 render rather than a generator seed: theta ~ faces2.sample_theta
(one seeded generator, so the set is deterministic), source = faces2.render(theta) at 128 px.
Handles are faces2 landmarks (landmarks2), rounded to whole pixels; targets lie 6-20 px away in a
seeded direction. exact_edit.solve (bounded to the training range of the warp entries, so a model
trained on faces2 can make the edit) gives the renderer's exact edit and where each handle's
content really lands; a task is kept only when that landing point is within MAX_RESIDUAL of the
target. Every third task has an editable mask (white discs, radius half the drag + 12 px, as the
GAN task set's select-tasks.ts); its black part is a fixed-region constraint of the exact edit.
About a quarter of the tasks drag two points (both pupils the same way, or both mouth corners
apart / together).

Also writes the real photographs of the photo section (scikit-image's astronaut, chelsea, coffee:
public domain / CC0, shipped by Debian's python3-skimage), centre-cropped to a square and resized
to 128 px, with hand-chosen drags (no exact answer exists for a photograph).

    /usr/bin/python3 apps/bench/scripts/make_diffusion_tasks.py [--count 24] [--seed 7] [--out DIR]

Writes into --out: fNN-<kind>.png (source), fNN-<kind>-exact.png, fNN-<kind>-mask.png,
tasks.json; photos/<name>.png, photos/photos.json, photos/LICENSES.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "dataset"))
import exact_edit  # noqa: E402
import faces2  # noqa: E402
import landmarks2  # noqa: E402
from make_tasks2 import visible  # noqa: E402

# make_tasks2 accepts 0.05 px for unmasked drags; the fixed-region rows of a masked solve compete
# with the pair rows, so allow a little more there and record the residual in tasks.json.
MAX_RESIDUAL = 0.25
MIN_LEN, MAX_LEN = 6.0, 20.0
BORDER = 8  # handles and targets stay this far inside the image (the NCC patch is 15 px wide)
SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"

# Hand-chosen drags on the 128-px photos ([x, y] pixels): parts a user would plausibly move.
PHOTOS = {
    "astronaut": [("lengthen the chin", [(60, 41)], [(60, 48)]), ("raise the helmet", [(100, 88)], [(100, 80)])],
    "chelsea": [("raise the right eye", [(106, 53)], [(106, 45)]), ("move the eyes apart", [(41, 50), (106, 53)], [(35, 50), (112, 53)])],
    "coffee": [("widen the cup", [(89, 47)], [(98, 47)]), ("move the spoon", [(79, 100)], [(86, 107)])],
}


def png(path: str, rgb: np.ndarray) -> None:
    Image.fromarray(faces2.to_uint8(rgb) if rgb.dtype != np.uint8 else rgb).save(path, optimize=True)


def mask_of(pairs: list[tuple[np.ndarray, np.ndarray]], res: int) -> np.ndarray:
    """Editable discs (True) around each drag: radius half its length + 12 px, centred mid-way."""
    yy, xx = np.mgrid[0:res, 0:res]
    m = np.zeros((res, res), bool)
    for h, t in pairs:
        c = (h + t) / 2
        r = np.linalg.norm(t - h) / 2 + 12
        m |= (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= r * r
    return m


def inside(p: np.ndarray, res: int) -> bool:
    return bool(((p >= BORDER) & (p <= res - 1 - BORDER)).all())


def propose(kind: str, lm: dict, theta: np.ndarray, rng: np.random.Generator, k: int):
    """k picks the landmark of a single drag (round robin over the visible ones)."""
    length = rng.uniform(MIN_LEN, MAX_LEN)
    ang = rng.uniform(0, 2 * np.pi)
    step = length * np.array([np.cos(ang), np.sin(ang)])
    if kind == "pupils":
        # both eyes move together: two handles, one displacement (a gaze or eye-height edit)
        h = np.round(np.stack([lm["pupil_l"], lm["pupil_r"]]))
        return h, np.round(h + step * 0.7)
    if kind == "mouth":
        # corners move apart or together horizontally (a wider or narrower mouth)
        h = np.round(np.stack([lm["mouth_corner_l"], lm["mouth_corner_r"]]))
        d = rng.uniform(MIN_LEN, MAX_LEN / 2) * rng.choice([-1.0, 1.0])
        return h, np.round(h + np.array([[-d, 0.0], [d, 0.0]]))
    names = [n for n in landmarks2.NAMES if visible(n, theta)]
    h = np.round(lm[names[k % len(names)]])[None]
    return h, np.round(h + step)


def make_tasks(count: int, seed: int, out: str) -> None:
    res = faces2.RES
    rng = np.random.default_rng(seed)
    kinds = ["single", "single", "pupils", "single", "single", "mouth"]
    tasks = []
    draws = 0
    fails = 0  # failed draws since the last kept task: after 40, move to the next landmark
    while len(tasks) < count:
        draws += 1
        if draws > 50 * count:
            raise SystemExit(f"error: only {len(tasks)} tasks after {draws} draws")
        i = len(tasks)
        kind = kinds[i % len(kinds)]
        masked = i % 3 == 2
        theta = faces2.sample_theta(rng, 1)[0]
        lm = landmarks2.landmarks_px(theta, res)
        h, t = propose(kind, lm, theta, rng, i + fails // 40)
        fails += 1
        lengths = np.linalg.norm(t - h, axis=1)
        if not (inside(h, res) and inside(t, res)) or lengths.min() < MIN_LEN - 0.5 or lengths.max() > MAX_LEN + 0.5:
            continue
        if len(h) == 2 and np.linalg.norm(h[0] - h[1]) < 10:
            continue
        editable = mask_of(list(zip(h, t)), res) if masked else None
        r = exact_edit.solve(theta, h, t, fixed=None if editable is None else ~editable, bounded=True)
        if r.residual_px.max() > MAX_RESIDUAL or r.max_abs_warp_theta > 1.0 + 1e-4:
            continue
        src = faces2.render(theta[None])[0]
        exact = faces2.render(r.theta[None])[0]
        name = "single-" + [n for n in landmarks2.NAMES if np.allclose(np.round(lm[n]), h[0])][0] if kind == "single" else kind
        tid = f"f{i:02d}-{name.replace('_', '-')}"
        png(os.path.join(out, f"{tid}.png"), src)
        png(os.path.join(out, f"{tid}-exact.png"), exact)
        task = {
            "id": tid,
            "name": f"faces2/{name}",
            "image": f"{tid}.png",
            "exact": f"{tid}-exact.png",
            "pairs": [
                {
                    "handle": [int(a) for a in hh],
                    "target": [int(a) for a in tt],
                    # where the handle's content is in the exact edit (the renderer's answer)
                    "landed": [round(float(a), 3) for a in ll],
                }
                for hh, tt, ll in zip(h, t, r.landed_px)
            ],
            "maxResidualPx": round(float(r.residual_px.max()), 4),
        }
        if editable is not None:
            Image.fromarray((editable * 255).astype(np.uint8)).save(os.path.join(out, f"{tid}-mask.png"), optimize=True)
            task["mask"] = f"{tid}-mask.png"
            fixed = ~editable
            task["exactFixedMae"] = round(float(np.abs(exact - src)[fixed].mean()), 5)
        tasks.append(task)
        fails = 0
        print(f"{tid}: {', '.join(f'{l:.1f}' for l in lengths)} px, residual {r.residual_px.max():.3f}, max |warp| {r.max_abs_warp_theta:.2f}")
    meta = {
        "generator": "apps/bench/scripts/make_diffusion_tasks.py",
        "renderer": "tools/dataset/faces2.py",
        "resolution": res,
        "seed": seed,
        "draws": draws,
        "tasks": tasks,
    }
    with open(os.path.join(out, "tasks.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {len(tasks)} tasks ({draws} draws) to {out}")


def square_128(path: str) -> Image.Image:
    im = Image.open(path).convert("RGB")
    s = min(im.size)
    left, top = (im.width - s) // 2, (im.height - s) // 2
    return im.crop((left, top, left + s, top + s)).resize((128, 128), Image.LANCZOS)


def make_photos(out: str) -> None:
    d = os.path.join(out, "photos")
    os.makedirs(d, exist_ok=True)
    tasks = []
    for name, drags in PHOTOS.items():
        square_128(os.path.join(SKIMAGE_DATA, f"{name}.png")).save(os.path.join(d, f"{name}.png"), optimize=True)
        for j, (what, hs, ts) in enumerate(drags):
            tasks.append({
                "id": f"{name}-{j}",
                "name": what,
                "image": f"{name}.png",
                "pairs": [{"handle": list(h), "target": list(t)} for h, t in zip(hs, ts)],
            })
    with open(os.path.join(d, "photos.json"), "w") as f:
        json.dump({"generator": "apps/bench/scripts/make_diffusion_tasks.py", "resolution": 128, "tasks": tasks}, f, indent=1)
        f.write("\n")
    with open(os.path.join(d, "LICENSES.md"), "w") as f:
        f.write(
            "# Photographs\n\n"
            "Centre-cropped to a square and resized to 128 px (Lanczos) by `apps/bench/scripts/make_diffusion_tasks.py`\n"
            "from scikit-image's sample data (`skimage/data/`, Debian package python3-skimage):\n\n"
            "- `astronaut.png`: the astronaut Eileen Collins, from the NASA Great Images database\n"
            "  (https://flic.kr/p/r9qvLn); no known copyright restrictions, released into the public domain.\n"
            "- `chelsea.png`: Chelsea the cat; no copyright restrictions, CC0 by the photographer (Stefan van der Walt).\n"
            "- `coffee.png`: a coffee cup, courtesy of Pikolo Espresso Bar; no copyright restrictions, CC0 by the\n"
            "  photographer (Rachel Michetti).\n\n"
            "As stated in the docstrings of `skimage.data.astronaut`, `chelsea` and `coffee` (`skimage/data/_fetchers.py`).\n"
        )
    print(f"wrote {len(tasks)} photo tasks to {d}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7, help="seed of theta, the drag kinds, lengths and directions")
    ap.add_argument("--out", default=os.path.join(ROOT, "apps", "bench", "tasks-diffusion"))
    ap.add_argument("--photos-only", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if not args.photos_only:
        for f in os.listdir(args.out):
            if f.endswith(".png") or f == "tasks.json":
                os.remove(os.path.join(args.out, f))
        make_tasks(args.count, args.seed, args.out)
    make_photos(args.out)


if __name__ == "__main__":
    main()
