"""Condition (4) of the model adoption rule, restated in the tenth session (8 Dec 2026,
tools/README.md): StableDrag's stability on the bench's long drags (20-60 px) at 300 steps, against
a reference lineage of checkpoints instead of one.

    /usr/bin/python3 tools/train/long_check.py --ref DEFAULT_BENCH [MORE_REF_BENCH ...] --cand CAND_BENCH

Each argument is a full bench output folder (with long-runs.json). The candidate passes when
  (a) StableDrag's lead (DragGAN's Mean Distance minus StableDrag's, over all pairs, as the bench's
      table) is at least the smallest of the references': on three checkpoints of one recipe it
      ranged 1.2-5.7 px, so "the interval excludes 0" on one of them decided by luck;
  (b) StableDrag destroys no more images than DragGAN (the bench's 1 - MAE outside < 0.85);
  (c) the paired 95 % interval of StableDrag - DragGAN in 1 - MAE outside (t interval over tasks;
      the bench prints a bootstrap one) lies above 0: StableDrag keeps more of the image.
Exits 1 when any check fails.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_check  # noqa: E402
import part_check  # noqa: E402

METHODS = ("draggan", "stabledrag")


def load_long(folder: str, budget: int) -> dict[str, dict[str, dict]]:
    """method -> task -> {'distances': [...], 'outside': 1 - MAE outside, 'destroyed': bool}."""
    with open(os.path.join(folder, "long-runs.json")) as f:
        runs = json.load(f)
    out: dict[str, dict[str, dict]] = {m: {} for m in METHODS}
    for r in runs:
        b = next((b for b in r["budgets"] if b["budget"] == budget), None)
        if r["method"] in METHODS and b is not None:
            out[r["method"]][r["task"]] = {
                "distances": [p["distance"] for p in b["pairs"]],
                "outside": b["mae1Outside"],
                "destroyed": bool(b["destroyed"]),
            }
    if not all(out.values()):
        raise SystemExit(f"{folder}: no DragGAN and StableDrag long runs at {budget} steps; run the full bench (--long-budget {budget})")
    return out


def md(runs: dict[str, dict], method: str) -> float:
    d = [v for t in runs[method].values() for v in t["distances"]]
    return sum(d) / len(d)


def lead(runs: dict[str, dict]) -> float:
    """DragGAN's MD minus StableDrag's: positive when StableDrag ends nearer the targets."""
    return md(runs, "draggan") - md(runs, "stabledrag")


def check(refs: list[dict], cand: dict) -> list[tuple[str, bool]]:
    lines = []
    least = min(lead(r) for r in refs)
    got = lead(cand)
    lines.append((f"StableDrag's lead {got:.2f} px (DragGAN {md(cand, 'draggan'):.2f}, StableDrag {md(cand, 'stabledrag'):.2f}) "
                  f">= the references' smallest {least:.2f} (all: {', '.join(f'{lead(r):.2f}' for r in refs)})", got >= least))
    dest = {m: sum(t["destroyed"] for t in cand[m].values()) for m in METHODS}
    n = len(cand["draggan"])
    lines.append((f"destroyed: StableDrag {dest['stabledrag']} / {n} <= DragGAN {dest['draggan']} / {n}", dest["stabledrag"] <= dest["draggan"]))
    tasks = sorted(set(cand["draggan"]) & set(cand["stabledrag"]))
    mean, lo, hi = part_check.paired_interval(
        [cand["stabledrag"][t]["outside"] for t in tasks], [cand["draggan"][t]["outside"] for t in tasks]
    )
    lines.append((f"1 - MAE outside, StableDrag - DragGAN {mean:+.4f} [{lo:+.4f}, {hi:+.4f}] above 0 ({len(tasks)} tasks)", lo > 0))
    return lines


def main() -> None:
    a = bench_check.arguments(__doc__, 300)
    bench_check.finish(check([load_long(r, a.budget) for r in a.ref], load_long(a.cand, a.budget)))


if __name__ == "__main__":
    main()
