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
import faces2g4  # noqa: E402
import landmarks2  # noqa: E402


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

    def test_bounded_solution_stays_in_the_training_range(self):
        th0 = _theta(7)
        lm = landmarks2.landmarks_px(th0)
        h = np.round(lm["nose_tip"])
        r = exact_edit.solve(th0, h[None], (h + [3, 2])[None], bounded=True)
        self.assertLessEqual(r.max_abs_warp_theta, 1.0 + 1e-4)
        self.assertLess(r.residual_px.max(), 0.05)


class LandmarksTest(unittest.TestCase):
    def test_each_landmark_sits_where_its_part_moves(self):
        # nudging a landmark's own position parameter changes the image around the landmark:
        # the change-weighted centroid lies within 6 px of it (the part is a few px wide)
        own = dict(
            pupil_l="gaze_y", pupil_r="gaze_y", mouth_corner_l="mouth_l_x", mouth_corner_r="mouth_r_x",
            nose_tip="nose_y", ear_l="ear_l_y", ear_r="ear_r_y", lock_tip_l="lock_l_y", lock_tip_r="lock_r_y",
            collar_tip_l="collar_l_x", collar_tip_r="collar_r_x",
        )
        th = _theta(8)
        th[faces2.PARAM_NAMES.index("head_yaw")] = 0.0  # both ears visible
        th[faces2.PARAM_NAMES.index("gaze_x")] = 0.0
        lm = landmarks2.landmarks_px(th)
        base = faces2.render(th[None])[0]
        ys, xs = np.mgrid[0 : faces2.RES, 0 : faces2.RES]
        for name, param in own.items():
            t2 = th.copy()
            i = faces2.PARAM_NAMES.index(param)
            t2[i] = t2[i] + (0.1 if t2[i] < 0.9 else -0.1)
            w = np.abs(faces2.render(t2[None])[0] - base).sum(-1)
            # the change near the landmark (the moved part can have long edges, e.g. a lock)
            near = (xs - lm[name][0]) ** 2 + (ys - lm[name][1]) ** 2 < 12**2
            c = np.array([(w * near * xs).sum(), (w * near * ys).sum()]) / (w * near).sum()
            # a lock's whole lower half moves with its tip: check the tip touches changed pixels
            if not name.startswith("lock"):
                # pupils: the iris moves symmetrically about its centre, so the centroid is tight
                tol = 2.0 if name.startswith("pupil") else 6.0
                self.assertLess(np.linalg.norm(c - lm[name]), tol, name)
            else:
                strong = w > 0.1 * w.max()
                d = np.sqrt((xs[strong] - lm[name][0]) ** 2 + (ys[strong] - lm[name][1]) ** 2).min()
                self.assertLess(d, 2.0, name)
            self.assertGreater((w * near).sum() / w.sum(), 0.3, name)

    def test_thin_part_keypoints_sit_where_their_part_moves(self):
        # the keypoints faces2wk2 adds (landmarks2.KEYPOINTS[13:]), with the warp at zero so that
        # scene coordinates are image coordinates: nudging the part's own parameter changes the
        # image around the keypoint (change-weighted centroid within 12 px lies within 4 px of it; a
        # brow's ends move with a stroke 13 px long, so there it is the nearest changed pixel, 2 px).
        # nose_top moves only with the whole head (head_x, head_yaw), so it is not checked here.
        own = dict(
            lid_l="lid_l", lid_r="lid_r", brow_in_l="brow_l_tilt", brow_in_r="brow_r_tilt",
            brow_out_l="brow_l_y", brow_out_r="brow_r_y", nostril_l="nose_y", nostril_r="nose_y",
        )
        th = _theta(0)
        th[faces2.N_PART :] = 0.0
        th[faces2.PARAM_NAMES.index("head_yaw")] = 0.0
        names = landmarks2.KEYPOINTS
        kp = faces2.coord_to_px(landmarks2.scene_keypoints(th[None], len(names))[0].astype(np.float64), faces2.RES)
        base = faces2.render(th[None])[0]
        ys, xs = np.mgrid[0 : faces2.RES, 0 : faces2.RES]
        for name, param in own.items():
            p = kp[names.index(name)]
            t2 = th.copy()
            i = faces2.PARAM_NAMES.index(param)
            t2[i] = t2[i] + (0.1 if t2[i] < 0.9 else -0.1)
            w = np.abs(faces2.render(t2[None])[0] - base).sum(-1)
            near = (xs - p[0]) ** 2 + (ys - p[1]) ** 2 < 12**2
            self.assertGreater((w * near).sum(), 0.0, name)
            if name.startswith("brow"):
                strong = w > 0.1 * w.max()
                self.assertLess(np.sqrt((xs[strong] - p[0]) ** 2 + (ys[strong] - p[1]) ** 2).min(), 2.0, name)
                continue
            c = np.array([(w * near * xs).sum(), (w * near * ys).sum()]) / (w * near).sum()
            self.assertLess(np.linalg.norm(c - p), 4.0, name)


class Faces2G4Test(unittest.TestCase):
    def test_same_scene_as_faces2_without_warp(self):
        th4 = faces2g4.sample_theta(np.random.default_rng(5), 2)
        th4[:, faces2g4.N_PART :] = 0.0
        th6 = np.concatenate([th4[:, : faces2.N_PART], np.zeros((2, faces2.P - faces2.N_PART), np.float32)], 1)
        self.assertEqual(faces2g4.P, faces2.N_PART + 2 * 4 * 4)
        self.assertTrue(np.array_equal(faces2g4.render(th4), faces2.render(th6)))

    def test_translation_of_the_4x4_grid(self):
        # with 4 knots the B-spline weights sum to 1 only for |u| <= 1/3 (pixels 43..84): a
        # uniform x offset of 8 px moves the content of that window by -8 px, and the warp is 4x4
        th = faces2g4.sample_theta(np.random.default_rng(6), 1)[0]
        th[faces2g4.N_PART :] = 0.0
        t2 = th.copy()
        t2[faces2g4.WARP_X] = 8 * (2 / faces2g4.RES) / faces2g4.WARP_AMP
        a, b = faces2g4.render(np.stack([th, t2]))
        self.assertLess(np.abs(b[48:80, 44:76] - a[48:80, 52:84]).max(), 1e-4)
        self.assertGreater(np.abs(b - a).mean(), 0.01)
        u = np.linspace(-1 / 3, 1 / 3, 51)
        self.assertLess(np.abs(faces2g4.warp_basis(u).sum(1) - 1).max(), 1e-5)
        d = faces2g4.displacement_at(t2, np.array([0.0]), np.array([0.1]))[0]
        self.assertAlmostEqual(float(d[0]), 8 * 2 / faces2g4.RES, places=5)


if __name__ == "__main__":
    unittest.main()
