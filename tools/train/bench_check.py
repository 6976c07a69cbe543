"""Condition (3) of the model adoption rule, restated in the ninth session of 7 Dec 2026
(tools/README.md): a candidate's drags on the bench's short task set at 60 steps, against a
reference lineage of several checkpoints instead of one.

    /usr/bin/python3 tools/train/bench_check.py --ref DEFAULT_BENCH [MORE_REF_BENCH ...] --cand CAND_BENCH

Each argument is a bench output folder (`apps/bench ... --out DIR`, with drag-runs.json and
exact-summary.json). For DragGAN and StableDrag, by patch matching and by the exact template, the
candidate passes when its Mean Distance (over all pairs, as the bench's tables) is
  (a) at most the largest of the references' plus the candidate's stated error of that measure:
      checkpoints of one recipe half an hour apart differ by more than the locator's error, so one
      reference checkpoint alone would decide on luck;
  (b) below 40 % of the mean drag length (issue #13's bar);
and the two measures agree within the sum of their stated errors (as BENCHMARKS.md says it).
Prints one line per check and the candidate's paired difference to the first reference (t
interval over tasks, for information); exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import part_check  # noqa: E402

METHODS = ("draggan", "stabledrag")
MEASURES = ("patch", "exact")
SHARE = 0.40


def load_runs(folder: str, budget: int) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(task, method) -> {'patch': distances, 'exact': distances, 'length': drag lengths}."""
    out = {}
    with open(os.path.join(folder, "drag-runs.json")) as f:
        runs = json.load(f)
    for r in runs:
        if r["method"] not in METHODS:
            continue
        b = next((b for b in r["budgets"] if b["budget"] == budget), None)
        if b is None or not b.get("exact"):
            continue
        out[(r["task"], r["method"])] = {
            "patch": [p["distance"] for p in b["pairs"]],
            "exact": [p["distance"] for p in b["exact"]["pairs"]],
            "length": [p["length"] for p in b["pairs"]],
        }
    if not out:
        raise SystemExit(f"{folder}: no DragGAN/StableDrag runs with an exact measure at {budget} steps; run the bench with --budgets {budget}")
    return out


def stated_errors(folder: str) -> dict[str, float]:
    with open(os.path.join(folder, "exact-summary.json")) as f:
        s = json.load(f)["locator"]
    return {"patch": s["patch"], "exact": s["exact"]}


def md(runs, method: str, measure: str) -> float:
    d = [v for (t, m), r in runs.items() if m == method for v in r[measure]]
    return sum(d) / len(d)


def paired(ref, cand, method: str, measure: str) -> tuple[float, float, float]:
    """Mean over pairs of cand - ref, and a 95 % t interval over tasks (each task's pair sum, scaled
    so that the tasks' mean is the pairs' mean)."""
    keys = [k for k in ref if k[1] == method and k in cand]
    scale = len(keys) / sum(len(ref[k][measure]) for k in keys)
    return part_check.paired_interval(
        [sum(cand[k][measure]) * scale for k in keys], [sum(ref[k][measure]) * scale for k in keys]
    )


def check(refs: list, cand, errors: dict[str, float]) -> list[tuple[str, bool]]:
    lines = []
    length = md(cand, "draggan", "length")
    for method in METHODS:
        mds = {}
        for measure in MEASURES:
            c = md(cand, method, measure)
            mds[measure] = c
            top = max(md(r, method, measure) for r in refs)
            limit = top + errors[measure]
            lines.append((f"{method} {measure}: MD {c:.2f} px <= {limit:.2f} (references' largest {top:.2f} + stated {errors[measure]:.2f})", c <= limit))
            lines.append((f"{method} {measure}: MD {c:.2f} px < {SHARE:.0%} of {length:.2f} px = {SHARE * length:.2f}", c < SHARE * length))
            mean, lo, hi = paired(refs[0], cand, method, measure)
            lines.append((f"{method} {measure}: candidate - first reference {mean:+.2f} [{lo:+.2f}, {hi:+.2f}] (for information)", True))
        gap, tol = mds["patch"] - mds["exact"], errors["patch"] + errors["exact"]
        lines.append((f"{method}: measures differ by {gap:+.2f} px, within {tol:.2f}", abs(gap) <= tol))
    return lines


def arguments(doc: str, budget: int) -> argparse.Namespace:
    """--ref FOLDER..., --cand FOLDER, --budget N: the command line of this check and long_check.py."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", nargs="+", required=True, help="bench output folders of the reference checkpoints")
    ap.add_argument("--cand", required=True, help="bench output folder of the candidate")
    ap.add_argument("--budget", type=int, default=budget)
    return ap.parse_args()


def main() -> None:
    a = arguments(__doc__, 60)
    refs = [load_runs(r, a.budget) for r in a.ref]
    finish(check(refs, load_runs(a.cand, a.budget), stated_errors(a.cand)))


def finish(lines: list[tuple[str, bool]]) -> None:
    """Prints each check as ok / FAIL and exits 1 when any failed (long_check.py too)."""
    for text, ok in lines:
        print(("ok   " if ok else "FAIL ") + text)
    sys.exit(0 if all(ok for _, ok in lines) else 1)


if __name__ == "__main__":
    main()
