"""Tests of faces2 and the exact-edit solver (closed-form properties, stated tolerances).

    /usr/bin/python3 -m unittest discover -s tools/dataset -p 'test_*.py'
"""

from __future__ import annotations

import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exact_edit  # noqa: E402
import faces2  # noqa: E402


def _theta(seed: int) -> np.ndarray:
    return faces2.sample_theta(np.random.default_rng(seed), 1)[0]


class Faces2Test(unittest.TestCase):
    def test_shape_range_and_determinism(self):
        th = faces2.sample_theta(np.random.default_rng(0), 3)
        a, b = faces2.render(th), faces2.render(th)
        self.assertEqual(a.shape, (3, faces2.RES, faces2.RES, 3))
        self.assertEqual(a.dtype, np.float32)
        self.assertTrue(np.array_equal(a, b))
        self.assertGreaterEqual(a.min(), 0.0)
        self.assertLessEqual(a.max(), 1.0)

    def test_continuous_in_every_parameter(self):
        # a step of 1e-3 in any one parameter changes no pixel by more than 0.05: shapes have a
        # one-pixel coverage ramp, so the image is Lipschitz in theta (a hard edge would jump by ~1)
        th = _theta(1)
        base = faces2.render(th[None])[0]
        steps = np.repeat(th[None], faces2.P, 0)
        steps[np.arange(faces2.P), np.arange(faces2.P)] += 1e-3
        moved = faces2.render(steps)
        worst = np.abs(moved - base[None]).max(axis=(1, 2, 3))
        self.assertLess(worst.max(), 0.05, faces2.PARAM_NAMES[int(worst.argmax())])

    def test_local_parameters_are_local(self):
        # a mouth corner, an ear and a hair tip each change only their own part of the image
        th = np.zeros(faces2.P, np.float32)
        base = faces2.render(th[None])[0]
        for name in ("mouth_r_y", "ear_l_out", "lock_r_y", "collar_l_x", "eye_r_x"):
            t2 = th.copy()
            t2[faces2.PARAM_NAMES.index(name)] = 1.0
            changed = np.abs(faces2.render(t2[None])[0] - base).max(-1) > 0.02
            self.assertGreater(changed.sum(), 5, name)
            self.assertLess(changed.mean(), 0.03, name)

    def test_warp_basis_partition_of_unity_inside(self):
        # the cubic B-spline weights of the control points sum to 1 away from the border, so a
        # uniform offset of all control points translates the inner image exactly
        u = np.linspace(-0.55, 0.55, 101)
        self.assertLess(np.abs(faces2.warp_basis(u).sum(1) - 1).max(), 1e-5)

    def test_displacement_matches_render(self):
        # the field the solver uses is the field the renderer uses: a pure translation of the
        # control grid by d moves the inner image content by -d
        th = _theta(2)
        th[faces2.WARP_X] = 0.0
        th[faces2.WARP_Y] = 0.0
        t2 = th.copy()
        t2[faces2.WARP_X] = 8 * (2 / faces2.RES) / faces2.WARP_AMP  # scene sampled 8 px to the right
        a, b = faces2.render(np.stack([th, t2]))
        # inner window only (the border control points do not sum to 1)
        self.assertLess(np.abs(b[40:88, 40:80] - a[40:88, 48:88]).max(), 1e-4)


class ExactEditTest(unittest.TestCase):
    def test_handle_content_lands_on_target_exactly(self):
        th0 = _theta(3)
        handles = np.array([[50, 80], [80, 80]], np.float32)
        targets = np.array([[44, 76], [86, 84]], np.float32)
        r = exact_edit.solve(th0, handles, targets)
        self.assertLess(r.residual_px.max(), 0.01)
        a = faces2.render(th0[None])[0]
        b = faces2.render(r.theta[None])[0]
        for (hx, hy), (tx, ty) in zip(handles.astype(int), targets.astype(int)):
            # same scene point -> identical colour (up to float rounding)
            self.assertLess(np.abs(b[ty, tx] - a[hy, hx]).max(), 1e-4)
        # only the warp changed
        self.assertTrue(np.array_equal(r.theta[: faces2.N_PART], th0[: faces2.N_PART]))

    def test_fixed_region_far_from_the_drag_stays(self):
        th0 = _theta(4)
        fixed = np.ones((faces2.RES, faces2.RES), bool)
        fixed[50:110, 20:110] = False
        r = exact_edit.solve(th0, [[60, 80]], [[66, 84]], fixed)
        self.assertLess(r.residual_px.max(), 0.05)
        a = faces2.render(th0[None])[0]
        b = faces2.render(r.theta[None])[0]
        change = np.abs(b - a).max(-1)
        # the smooth field cannot drop to zero at the mask edge; 20 px away it has
        far = np.zeros_like(fixed)
        far[:30, :] = True
        self.assertLess(change[far].mean(), 0.01)

    def test_landed_inverts_the_warp(self):
        # x + D1(x) = p + D0(p) for the positions flow_px returns
        th0, th1 = _theta(5), _theta(6)
        f = exact_edit.flow_px(th0, th1)
        ys, xs = np.mgrid[0 : faces2.RES : 16, 0 : faces2.RES : 16]
        p = faces2.px_to_coord(np.stack([xs.ravel(), ys.ravel()], 1))
        x = faces2.px_to_coord(f[ys.ravel(), xs.ravel()])
        lhs = x + faces2.displacement_at(th1, x[:, 0], x[:, 1])
        rhs = p + faces2.displacement_at(th0, p[:, 0], p[:, 1])
        self.assertLess(np.abs(lhs - rhs).max() * faces2.RES / 2, 1e-3)  # pixels


if __name__ == "__main__":
    unittest.main()
