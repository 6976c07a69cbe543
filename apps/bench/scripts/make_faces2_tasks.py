"""GAN bench task sets for a generator trained on tools/dataset/faces2.py (issue #13, item 3).

A GAN task is a seed: at truncation 1 its image is the model's imitation of
faces2.render(erf(z / sqrt(2))), z drawn as the TypeScript backend draws it (seed-z.ts with zDim
131). So the renderer knows the seed's geometry (landmarks2) and, because its warp is explicit,
the exact answer of a drag (exact_edit.solve).

Short set (--out, default apps/bench/tasks-faces2): per seed, in seed order, a few draws of a
drag until one is exactly solvable inside the training range; kinds round robin as
make_diffusion_tasks.py (single landmark, both pupils together, both mouth corners apart or
together), 3-16 px, every fourth task with an editable mask (discs of half the drag + 12 px).
Kept when the bounded solve lands every handle within MAX_RESIDUAL of its target (so the answer
is inside the training range |theta| <= 1; entries at the bound are common, see exact-latent.ts
in the bench for how the model's image of such an answer is made). Then
make_exact.process writes the exact edit into <out>/exact/ (json, exact png, original png; the
flow .bin is deleted: the bench does not read it), and the json gets `half`: the exact edit of the
same drag stopped half way (theta and landed), a case with a known answer for the bench's
measures of their own error.

Long set (--out-long, default apps/bench/tasks-faces2-long): 20-60 px drags of one landmark in a
seeded direction, shortened to stay 6 px inside the image, no mask, no exact answer (the warp's
+-7.7 px range cannot make them): the stability section's drags.

Medium set (--out-medium, default apps/bench/tasks-faces2-medium): the same with 10-20 px, the
lengths between the other two sets (issue #12's held-out drags were 6-24 px); used by no sweep.
`--sets medium` writes only it.

Second short set (--sets short2, --out-short2, default apps/bench/tasks-faces2-short2): the short
set's procedure on the faces of seeds 200 and up (no other set uses them) with its own drag seed,
made on 2 Dec 2026 to settle issue #12's short-drag comparison on drags no sweep has seen.

    npx tsx --conditions=@stabledrag/source apps/bench/scripts/seed-z.ts 400 131 > tools/.cache/seed-z-131.json
    /usr/bin/python3 apps/bench/scripts/make_faces2_tasks.py --z tools/.cache/seed-z-131.json
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
sys.path.insert(0, HERE)
import exact_edit  # noqa: E402
import faces2  # noqa: E402
import landmarks2  # noqa: E402
import make_exact  # noqa: E402
from make_diffusion_tasks import inside, mask_of  # noqa: E402
from make_tasks2 import visible  # noqa: E402

MIN_LEN, MAX_LEN = 3.0, 16.0
LONG_MIN, LONG_MAX, LONG_MARGIN = 20.0, 60.0, 6
# between the short set's 3-16 px and the long set's 20-60 px (issue #12's held-out drags were 6-24 px)
MEDIUM_MIN, MEDIUM_MAX = 10.0, 20.0
# a masked solve's fixed-region rows compete with the pair rows (as in make_diffusion_tasks.py)
MAX_RESIDUAL = 0.25
DRAWS_PER_SEED = 3
SHRINK = [1.0, 0.8, 0.64, 0.51, 0.41]
KINDS = ["single", "single", "pupils", "single", "single", "mouth"]


def propose(kind: str, lm: dict, theta: np.ndarray, rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Handles [K, 2], targets [K, 2] (whole pixels) and a name; k picks a single drag's landmark."""
    length = rng.uniform(MIN_LEN, MAX_LEN)
    ang = rng.uniform(0, 2 * np.pi)
    step = length * np.array([np.cos(ang), np.sin(ang)])
    if kind == "pupils":
        h = np.round(np.stack([lm["pupil_l"], lm["pupil_r"]]))
        return h, np.round(h + step), "pupils"
    if kind == "mouth":
        h = np.round(np.stack([lm["mouth_corner_l"], lm["mouth_corner_r"]]))
        d = rng.uniform(MIN_LEN, MAX_LEN / 2) * rng.choice([-1.0, 1.0])
        return h, np.round(h + np.array([[-d, 0.0], [d, 0.0]])), "mouth-wider" if d > 0 else "mouth-narrower"
    names = [n for n in landmarks2.NAMES if visible(n, theta)]
    name = names[k % len(names)]
    h = np.round(lm[name])[None]
    return h, np.round(h + step), name.replace("_", "-")


def solve_ok(theta0: np.ndarray, h: np.ndarray, t: np.ndarray, editable: np.ndarray | None):
    r = exact_edit.solve(theta0, h, t, fixed=None if editable is None else ~editable, bounded=True)
    return r, bool(r.residual_px.max() <= MAX_RESIDUAL)


def shortest_fail(theta0: np.ndarray, h: np.ndarray, t: np.ndarray, masked: bool) -> np.ndarray | None:
    """The drawn drag, or the same direction shortened (x 0.8 each try) until it is exactly
    solvable; None when no length >= MIN_LEN is. Keeps the set from being only the shortest drags
    (the warp's range rejects most drags over ~9 px)."""
    res = faces2.RES
    if not inside(h, res) or (len(h) == 2 and np.linalg.norm(h[0] - h[1]) < 10):
        return None
    for scale in SHRINK:
        ts = np.round(h + scale * (t - h))
        if np.linalg.norm(ts - h, axis=1).min() < MIN_LEN - 0.5:
            return None
        if not inside(ts, res):
            continue
        if solve_ok(theta0, h, ts, mask_of(list(zip(h, ts)), res) if masked else None)[1]:
            return ts
    return None


def answer_ok(info: dict) -> bool:
    """make_exact's answer lands every handle and is the bounded one (inside the training range)."""
    worst = max(p["residual_px"] for p in info["pairs"])
    return worst <= MAX_RESIDUAL and info["in_training_range"]


def write_task(path: str, name: str, seed: int, h: np.ndarray, t: np.ndarray, mask: str | None) -> None:
    task = {"name": name, "seed": seed, "truncation": 1, "pairs": [{"handle": [int(v) for v in a], "target": [int(v) for v in b]} for a, b in zip(h, t)]}
    if mask:
        task["mask"] = mask
    with open(path, "w") as f:
        json.dump(task, f, indent=2)
        f.write("\n")


def add_half_way(info_path: str, theta0: np.ndarray, h: np.ndarray, t: np.ndarray, editable: np.ndarray | None) -> None:
    """The same drag stopped half way: where the handles' content is then is known exactly."""
    mid = h + 0.5 * (t - h)
    r = exact_edit.solve(theta0, h, mid, fixed=None if editable is None else ~editable, bounded=True)
    info = json.load(open(info_path))
    info["half"] = {
        "targets": mid.tolist(),
        "theta": [float(v) for v in r.theta],
        "landed": [[round(float(v), 4) for v in p] for p in r.landed_px],
        "residual_px": round(float(r.residual_px.max()), 4),
    }
    with open(info_path, "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")


def seed_landmarks(zs: dict, first_seed: int = 0):
    """(seed, theta, landmarks in px) of every seed >= first_seed of the --z file, in seed order."""
    for s in sorted((k for k in zs if int(k) >= first_seed), key=int):
        theta0 = make_exact.theta_of_z(np.asarray(zs[s], np.float32))
        yield s, theta0, landmarks2.landmarks_px(theta0, faces2.RES)


def make_short(zs: dict, count: int, seed: int, out: str, first_seed: int = 0) -> None:
    res = faces2.RES
    rng = np.random.default_rng(seed)
    exact_dir = os.path.join(out, "exact")
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    os.makedirs(exact_dir, exist_ok=True)
    made = 0
    for s, theta0, lm in seed_landmarks(zs, first_seed):
        if made >= count:
            break
        kind = KINDS[made % len(KINDS)]
        masked = made % 4 == 3
        for draw in range(DRAWS_PER_SEED):
            h, t, name = propose(kind, lm, theta0, rng, made + draw)
            t = shortest_fail(theta0, h, t, masked)
            if t is None:
                continue
            lengths = np.linalg.norm(t - h, axis=1)
            editable = mask_of(list(zip(h, t)), res) if masked else None
            tid = f"g{int(s):03d}-{name}"
            mask = None
            if editable is not None:
                mask = f"masks/{tid}.png"
                Image.fromarray((editable * 255).astype(np.uint8)).save(os.path.join(out, mask), optimize=True)
            write_task(os.path.join(out, f"{tid}.json"), f"{name}/faces2", int(s), h, t, mask)
            info = make_exact.process(os.path.join(out, f"{tid}.json"), zs, exact_dir)
            os.remove(os.path.join(exact_dir, info["flow"]))
            if not answer_ok(info):
                # make_exact fell back to the unbounded solve (residual over its 0.05 px)
                for n in [f"{tid}.json", mask]:
                    if n:
                        os.remove(os.path.join(out, n))
                for n in [info["image"], info["original"], f"{tid}.json"]:
                    os.remove(os.path.join(exact_dir, n))
                continue
            add_half_way(os.path.join(exact_dir, f"{tid}.json"), theta0, h, t, editable)
            made += 1
            print(f"{tid}: {', '.join(f'{v:.1f}' for v in lengths)} px, max |warp theta| {info['max_abs_warp_theta']:.2f}")
            break
    print(f"wrote {made} short tasks to {out}")


def make_long(zs: dict, count: int, seed: int, out: str, lengths: tuple[float, float] = (LONG_MIN, LONG_MAX), kind: str = "long") -> None:
    """One landmark dragged in a seeded direction by a length drawn from `lengths` (long and medium sets)."""
    res = faces2.RES
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    made = 0
    for s, theta0, lm in seed_landmarks(zs):
        if made >= count:
            break
        names = [n for n in landmarks2.NAMES if visible(n, theta0)]
        name = names[made % len(names)]
        h = np.round(lm[name])
        ang = rng.uniform(0, 2 * np.pi)
        u = np.array([np.cos(ang), np.sin(ang)])
        lo, hi = LONG_MARGIN, res - 1 - LONG_MARGIN
        if not ((h >= lo) & (h <= hi)).all():
            continue
        # room along u before the target leaves [lo, hi]
        room = min((hi - h[i]) / u[i] if u[i] > 0 else (lo - h[i]) / u[i] if u[i] < 0 else np.inf for i in range(2))
        length = min(rng.uniform(*lengths), room)
        if length < lengths[0]:
            continue
        t = np.round(h + length * u)
        tid = f"{kind}-g{int(s):03d}-{name.replace('_', '-')}"
        write_task(os.path.join(out, f"{tid}.json"), f"{name.replace('_', '-')}/faces2 {kind}", int(s), h[None], t[None], None)
        made += 1
        print(f"{tid}: {np.linalg.norm(t - h):.1f} px")
    print(f"wrote {made} {kind} tasks to {out}")


def clear(folder: str) -> None:
    """Removes what an earlier run wrote (task files, masks, exact answers), nothing else."""
    for sub in ["", "masks", "exact"]:
        d = os.path.join(folder, sub)
        if os.path.isdir(d):
            for n in os.listdir(d):
                if n.endswith((".json", ".png", ".bin")):
                    os.remove(os.path.join(d, n))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--z", required=True, help="JSON {seed: z} from apps/bench/scripts/seed-z.ts N 131")
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--long-count", type=int, default=60)
    ap.add_argument("--seed", type=int, default=13, help="seed of the drag directions and lengths")
    ap.add_argument("--out", default=os.path.join(ROOT, "apps", "bench", "tasks-faces2"))
    ap.add_argument("--out-long", default=os.path.join(ROOT, "apps", "bench", "tasks-faces2-long"))
    ap.add_argument("--medium-count", type=int, default=60)
    ap.add_argument("--out-medium", default=os.path.join(ROOT, "apps", "bench", "tasks-faces2-medium"))
    ap.add_argument("--short2-count", type=int, default=60)
    ap.add_argument("--out-short2", default=os.path.join(ROOT, "apps", "bench", "tasks-faces2-short2"))
    ap.add_argument("--short2-first-seed", type=int, default=200, help="the second short set's faces: seeds no other set uses")
    ap.add_argument("--sets", default="short,long,medium", help="which sets to (re)write, comma-separated (short2 only when named)")
    args = ap.parse_args()
    sets = set(args.sets.split(","))
    if not sets <= {"short", "long", "medium", "short2"}:
        raise SystemExit(f"error: --sets {args.sets!r}: name some of short, long, medium, short2")
    zs = json.load(open(args.z))
    if len(next(iter(zs.values()))) != faces2.P:
        raise SystemExit(f"error: the --z file has z of length {len(next(iter(zs.values())))}, faces2 needs {faces2.P}; run seed-z.ts with zDim {faces2.P}")
    if "short" in sets:
        clear(args.out)
        make_short(zs, args.count, args.seed, args.out)
    if "long" in sets:
        clear(args.out_long)
        make_long(zs, args.long_count, args.seed + 1, args.out_long)
    if "medium" in sets:
        clear(args.out_medium)
        make_long(zs, args.medium_count, args.seed + 2, args.out_medium, (MEDIUM_MIN, MEDIUM_MAX), "medium")
    if "short2" in sets:
        clear(args.out_short2)
        make_short(zs, args.short2_count, args.seed + 3, args.out_short2, args.short2_first_seed)


if __name__ == "__main__":
    main()
