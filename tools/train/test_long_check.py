"""long_check's condition (4) on hand-made bench folders with known answers.

    /usr/bin/python3 -m unittest discover -s tools/train -p 'test_*.py'
"""

import json
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import long_check  # noqa: E402


def bench(folder: str, runs: dict) -> str:
    """runs: method -> list of (distance, 1 - MAE outside, destroyed) per task, one pair each."""
    os.makedirs(folder)
    out = []
    for method, tasks in runs.items():
        for i, (d, o, x) in enumerate(tasks):
            out.append({"task": f"long-t{i}", "method": method, "budgets": [
                {"budget": 60, "pairs": [{"distance": 99.0}], "mae1Outside": 0.5, "destroyed": True},
                {"budget": 300, "pairs": [{"distance": d}], "mae1Outside": o, "destroyed": x}]})
    with open(os.path.join(folder, "long-runs.json"), "w") as f:
        json.dump(out, f)
    return folder


class LongCheck(unittest.TestCase):
    def run_check(self, refs, cand):
        root = self.enterContext(tempfile.TemporaryDirectory())
        r = [long_check.load_long(bench(os.path.join(root, f"r{i}"), d), 300) for i, d in enumerate(refs)]
        return long_check.check(r, long_check.load_long(bench(os.path.join(root, "c"), cand), 300))

    def test_lead_must_reach_the_smallest_reference_lead(self):
        # references' leads: (20 + 10) / 2 - 5 = 10 and 12 - 10 = 2; the 60-step rows are ignored
        refs = [{"draggan": [(20, 0.9, False), (10, 0.9, False)], "stabledrag": [(5, 0.91, False), (5, 0.91, False)]},
                {"draggan": [(12, 0.9, False), (12, 0.9, False)], "stabledrag": [(10, 0.91, False), (10, 0.91, False)]}]
        ok = [(10, 0.90, False), (10, 0.91, False)]
        passed = self.run_check(refs, {"draggan": ok, "stabledrag": [(8, 0.91, False), (8, 0.93, False)]})
        self.assertTrue(passed[0][1], passed[0][0])
        self.assertIn("lead 2.00 px", passed[0][0])
        failed = self.run_check(refs, {"draggan": ok, "stabledrag": [(8.5, 0.91, False), (8, 0.93, False)]})
        self.assertFalse(failed[0][1], failed[0][0])

    def test_stabledrag_may_not_destroy_more(self):
        ref = [{"draggan": [(9, 0.9, False)] * 2, "stabledrag": [(9, 0.9, False)] * 2}]
        out = self.run_check(ref, {"draggan": [(9, 0.80, True), (9, 0.90, False)], "stabledrag": [(9, 0.84, True), (9, 0.91, True)]})
        self.assertEqual(out[1], ("destroyed: StableDrag 2 / 2 <= DragGAN 1 / 2", False))

    def test_kept_image_interval_is_the_t_interval_over_tasks(self):
        # differences 0.01, 0.02, 0.03: mean 0.02, sd 0.01, t(0.975, 2) = 4.3027
        ref = [{"draggan": [(9, 0.9, False)] * 3, "stabledrag": [(9, 0.9, False)] * 3}]
        dg = [(9, 0.90, False), (9, 0.90, False), (9, 0.90, False)]
        sd = [(9, 0.91, False), (9, 0.92, False), (9, 0.93, False)]
        text, ok = self.run_check(ref, {"draggan": dg, "stabledrag": sd})[2]
        half = 4.302653 * 0.01 / math.sqrt(3)
        self.assertIn(f"+0.0200 [{0.02 - half:+.4f}, {0.02 + half:+.4f}]", text)
        self.assertFalse(ok)  # 0.02 - 0.0248 < 0
        text, ok = self.run_check(ref, {"draggan": dg, "stabledrag": [(9, 0.92, False), (9, 0.93, False), (9, 0.94, False)]})[2]
        self.assertTrue(ok, text)


if __name__ == "__main__":
    unittest.main()
