"""bench_check's condition (3) on hand-made bench folders with known answers.

    /usr/bin/python3 -m unittest discover -s tools/train -p 'test_*.py'
"""

import json
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_check  # noqa: E402


def bench(folder: str, dist: dict, errors=(0.25, 0.24), length=6.0) -> str:
    """dist: method -> list of per-task distances (one pair per task; exact = patch)."""
    os.makedirs(folder)
    runs = []
    for method, ds in dist.items():
        for i, d in enumerate(ds):
            pair = {"distance": d, "length": length}
            runs.append({"task": f"t{i}", "method": method, "budgets": [
                {"budget": 0, "pairs": [{"distance": length, "length": length}], "exact": {"pairs": [{"distance": length}]}},
                {"budget": 60, "pairs": [pair], "exact": {"pairs": [{"distance": d}]}}]})
    with open(os.path.join(folder, "drag-runs.json"), "w") as f:
        json.dump(runs, f)
    with open(os.path.join(folder, "exact-summary.json"), "w") as f:
        json.dump({"locator": {"patch": errors[0], "exact": errors[1]}}, f)
    return folder


class BenchCheck(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def run_check(self, refs, cand):
        r = [bench_check.load_runs(bench(os.path.join(self.root, f"r{i}"), d), 60) for i, d in enumerate(refs)]
        c = bench(os.path.join(self.root, "c"), cand)
        return dict(bench_check.check(r, bench_check.load_runs(c, 60), bench_check.stated_errors(c)))

    def test_limit_is_the_largest_reference_plus_the_stated_error(self):
        refs = [{"draggan": [1.0, 2.0], "stabledrag": [1.0, 1.0]}, {"draggan": [1.5, 2.5], "stabledrag": [1.2, 1.2]}]
        # DragGAN references 1.5 and 2.0: limit 2.25 (patch), 2.24 (exact); candidate 2.245
        out = self.run_check(refs, {"draggan": [2.0, 2.49], "stabledrag": [1.2, 1.2]})
        self.assertTrue(out["draggan patch: MD 2.25 px <= 2.25 (references' largest 2.00 + stated 0.25)"])
        self.assertFalse(out["draggan exact: MD 2.25 px <= 2.24 (references' largest 2.00 + stated 0.24)"])

    def test_forty_percent_of_the_drag_length(self):
        refs = [{"draggan": [3.0, 3.0], "stabledrag": [2.0, 2.0]}]
        out = self.run_check(refs, {"draggan": [2.39, 2.39], "stabledrag": [2.41, 2.41]})
        self.assertTrue(out["draggan patch: MD 2.39 px < 40% of 6.00 px = 2.40"])
        self.assertFalse(out["stabledrag exact: MD 2.41 px < 40% of 6.00 px = 2.40"])

    def test_paired_interval_is_the_t_interval_over_tasks(self):
        # differences 1..5 over five tasks: mean 3, half width t(0.975, 4) sqrt(2.5) / sqrt(5)
        ref = {"draggan": [0.0] * 5, "stabledrag": [0.0] * 5}
        cand = {"draggan": [1.0, 2.0, 3.0, 4.0, 5.0], "stabledrag": [0.0] * 5}
        r = bench_check.load_runs(bench(os.path.join(self.root, "r"), ref), 60)
        c = bench_check.load_runs(bench(os.path.join(self.root, "c"), cand), 60)
        mean, lo, hi = bench_check.paired(r, c, "draggan", "patch")
        half = 2.776445 * math.sqrt(2.5) / math.sqrt(5)
        self.assertAlmostEqual(mean, 3.0, places=12)
        self.assertAlmostEqual(hi - mean, half, places=5)
        self.assertAlmostEqual(mean - lo, half, places=5)


if __name__ == "__main__":
    unittest.main()
