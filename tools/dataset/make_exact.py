"""Write the renderer's exact edit and the true correspondence for each drag task (faces2 models).

    # z of the seeds exactly as the TypeScript backend draws them (zDim = faces2.P = 131)
    npx tsx apps/bench/scripts/seed-z.ts 300 131 > tools/.cache/seed-z-131.json
    /usr/bin/python3 tools/dataset/make_exact.py --tasks apps/bench/tasks --z tools/.cache/seed-z-131.json \
        [--out tools/.cache/exact]

A task (the CLI's format: seed, truncation, pairs of [x, y] pixels, optional mask PNG, white =
may change) at truncation 1 shows render(erf(z / sqrt(2))) of its seed's z. For each task this
writes, into --out (file format in tools/README.md, "Exact answers"):
  <task>.json           theta before/after, per pair where the handle's content landed and the
                        residual, whether the solved warp stays in the training range, how much
                        the fixed region changed
  <task>.png            the exact edit (renderer image of the solved theta)
  <task>-original.png   the renderer image of the seed's theta
  <task>-flow.bin       float32 little-endian [H][W][2]: for every original pixel (x, y) its
                        position (x', y') in the exact edit
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import exact_edit  # noqa: E402
import faces2  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def theta_of_z(z: np.ndarray) -> np.ndarray:
    return np.array([math.erf(float(v) / math.sqrt(2.0)) for v in z], np.float32)


def load_fixed(path: str, res: int) -> np.ndarray:
    m = np.asarray(Image.open(path).convert("L"))
    if m.shape != (res, res):
        raise SystemExit(f"error: mask {path} is {m.shape[1]}x{m.shape[0]}, the renderer draws {res}x{res}; remake the mask at that size")
    return m < 128


def process(task_path: str, zs: dict, out: str) -> dict:
    task = json.load(open(task_path))
    name = os.path.splitext(os.path.basename(task_path))[0]
    if abs(float(task.get("truncation", 1)) - 1) > 1e-9:
        raise SystemExit(f"error: {task_path} has truncation {task['truncation']}; only truncation 1 images are renderer images")
    seed = str(task["seed"])
    if seed not in zs:
        raise SystemExit(f"error: seed {seed} of {task_path} is not in the --z file; write more seeds with seed-z.ts")
    z = np.asarray(zs[seed], np.float32)
    if len(z) != faces2.P:
        raise SystemExit(f"error: the --z file has z of length {len(z)}, faces2 needs {faces2.P}; run seed-z.ts with zDim {faces2.P}")
    theta0 = theta_of_z(z)
    handles = np.array([p["handle"] for p in task["pairs"]], np.float32)
    targets = np.array([p["target"] for p in task["pairs"]], np.float32)
    fixed = None
    if task.get("mask"):
        fixed = load_fixed(os.path.join(os.path.dirname(task_path), task["mask"]), faces2.RES)
    # inside the training range when the drag allows it (a generator trained on faces2 can then
    # make the edit), else the unbounded solution (exact, but outside the family it learned)
    r = exact_edit.solve(theta0, handles, targets, fixed, bounded=True)
    if r.residual_px.max() > 0.05:
        r = exact_edit.solve(theta0, handles, targets, fixed)
    img0 = faces2.render(theta0[None])[0]
    img1 = faces2.render(r.theta[None])[0]
    Image.fromarray(faces2.to_uint8(img1)).save(os.path.join(out, f"{name}.png"))
    Image.fromarray(faces2.to_uint8(img0)).save(os.path.join(out, f"{name}-original.png"))
    exact_edit.flow_px(theta0, r.theta).astype("<f4").tofile(os.path.join(out, f"{name}-flow.bin"))
    change = np.abs(img1 - img0).max(-1)
    info = dict(
        task=name,
        renderer="tools/dataset/faces2.py",
        resolution=faces2.RES,
        seed=task["seed"],
        theta0=[float(v) for v in theta0],
        theta=[float(v) for v in r.theta],
        pairs=[
            dict(handle=h.tolist(), target=t.tolist(), landed=[round(float(v), 4) for v in l], residual_px=round(float(e), 4))
            for h, t, l, e in zip(handles, targets, r.landed_px, r.residual_px)
        ],
        max_abs_warp_theta=round(r.max_abs_warp_theta, 4),
        in_training_range=bool(r.max_abs_warp_theta <= 1.0),
        fixed_region_change=(
            dict(mean=round(float(change[fixed].mean()), 5), max=round(float(change[fixed].max()), 5), unit="max over RGB of |edit - original|, image in [0, 1]")
            if fixed is not None
            else None
        ),
        image=f"{name}.png",
        original=f"{name}-original.png",
        flow=f"{name}-flow.bin",
        flow_layout=f"float32 little-endian [{faces2.RES}][{faces2.RES}][2]: for original pixel (x, y) at index (y * W + x) * 2, its (x', y') in the edit",
    )
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default=os.path.join(ROOT, "apps", "bench", "tasks"), help="folder of task JSON files, or one file")
    ap.add_argument("--z", required=True, help="JSON {seed: z} from apps/bench/scripts/seed-z.ts N 131")
    ap.add_argument("--out", default=os.path.join(ROOT, "tools", ".cache", "exact"))
    args = ap.parse_args()
    zs = json.load(open(args.z))
    paths = [args.tasks] if args.tasks.endswith(".json") else sorted(
        os.path.join(args.tasks, n) for n in os.listdir(args.tasks) if n.endswith(".json")
    )
    if not paths:
        raise SystemExit(f"error: no task files (*.json) in {args.tasks}")
    os.makedirs(args.out, exist_ok=True)
    for p in paths:
        info = process(p, zs, args.out)
        worst = max(q["residual_px"] for q in info["pairs"])
        print(f"{info['task']}: worst residual {worst:.3f} px, max |warp theta| {info['max_abs_warp_theta']:.2f}")
    print(f"wrote {len(paths)} exact edits to {args.out}")


if __name__ == "__main__":
    main()
