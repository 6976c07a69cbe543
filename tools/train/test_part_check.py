"""part_check's adoption arithmetic against closed-form answers.

    /usr/bin/python3 -m unittest discover -s tools/train -p 'test_*.py'
"""

import math
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import part_check  # noqa: E402


class PairedInterval(unittest.TestCase):
    def test_matches_the_t_interval_by_hand(self):
        # differences 1..5: mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445 (tables)
        old = np.zeros(5)
        mean, lo, hi = part_check.paired_interval(old + np.arange(1, 6), old)
        half = 2.776445 * math.sqrt(2.5) / math.sqrt(5)
        self.assertAlmostEqual(mean, 3.0, places=12)
        self.assertAlmostEqual(lo, 3.0 - half, places=5)
        self.assertAlmostEqual(hi, 3.0 + half, places=5)

    def test_pairing_removes_the_shared_image_difficulty(self):
        # the same per-image offsets on both sides: the interval is the constant change, zero wide
        rng = np.random.default_rng(0)
        old = rng.uniform(0.05, 0.3, 128)
        mean, lo, hi = part_check.paired_interval(old + 0.002, old)
        self.assertAlmostEqual(mean, 0.002, places=10)
        self.assertAlmostEqual(hi - lo, 0.0, places=10)

    def test_one_image_swinging_moves_the_upper_end_little_on_128(self):
        rng = np.random.default_rng(1)
        old = rng.uniform(0.05, 0.1, 128)
        new = old + rng.normal(0.0, 0.005, 128)
        base_hi = part_check.paired_interval(new, old)[2]
        new[7] += 0.07  # image 23 of the seventh session's mouth corners: +0.072
        swung_hi = part_check.paired_interval(new, old)[2]
        self.assertLess(swung_hi - base_hi, 0.0025)


if __name__ == "__main__":
    unittest.main()
