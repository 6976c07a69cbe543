"""Drag tasks for a faces2 model whose exact answers lie inside the training family.

For seeds 0..N-1 (z from apps/bench/scripts/seed-z.ts with zDim 131, as the backend draws them),
take a landmark of the seed's face (landmarks2.NAMES, round robin), a drag of 3-16 px in a random
direction, and keep it only if exact_edit solves it (residual < 0.05 px) with every warp entry of
theta inside the training range |theta| <= 1, so a generator trained on faces2 can make the edit.
Writes CLI task files (seed, truncation 1, pairs); run make_exact.py on the folder for the
exact edits and correspondences.

    /usr/bin/python3 tools/dataset/make_tasks2.py --z tools/.cache/seed-z-131.json --count 60 \
        [--out tools/.cache/tasks-faces2] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import exact_edit  # noqa: E402
import faces2  # noqa: E402
import landmarks2  # noqa: E402
from make_exact import theta_of_z  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def visible(name: str, theta: np.ndarray) -> bool:
    # the far ear hides behind the head when the face turns (faces2: vis = 1 - side*yaw*0.8)
    yaw = float(np.clip(theta[faces2.PARAM_NAMES.index("head_yaw")], -1, 1))
    if name == "ear_l":
        return 1.0 + yaw * 0.8 > 0.7
    if name == "ear_r":
        return 1.0 - yaw * 0.8 > 0.7
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--z", required=True, help="JSON {seed: z} from apps/bench/scripts/seed-z.ts N 131")
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--min-len", type=float, default=3.0)
    ap.add_argument("--max-len", type=float, default=16.0)
    ap.add_argument("--seed", type=int, default=0, help="seed of the drag directions and lengths")
    ap.add_argument("--out", default=os.path.join(ROOT, "tools", ".cache", "tasks-faces2"))
    args = ap.parse_args()
    zs = json.load(open(args.z))
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    res = faces2.RES
    made, tried, k = 0, 0, 0
    for seed in sorted(zs, key=int):
        if made >= args.count:
            break
        z = np.asarray(zs[seed], np.float32)
        if len(z) != faces2.P:
            raise SystemExit(f"error: the --z file has z of length {len(z)}, faces2 needs {faces2.P}; run seed-z.ts with zDim {faces2.P}")
        theta0 = theta_of_z(z)
        lm = landmarks2.landmarks_px(theta0, res)
        for _attempt in range(len(landmarks2.NAMES)):
            name = landmarks2.NAMES[k % len(landmarks2.NAMES)]
            k += 1
            if visible(name, theta0):
                break
        tried += 1
        handle = np.round(lm[name])
        length = rng.uniform(args.min_len, args.max_len)
        ang = rng.uniform(0, 2 * np.pi)
        target = np.round(handle + length * np.array([np.cos(ang), np.sin(ang)]))
        if not ((handle >= 4) & (handle < res - 4) & (target >= 4) & (target < res - 4)).all():
            continue
        r = exact_edit.solve(theta0, handle[None], target[None], bounded=True)
        if r.residual_px.max() > 0.05 or r.max_abs_warp_theta > 1.0 + 1e-4:
            continue
        task = dict(
            name=f"faces2/{name}",
            seed=int(seed),
            truncation=1,
            pairs=[dict(handle=[int(v) for v in handle], target=[int(v) for v in target])],
        )
        fname = f"f{int(seed):03d}-{name.replace('_', '-')}.json"
        with open(os.path.join(args.out, fname), "w") as f:
            json.dump(task, f, indent=2)
        made += 1
        print(f"{fname}: {np.linalg.norm(target - handle):.1f} px, max |warp theta| {r.max_abs_warp_theta:.2f}")
    print(f"wrote {made} tasks ({tried} tried) to {args.out}")


if __name__ == "__main__":
    main()
