"""Tests of the faces2w displacement field and the faces2wk keypoint blobs in networks.py (closed-form answers, stated tolerances).

    /usr/bin/python3 -m unittest discover -s tools/train -p 'test_*.py'
"""

from __future__ import annotations

import math
import os
import sys
import unittest

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "dataset"))
import faces2  # noqa: E402
from networks import CONFIGS, Generator, cubic_kernel, warp, warp_basis_2d  # noqa: E402


class WarpTest(unittest.TestCase):
    def test_basis_is_the_renderers(self):
        # the renderer's 1-D weights at the 32-px pixel centres, as an outer product
        r = 32
        u = (np.arange(r) + 0.5) / r * 2 - 1
        b = faces2.warp_basis(u)  # [r, grid]
        ref = (b.T[:, None, :, None] * b.T[None, :, None, :]).reshape(faces2.GRID**2, r * r)
        np.testing.assert_allclose(warp_basis_2d(r, faces2.GRID).numpy(), ref, atol=1e-6)

    def test_zero_field_is_the_identity(self):
        x = torch.randn(2, 5, 12, 12)
        torch.testing.assert_close(warp(x, torch.zeros(2, 2, 12, 12)), x, atol=1e-6, rtol=0)

    def test_whole_pixel_shift_reads_the_neighbour(self):
        # out(y, x) = in(y + dy, x + dx): with dx = 2, dy = -1 the interior is a plain shift
        x = torch.randn(1, 3, 10, 10)
        d = torch.zeros(1, 2, 10, 10)
        d[:, 0], d[:, 1] = 2.0, -1.0
        out = warp(x, d)
        torch.testing.assert_close(out[..., 1:, :-2], x[..., :-1, 2:], atol=1e-6, rtol=0)

    def test_fractional_shift_interpolates_linearly_and_clamps_at_the_edge(self):
        x = torch.arange(8.0).reshape(1, 1, 1, 8).expand(1, 1, 4, 8).contiguous()
        d = torch.zeros(1, 2, 4, 8)
        d[:, 0] = 0.25
        out = warp(x, d)[0, 0, 0]
        # a ramp sampled a quarter pixel to the right; the last pixel cannot read past the edge
        np.testing.assert_allclose(out.numpy(), [0.25, 1.25, 2.25, 3.25, 4.25, 5.25, 6.25, 7.0], atol=1e-6)

    def test_true_field_moves_the_unwarped_scene_towards_the_render(self):
        # resampling the renderer's unwarped scene with the true field must come much closer to
        # the warped render than the unwarped scene is (what's left is the 32-px resampling blur)
        r = 32
        th = faces2.sample_theta(np.random.default_rng(3), 4)
        flat = th.copy()
        flat[:, faces2.N_PART :] = 0
        img = torch.from_numpy(faces2.render(th, res=r)).permute(0, 3, 1, 2)
        img0 = torch.from_numpy(faces2.render(flat, res=r)).permute(0, 3, 1, 2)
        ctrl = torch.from_numpy(np.stack([th[:, faces2.WARP_X], th[:, faces2.WARP_Y]], 1) * faces2.WARP_AMP * r / 2)
        disp = (ctrl.float() @ warp_basis_2d(r, faces2.GRID)).reshape(4, 2, r, r)
        before = (img0 - img).abs().mean().item()
        after = (warp(img0, disp) - img).abs().mean().item()
        self.assertLess(after, 0.6 * before)

    def test_a_new_head_starts_as_the_identity_warp(self):
        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2w"])
        ws = torch.randn(1, G.num_ws, G.w_dim)
        self.assertEqual(G.displacement(ws[:, 0]).abs().max().item(), 0.0)
        plain = Generator(**CONFIGS["faces2"])
        missing, unexpected = plain.load_state_dict(G.state_dict(), strict=False)
        self.assertEqual(sorted(unexpected), sorted(k for k in G.state_dict() if k.startswith(("geo.", "mapping.skip."))))
        with torch.no_grad():
            a, fa = G.synthesis(ws)
            b, fb = plain.synthesis(ws)
        self.assertTrue(math.isclose((a - b).abs().max().item(), 0.0, abs_tol=1e-5))
        self.assertTrue(math.isclose((fa - fb).abs().max().item(), 0.0, abs_tol=1e-5))


class KeypointTest(unittest.TestCase):
    def test_blob_peaks_at_the_keypoint_and_has_the_stated_width(self):
        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2wk"])
        r, k = G.feature_res, G.keypoints
        with torch.no_grad():
            G.kp.bias.zero_()
            G.kp.bias[0], G.kp.bias[1] = 0.25, -0.5  # keypoint 0 at image coordinates (0.25, -0.5)
            G.kp_proj.zero_()
            G.kp_proj[0, 0] = 1.0  # channel 0 shows keypoint 0 alone
            m = G.keypoint_maps(torch.zeros(1, G.w_dim))[0, 0]
        # pixel centre j sits at (j + 0.5) / r * 2 - 1: x = 0.25 -> j = 19.5, y = -0.5 -> j = 7.5
        self.assertAlmostEqual(m[7, 19].item(), math.exp(-0.25), places=5)  # 0.5 px off on both axes
        self.assertAlmostEqual(m[7, 19].item(), m[8, 20].item(), places=6)
        self.assertAlmostEqual(m[7, 17].item() / m[7, 19].item(), math.exp(-(2.5**2 - 0.5**2) / 2), places=5)
        self.assertEqual(G.kp_proj.shape, (G.channels[r // 2], k))

    def test_a_new_keypoint_path_changes_nothing_and_its_head_gets_gradients(self):
        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2wk"])
        plain = Generator(**CONFIGS["faces2w"])
        missing, unexpected = plain.load_state_dict(G.state_dict(), strict=False)
        self.assertEqual(sorted(unexpected), sorted(k for k in G.state_dict() if k.startswith(("kp.", "kp_proj"))))
        ws = torch.randn(1, G.num_ws, G.w_dim)
        with torch.no_grad():
            a, fa = G.synthesis(ws)
            b, fb = plain.synthesis(ws)
        self.assertTrue(math.isclose((a - b).abs().max().item(), 0.0, abs_tol=1e-5))
        with torch.no_grad():
            G.kp_proj.normal_()
        ws.requires_grad_(True)
        G.synthesis(ws)[1].square().sum().backward()
        self.assertGreater(G.kp.weight.grad.abs().sum().item(), 0.0)

    def blob_under_a_uniform_field(self, config: str, scale: int, proj: str, at: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
        """Keypoint 0 alone at scene point `at`, as the one channel of `proj`: its map at scale x
        the feature resolution, still and under a uniform field of +1 feature px in x."""
        torch.manual_seed(0)
        G = Generator(**CONFIGS[config])
        n = G.warp_grid * G.warp_grid
        with torch.no_grad():
            G.kp.weight.zero_()
            G.kp.bias.zero_()
            G.kp.bias[0], G.kp.bias[1] = at
            getattr(G, proj).zero_()
            getattr(G, proj)[0, 0] = 1.0
            w = torch.zeros(1, G.w_dim)
            maps = (lambda ctrl: G.keypoint_maps_hi(w, ctrl)) if scale == 2 else (lambda ctrl: G.keypoint_maps_top(w, G.field(ctrl)))
            still = maps(torch.zeros(1, 2, n))[0, 0]
            moved = maps(torch.cat([torch.ones(1, 1, n), torch.zeros(1, 1, n)], 1))[0, 0]
        return still, moved

    def test_hi_res_blob_sits_where_the_displacement_field_moves_the_keypoint(self):
        # faces2wk2h: at 64 px, keypoint 0 at scene x = 8.5 / 32 (pixel 40), y = -0.5 / 32 (pixel 31);
        # a uniform field of +1 feature px in x samples the scene 2 px (64-px pixels) further right,
        # so the blob shows 2 px to the left; the image(x) = scene(x + D(x)) of the renderer
        still, moved = self.blob_under_a_uniform_field("faces2wk2h", 2, "kp_proj_hi", (8.5 / 32, -0.5 / 32))
        self.assertEqual(still.shape, (64, 64))
        self.assertEqual(divmod(still.argmax().item(), 64), (31, 40))
        self.assertAlmostEqual(still[31, 40].item(), 1.0, places=5)
        self.assertAlmostEqual(still[31, 39].item(), math.exp(-0.5), places=5)  # sigma 1 px there
        self.assertEqual(divmod(moved.argmax().item(), 64), (31, 38))
        self.assertAlmostEqual(moved[31, 38].item(), 1.0, delta=0.02)  # the B-spline field is uniform there to ~1 %

    def test_top_res_blob_sits_where_the_displacement_field_moves_the_keypoint(self):
        # faces2wk2thst: at 128 px, keypoint 0 at scene x = 16.5 / 64 (pixel 80), y = -0.5 / 64
        # (pixel 63); +1 feature px in x is 4 px of this map, so the blob shows 4 px to the left
        # (placed at the fixed point of the field, not warped)
        still, moved = self.blob_under_a_uniform_field("faces2wk2thst", 4, "kp_proj_top", (16.5 / 64, -0.5 / 64))
        self.assertEqual(still.shape, (128, 128))
        self.assertEqual(divmod(still.argmax().item(), 128), (63, 80))
        self.assertAlmostEqual(still[63, 79].item(), math.exp(-0.5), places=5)  # sigma 1 px there
        self.assertEqual(divmod(moved.argmax().item(), 128), (63, 76))
        self.assertAlmostEqual(moved[63, 76].item(), 1.0, delta=0.02)

    def test_a_new_hi_res_keypoint_path_changes_nothing_and_learns(self):
        # --init-from faces2wk2 into faces2wk2h: kp_proj_hi starts at zero (same image) and gets gradient
        torch.manual_seed(0)
        G0 = Generator(**CONFIGS["faces2wk2"])
        with torch.no_grad():
            G0.kp_proj.normal_()
            G0.kp.weight.normal_()
        G1 = Generator(**CONFIGS["faces2wk2h"])
        missing, unexpected = G1.load_state_dict(G0.state_dict(), strict=False)
        self.assertEqual((missing, unexpected), (["kp_proj_hi"], []))
        ws = G0.mapping(torch.randn(2, G0.z_dim))[:, None].expand(-1, G0.num_ws, -1).detach()
        with torch.no_grad():
            torch.testing.assert_close(G1.synthesis(ws, return_features=False), G0.synthesis(ws, return_features=False), atol=1e-6, rtol=0)
        G1.synthesis(ws, return_features=False).square().sum().backward()
        self.assertGreater(G1.kp_proj_hi.grad.abs().max().item(), 0.0)

    def test_styled_blobs_start_as_the_plain_ones_and_learn(self):
        # --init-from faces2wk2th into faces2wk2ths: kp_style_proj starts at zero (same image), then
        # both its map and the rank-r projection of w get gradient, and a blob's features depend on w
        torch.manual_seed(0)
        G0 = Generator(**CONFIGS["faces2wk2th"])
        with torch.no_grad():
            G0.kp_proj.normal_()
            G0.kp.weight.normal_()
        G1 = Generator(**CONFIGS["faces2wk2ths"])
        missing, unexpected = G1.load_state_dict(G0.state_dict(), strict=False)
        self.assertEqual((sorted(missing), unexpected), (["kp_style.bias", "kp_style.weight", "kp_style_proj"], []))
        ws = G0.mapping(torch.randn(2, G0.z_dim))[:, None].expand(-1, G0.num_ws, -1).detach()
        with torch.no_grad():
            torch.testing.assert_close(G1.synthesis(ws, return_features=False), G0.synthesis(ws, return_features=False), atol=1e-5, rtol=0)
        G1.synthesis(ws)[1].square().sum().backward()
        self.assertGreater(G1.kp_style_proj.grad.abs().max().item(), 0.0)
        with torch.no_grad():
            G1.kp_style_proj.normal_()
            a, b = G1.keypoint_maps(ws[:, 0]), G1.keypoint_maps(ws[:, 0] + 0.1 * torch.randn(2, G1.w_dim))
        self.assertGreater((a - b).abs().max().item(), 1e-3)
        G1.zero_grad()
        G1.synthesis(ws)[1].square().sum().backward()
        self.assertGreater(G1.kp_style.weight.grad.abs().max().item(), 0.0)

    def test_top_res_blobs_sit_where_warping_them_would(self):
        # faces2wk2thst places the 128 px blobs at the fixed point x = p - D(x) instead of warping
        # the maps: for a smooth random field (0.7 feature px per control point; the blobs move 1.8
        # image px on average) the centroids agree with the warped maps' to 0.06 px on average and
        # 0.35 at most (measured; asserted with margin)
        torch.manual_seed(3)
        G = Generator(**CONFIGS["faces2wk2thst"])
        B, r, n = 8, 128, G.warp_grid * G.warp_grid
        with torch.no_grad():
            G.kp.weight.zero_()
            G.kp.bias.uniform_(-0.6, 0.6)
            w, ctrl = torch.zeros(B, G.w_dim), 0.7 * torch.randn(B, 2, n)
            warped = warp(G.keypoint_heat(w, r, 1.0), 4 * (ctrl @ warp_basis_2d(r, G.warp_grid)).reshape(B, 2, r, r))
            shift = 4 * G.keypoint_shift(w, G.field(ctrl))
            moved = G.keypoint_heat(w, r, 1.0, shift)
        g = torch.arange(r) + 0.5

        def centroid(h: torch.Tensor) -> torch.Tensor:
            m = h.sum((-1, -2))
            return torch.stack([(h.sum(-2) * g).sum(-1) / m, (h.sum(-1) * g).sum(-1) / m], -1)

        d = (centroid(warped) - centroid(moved)).norm(dim=-1)
        self.assertGreater(shift.norm(dim=-1).mean().item(), 1.5)
        self.assertLess(d.mean().item(), 0.15)
        self.assertLess(d.max().item(), 0.6)

    def test_styled_blobs_at_64_and_128_px_start_as_before_and_learn(self):
        # --init-from faces2wk2ths into faces2wk2thst: the new maps start at zero (same image) and
        # each gets gradient from the image
        torch.manual_seed(0)
        G0 = Generator(**CONFIGS["faces2wk2ths"])
        with torch.no_grad():
            for p in (G0.kp_proj, G0.kp.weight, G0.kp_proj_hi, G0.kp_style_proj):
                p.normal_()
        G1 = Generator(**CONFIGS["faces2wk2thst"])
        missing, unexpected = G1.load_state_dict(G0.state_dict(), strict=False)
        self.assertEqual((sorted(missing), unexpected), (["kp_proj_top", "kp_style_proj_hi", "kp_style_proj_top"], []))
        ws = G0.mapping(torch.randn(2, G0.z_dim))[:, None].expand(-1, G0.num_ws, -1).detach()
        with torch.no_grad():
            torch.testing.assert_close(G1.synthesis(ws, return_features=False), G0.synthesis(ws, return_features=False), atol=1e-5, rtol=0)
        G1.synthesis(ws, return_features=False).square().sum().backward()
        for name in missing:
            self.assertGreater(getattr(G1, name).grad.abs().max().item(), 0.0, name)

    def test_a_higher_style_rank_loads_the_lower_one_unchanged(self):
        # --init-from faces2wk2thst (rank 16) into the same network at rank 32: widen_channels puts
        # the old code in the leading rows of kp_style and the zero-started maps' new columns are
        # zero, so the image is the same (no extra code needed for the next probe, tools/README item 6)
        torch.manual_seed(0)
        G0 = Generator(**CONFIGS["faces2wk2thst"])
        with torch.no_grad():
            for p in (G0.kp_proj, G0.kp.weight, G0.kp_proj_hi, G0.kp_style_proj, G0.kp_style_proj_hi, G0.kp_proj_top, G0.kp_style_proj_top):
                p.normal_()
        G1 = Generator(**dict(CONFIGS["faces2wk2thst"], keypoint_style_rank=32))
        fresh = {k: v.clone() for k, v in G1.state_dict().items()}
        import train  # noqa: E402

        self.assertEqual(train.load_widened(G1, G0.state_dict(), fresh, "rank 16"), [])
        self.assertEqual(tuple(G1.kp_style_proj_top.shape), (G1.kp_proj_top.shape[0] * G1.keypoints, 32))
        ws = G0.mapping(torch.randn(2, G0.z_dim))[:, None].expand(-1, G0.num_ws, -1).detach()
        with torch.no_grad():
            torch.testing.assert_close(G1.synthesis(ws, return_features=False), G0.synthesis(ws, return_features=False), atol=1e-5, rtol=0)

    def test_a_detached_head_passes_gradient_to_w_only(self):
        # train.py --kp-refit-every: the image loss must not move the head, but a drag's gradient
        # must still reach w through it (the exported graph is the same)
        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2wk"])
        G.kp_head_detached = True
        with torch.no_grad():
            G.kp.weight.normal_()
            G.kp_proj.normal_()
        ws = torch.randn(1, G.num_ws, G.w_dim, requires_grad=True)
        G.synthesis(ws)[1].square().sum().backward()
        self.assertIsNone(G.kp.weight.grad)
        g_detached = ws.grad[0, 0].clone()
        self.assertGreater(g_detached.abs().sum().item(), 0.0)
        G.kp_head_detached = False
        ws.grad = None
        G.synthesis(ws)[1].square().sum().backward()
        self.assertTrue(torch.allclose(ws.grad[0, 0], g_detached, atol=1e-5))


class WaveTest(unittest.TestCase):
    def test_wave_maps_are_the_renderers_background_waves(self):
        # The renderer's wave at 64 px, read off two renders that differ only in its amplitude: on
        # the background, textured - plain = 0.07 * plain * wave. The network's sin map, with its
        # head set to the same two parameters and the field to the same offsets, must match it.
        import texture_share  # noqa: E402

        rng = np.random.default_rng(4)
        th = rng.uniform(-1, 1, (3, faces2.P)).astype(np.float32)
        th[:, faces2.WARP_X] *= 0.5
        th[:, faces2.WARP_Y] *= 0.5
        r = 64
        x = faces2.render(th, r)
        xp = texture_share.renderer_without(["background waves"]).render(th, r)
        d = (x - xp)[..., 0]
        bg = np.abs(d) > 1e-3  # visible background (elsewhere the two renders are the same)
        wave_true = d[bg] / (0.07 * xp[..., 0][bg])
        G = Generator(**CONFIGS["faces2wk2thstx"])
        i = faces2._PART_NAMES.index("bg_tex_angle")
        waves = []
        for b in range(3):
            with torch.no_grad():
                G.tex.bias.copy_(torch.erfinv(torch.from_numpy(th[b, [i, i + 1]])) * math.sqrt(2.0) / G.tex.b_gain)
                G.tex_proj.copy_(torch.zeros_like(G.tex_proj))
                G.tex_proj[0, 0] = 1.0  # channel 0 = the sin map
                ctrl = torch.from_numpy(np.stack([th[b : b + 1, faces2.WARP_X], th[b : b + 1, faces2.WARP_Y]], 1))
                ctrl = ctrl * (faces2.WARP_AMP * G.feature_res / 2)
                waves.append(G.wave_maps(torch.zeros(1, G.w_dim), torch.zeros(1, G.w_dim), ctrl)[0, 0].numpy())
        err = np.abs(np.stack(waves)[bg] - wave_true)
        self.assertGreater(bg.mean(), 0.2)
        # bilinear resampling of the warped maps and edge pixels (partly covered) are the misses
        # (measured: median 0.013, 93 % within 0.1)
        self.assertLess(np.median(err), 0.02)
        self.assertGreater((err < 0.1).mean(), 0.9)
        # and a wrong phase fails: the same maps half a period off
        self.assertGreater(np.median(np.abs(-np.stack(waves)[bg] - wave_true)), 0.3)

    def test_strand_maps_are_the_renderers_hair_strands(self):
        # As above for the hair: textured - plain = 0.13 * plain * strand where the hair shows
        # (hair, locks and brows are painted with the strand texture); 22 atan2 is computed as a
        # complex power there, so this also checks that identity.
        import texture_share  # noqa: E402

        rng = np.random.default_rng(5)
        th = rng.uniform(-1, 1, (3, faces2.P)).astype(np.float32)
        th[:, faces2.N_PART :] = 0  # no warp: the maps are compared unresampled
        r = 64
        x = faces2.render(th, r)
        xp = texture_share.renderer_without(["hair strands"]).render(th, r)
        d = (x - xp)[..., 0]
        hair = np.abs(d) > 1e-3
        inner = hair.copy()  # hair pixels whose 4 neighbours are hair: no partly covered edges
        for ax in (1, 2):
            for sh in (1, -1):
                inner &= np.roll(hair, sh, axis=ax)
        strand_true = d[inner] / (0.13 * xp[..., 0][inner])
        from networks import POSE_NAMES  # noqa: E402

        cols = [faces2._PART_NAMES.index(n) for n in POSE_NAMES + ["hair_strand_phase"]]
        g = (torch.arange(r, dtype=torch.float32) + 0.5) * (2.0 / r) - 1.0
        maps = Generator.strand_maps(torch.from_numpy(th[:, cols]), g.reshape(1, 1, r), g.reshape(1, r, 1))
        err = np.abs(maps[0].numpy()[inner] - strand_true)
        self.assertGreater(inner.sum(), 1000)
        # exact on most pixels (measured: median 1e-6, 87 % within 0.02; the rest are pixels where
        # an untextured part is blended over the hair)
        self.assertLess(np.median(err), 1e-3)
        self.assertGreater((err < 0.02).mean(), 0.8)
        # the strands' phase is read: the same maps a quarter period on (the cos map) do not fit
        self.assertGreater(np.median(np.abs(maps[1].numpy()[inner] - strand_true)), 0.3)
        # the cos map is the quarter-period shift: sin^2 + cos^2 = 1 (to the float32 rounding of a
        # 22nd power: measured 0.01 at most)
        self.assertLess((maps[0] ** 2 + maps[1] ** 2 - 1).abs().max().item(), 0.03)

    def test_textures_read_row_7_and_the_pose_row_0(self):
        # a drag optimises W+ rows 0-5: the plain-fit texture head must read a row it leaves alone
        # (7, the 64 px block's), the ridge-fitted pose head the keypoints' row 0
        G = Generator(**CONFIGS["faces2wk2thstxs"])
        seen = {}
        wave_maps = G.wave_maps

        def spy(w, w_pose, ctrl):
            seen["w"], seen["w_pose"] = w, w_pose
            return wave_maps(w, w_pose, ctrl)

        G.wave_maps = spy
        ws = torch.arange(G.num_ws, dtype=torch.float32).reshape(1, -1, 1).expand(1, -1, G.w_dim).contiguous()
        with torch.no_grad():
            G.synthesis(ws, return_features=False)
        self.assertEqual(seen["w"].unique().tolist(), [7.0])
        self.assertEqual(seen["w_pose"].unique().tolist(), [0.0])

    def test_wave_maps_start_at_the_old_image(self):
        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2wk2thstx"])
        G_old = Generator(**CONFIGS["faces2wk2thst"])
        G_old.load_state_dict({k: v for k, v in G.state_dict().items() if not k.startswith("tex")})
        z = torch.randn(2, G.z_dim)
        with torch.no_grad():
            self.assertEqual((G(z) - G_old(z)).abs().max().item(), 0.0)


class TrainHelpersTest(unittest.TestCase):
    def test_keypoint_head_refit_is_the_least_squares_solution(self):
        import train  # noqa: E402 (argparse only runs in main)

        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2wk"])
        G_ema = Generator(**CONFIGS["faces2wk"])
        train.fit_keypoint_head(G, G_ema, np.random.default_rng(0), n=600)
        # the head's answer is the fit: its residual is orthogonal to every w direction and the constant
        z = torch.from_numpy(np.random.default_rng(0).standard_normal((600, G.z_dim)).astype(np.float32))
        import landmarks2  # noqa: E402

        kp = torch.from_numpy(landmarks2.scene_keypoints(torch.erf(z / math.sqrt(2.0)).numpy(), G.keypoints)).reshape(600, -1)
        with torch.no_grad():
            w = G.mapping(z)
            res = G.keypoint_coords(w).reshape(600, -1) - kp
        a = torch.cat([w, torch.ones(600, 1)], 1)
        self.assertLess((a.T @ res).abs().max().item() / (a.abs().sum(0).max().item() * res.abs().max().item()), 1e-3)

    def test_nonlinear_keypoint_head_starts_as_the_linear_one_and_learns_alone(self):
        import train  # noqa: E402

        torch.manual_seed(0)
        G_old = Generator(**CONFIGS["faces2wk2thstxs"])
        with torch.no_grad():
            G_old.kp.weight.normal_()  # a head that places the blobs somewhere
        G = Generator(**CONFIGS["faces2wk2thstxsm"])
        missing = train.load_widened(G, G_old.state_dict(), {k: v.clone() for k, v in G.state_dict().items()}, "test")
        self.assertTrue(missing and all(k.startswith("kp_mlp.") for k in missing))
        z = torch.randn(2, G.z_dim)
        with torch.no_grad():
            self.assertEqual((G(z) - G_old(z)).abs().max().item(), 0.0)
        # the main optimiser leaves it to its own; the image loss gives its weights no gradient
        opt = train.make_adam(G, 1e-3, 10.0)
        in_opt = {id(p) for g in opt.param_groups for p in g["params"]}
        self.assertFalse(any(id(p) in in_opt for p in G.kp_mlp.parameters()))
        G.kp_head_detached = True
        with torch.no_grad():
            G.kp_mlp.l3.weight.normal_()
        G(z).square().mean().backward()
        self.assertTrue(all(p.grad is None for p in G.kp_mlp.parameters()))
        # its trainer lowers the error its pool leaves (noise 0: a memorisation check) ...
        from kp_mlp_trainer import KeypointMLPTrainer  # noqa: E402

        G.kp_mlp.l3.weight.data.zero_()
        t = KeypointMLPTrainer(G, np.random.default_rng(0), 1e-3, pool=2048)
        t.set_stats(G)

        def pool_error() -> float:
            with torch.no_grad():
                return (G.keypoint_coords(G.mapping(t.z)).reshape(len(t.z), -1) - t.kp).abs().mean().item()

        before = pool_error()
        for _ in range(300):
            t.step(G, 0.0)
        self.assertLess(pool_error(), 0.9 * before)  # measured 0.41x
        # ... and the refit makes the linear part the least-squares fit of what the MLP leaves
        G_ema = Generator(**CONFIGS["faces2wk2thstxsm"])
        G_ema.load_state_dict(G.state_dict())
        train.fit_keypoint_head(G, G_ema, np.random.default_rng(1), n=600)
        zz = torch.from_numpy(np.random.default_rng(1).standard_normal((600, G.z_dim)).astype(np.float32))
        import landmarks2  # noqa: E402

        kp = torch.from_numpy(landmarks2.scene_keypoints(torch.erf(zz / math.sqrt(2.0)).numpy(), G.keypoints)).reshape(600, -1)
        with torch.no_grad():
            w = G.mapping(zz)
            self.assertGreater(G.kp_mlp(w).abs().mean().item(), 1e-3)  # the MLP is part of the answer
            res = G.keypoint_coords(w).reshape(600, -1) - kp
        a = torch.cat([w, torch.ones(600, 1)], 1)
        self.assertLess((a.T @ res).abs().max().item() / (a.abs().sum(0).max().item() * res.abs().max().item()), 1e-3)

    def test_ridge_solve_is_the_fit_on_noisy_inputs(self):
        import train  # noqa: E402

        g = torch.Generator().manual_seed(0)
        # inputs that fill 3 of 8 dimensions, as the mapping's w fill z_dim of w_dim
        w = torch.randn(400, 3, generator=g, dtype=torch.float64) @ torch.randn(3, 8, generator=g, dtype=torch.float64)
        a = torch.cat([w, torch.ones(400, 1, dtype=torch.float64)], 1)
        b = w @ torch.randn(8, 2, generator=g, dtype=torch.float64) + 0.5
        # lam = 0 is the plain least-squares fit (on full-rank inputs: on these rank-deficient ones the
        # lstsq minimiser is not unique, and two calls were seen to differ)
        a_full = torch.cat([torch.randn(400, 8, generator=g, dtype=torch.float64), torch.ones(400, 1, dtype=torch.float64)], 1)
        self.assertTrue(torch.allclose(train.ridge_solve(a_full, b, 0.0), torch.linalg.lstsq(a_full, b).solution))
        lam = 400 * 0.1**2
        x = train.ridge_solve(a, b, lam)
        # stationary point of |a x - b|^2 + lam |x[:-1]|^2: the bias row is not penalised
        grad = a.T @ (a @ x - b) + lam * torch.cat([x[:-1], torch.zeros(1, 2, dtype=torch.float64)])
        self.assertLess(grad.abs().max().item(), 1e-8)
        # off the inputs' span the ridge head answers nothing: a step orthogonal to the span moves it by 0
        q, _ = torch.linalg.qr(w.T)
        off = torch.randn(8, generator=g, dtype=torch.float64)
        off = off - q @ (q.T @ off)
        self.assertLess((off @ x[:-1]).abs().max().item(), 1e-8)

    def test_half_res_phase_hands_over_without_a_jump(self):
        import train  # noqa: E402

        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2wk2thst"])
        G_ema = Generator(**CONFIGS["faces2wk2thst"])
        ws = G.mapping(torch.randn(2, G.z_dim))[:, None, :].expand(-1, G.num_ws, -1)
        with torch.no_grad():
            low = G.synthesis(ws, return_features=False, blocks=len(G.blocks) - 1)
            full = G.synthesis(ws, return_features=False)
            self.assertEqual(tuple(low.shape[2:]), (64, 64))
            # before the zeroing the top block adds its own (random) image: the check can fail
            self.assertGreater((full - F.interpolate(low, scale_factor=2, mode="bilinear")).abs().max().item(), 0.05)
            train.start_half_res(G, G_ema)
            full = G.synthesis(ws, return_features=False)
            # the full image is the half-resolution one upsampled (float32 sums: 1e-6)
            self.assertLess((full - F.interpolate(low, scale_factor=2, mode="bilinear")).abs().max().item(), 1e-5)
            self.assertEqual(G_ema.blocks[-1].torgb.weight.abs().max().item(), 0.0)
        # and the top block learns from the first full step: its toRGB gets a gradient
        G.synthesis(ws.detach(), return_features=False).square().mean().backward()
        self.assertGreater(G.blocks[-1].torgb.weight.grad.abs().max().item(), 0.0)

    def test_adam_moments_carry_over_by_name(self):
        import train  # noqa: E402

        torch.manual_seed(0)
        G0 = Generator(**CONFIGS["faces2w"])
        opt0 = train.make_adam(G0, 1e-3, 10.0)
        G0(torch.randn(2, G0.z_dim)).mean().backward()
        opt0.step()
        G = Generator(**CONFIGS["faces2wk"])
        opt = train.make_adam(G, 1e-3, 10.0)
        n = train.carry_adam_state(opt, dict(config=CONFIGS["faces2w"], opt=opt0.state_dict()), G)
        self.assertEqual(n, sum(1 for _ in G0.parameters()))
        src = dict(G0.named_parameters())
        for name, p in G.named_parameters():
            if name in src:
                self.assertTrue(torch.equal(opt.state[p]["exp_avg_sq"], opt0.state[src[name]]["exp_avg_sq"]))
            else:
                self.assertNotIn(p, opt.state)

    def test_widened_network_draws_the_same_image(self):
        # --init-from faces2wk into faces2wk2: the 13 old blobs keep their projection, the 9 new
        # ones start at zero, so with the old head's rows the image is the old network's
        import train  # noqa: E402

        torch.manual_seed(0)
        G13 = Generator(**CONFIGS["faces2wk"])
        with torch.no_grad():
            G13.kp_proj.normal_()
            G13.kp.weight.normal_()
        G22 = Generator(**CONFIGS["faces2wk2"])
        missing, unexpected = G22.load_state_dict(train.widen_keypoints(G13.state_dict(), G22), strict=False)
        self.assertEqual((sorted(missing), unexpected), (["kp.bias", "kp.weight"], []))
        with torch.no_grad():
            G22.kp.weight[: 2 * 13] = G13.kp.weight
            G22.kp.bias[: 2 * 13] = G13.kp.bias
            G22.kp.weight[2 * 13 :].normal_()  # wherever the new blobs are, they add nothing yet
            ws = G13.mapping(torch.randn(2, G13.z_dim))[:, None].expand(-1, G13.num_ws, -1)
            torch.testing.assert_close(G22.synthesis(ws, return_features=False), G13.synthesis(ws, return_features=False), atol=1e-5, rtol=0)


    def test_wider_top_blocks_draw_the_same_image_and_learn(self):
        # --init-from faces2wk2 into faces2wk2t (64 / 128 px blocks 20 / 12 -> 32 / 16 channels):
        # same image (the new channels' outgoing weights are zero), and those zero weights get
        # gradient, so the new channels can start to contribute
        import train  # noqa: E402

        torch.manual_seed(0)
        G0 = Generator(**CONFIGS["faces2wk2"])
        with torch.no_grad():
            G0.kp_proj.normal_()
            G0.kp.weight.normal_()
        G1 = Generator(**CONFIGS["faces2wk2t"])
        G1.load_state_dict(train.widen_channels(G0.state_dict(), G1.state_dict()))
        ws = G0.mapping(torch.randn(2, G0.z_dim))[:, None].expand(-1, G0.num_ws, -1).detach()
        with torch.no_grad():
            torch.testing.assert_close(G1.synthesis(ws, return_features=False), G0.synthesis(ws, return_features=False), atol=1e-5, rtol=0)
        b64 = G1.blocks[G1.res_list.index(64)]
        self.assertEqual(b64.conv1.weight[:, 20:].abs().max().item(), 0.0)
        G1.synthesis(ws, return_features=False).square().sum().backward()
        self.assertGreater(b64.conv1.weight.grad[:, 20:].abs().max().item(), 0.0)
        self.assertGreater(G1.blocks[-1].torgb.weight.grad[:, 12:].abs().max().item(), 0.0)


if __name__ == "__main__":
    unittest.main()


class LateWarpTest(unittest.TestCase):
    """faces2wk2thstxsml: the warp applied once, to the finished image (Generator.late_warp)."""

    def _pair(self, late: str = "faces2wk2thstxsml") -> tuple[Generator, Generator, torch.Tensor]:
        torch.manual_seed(0)
        G = Generator(**CONFIGS["faces2wk2thstxsm"])
        with torch.no_grad():  # every zero-started path drawing something
            for name, p in G.named_parameters():
                if name.startswith(("kp_proj", "kp_style", "tex_proj")):
                    p.normal_(0, 0.3)
        L = Generator(**CONFIGS[late])
        self.assertEqual(L.load_state_dict(G.state_dict(), strict=True).missing_keys, [])  # no new weights
        ws = G.mapping(torch.randn(2, G.z_dim))[:, None].expand(-1, G.num_ws, -1).detach()
        return G, L, ws

    def test_with_no_displacement_it_is_the_early_warp_network(self):
        G, L, ws = self._pair()
        zero = torch.zeros(2, 2, G.warp_grid**2)
        with torch.no_grad():
            a, fa = G.synthesis(ws, ctrl=zero)
            b, fb = L.synthesis(ws, ctrl=zero)
        torch.testing.assert_close(b, a, atol=1e-5, rtol=0)
        torch.testing.assert_close(fb, fa, atol=1e-5, rtol=0)

    def test_a_whole_pixel_translation_moves_image_and_features_alike(self):
        # the B-spline weights sum to 1 away from the border, so equal control offsets of 1 feature
        # px read the unmoved image 4 image px (128 / 32) to the right and the features 1 px; the
        # same whether the warp comes after the 128 px block (bilinear, cubic) or the 64 px one
        for late in ("faces2wk2thstxsml", "faces2wk2thstxsmc", "faces2wk2thstxsmm"):
            with self.subTest(late):
                self._translation(late)

    def _translation(self, late: str) -> None:
        _, L, ws = self._pair(late)
        zero = torch.zeros(2, 2, L.warp_grid**2)
        one = zero.clone()
        one[:, 0] = 1.0
        with torch.no_grad():
            a, fa = L.synthesis(ws, ctrl=zero)
            b, fb = L.synthesis(ws, ctrl=one)
        # 1e-3: float32 through two more blocks (mid); a pixel off would differ by ~0.1
        torch.testing.assert_close(b[..., 24:104, 24:104], a[..., 24:104, 28:108], atol=1e-3, rtol=0)
        torch.testing.assert_close(fb[..., 6:26, 6:26], fa[..., 6:26, 7:27], atol=1e-4, rtol=0)

    def test_the_image_gets_the_offsets_gradient(self):
        _, L, ws = self._pair()
        ctrl = (0.5 * torch.randn(2, 2, L.warp_grid**2)).requires_grad_(True)
        img, _ = L.synthesis(ws, ctrl=ctrl)
        (img * torch.randn_like(img)).sum().backward()
        self.assertGreater(ctrl.grad.abs().sum().item(), 0.0)


class ResampleRowsTest(unittest.TestCase):
    def test_training_path_is_the_exported_tent_matmul_with_its_gradients(self):
        # networks._resample_rows_gather (training) against the tent MatMul the ONNX export keeps,
        # on a rough field reaching past both ends (clamped) and whole-pixel positions
        from networks import _resample_rows_gather

        torch.manual_seed(1)
        n = 16
        x = torch.randn(2, 5, 3, n, dtype=torch.float64, requires_grad=True)
        src = (torch.arange(n, dtype=torch.float64) + 4 * torch.randn(2, 5, n, dtype=torch.float64))
        src[0, 0, :4] = torch.tensor([0.0, 3.0, 15.0, 7.0], dtype=torch.float64)  # on the grid and at the last sample
        src.requires_grad_(True)
        grid = torch.arange(n, dtype=torch.float64)
        tent = F.relu(1 - (src.clamp(0, n - 1)[:, :, None, :] - grid[:, None]).abs())
        ref, got = x @ tent, _resample_rows_gather(x, src)
        torch.testing.assert_close(got, ref, atol=1e-12, rtol=0)
        u = torch.randn_like(ref)
        gx_ref, gs_ref = torch.autograd.grad((ref * u).sum(), (x, src))
        gx, gs = torch.autograd.grad((got * u).sum(), (x, src))
        torch.testing.assert_close(gx, gx_ref, atol=1e-12, rtol=0)
        off = (src - src.round()).abs() > 1e-6  # the tent's kinks: one-sided derivatives differ there
        torch.testing.assert_close(gs[off], gs_ref[off], atol=1e-12, rtol=0)
        # cubic: the same against the cubic kernel's MatMul (C1, so every derivative agrees)
        ref, got = x @ cubic_kernel(src.clamp(0, n - 1)[:, :, None, :] - grid[:, None]), _resample_rows_gather(x, src, True)
        torch.testing.assert_close(got, ref, atol=1e-12, rtol=0)
        gx_ref, gs_ref = torch.autograd.grad((ref * u).sum(), (x, src))
        gx, gs = torch.autograd.grad((got * u).sum(), (x, src))
        torch.testing.assert_close(gx, gx_ref, atol=1e-12, rtol=0)
        torch.testing.assert_close(gs, gs_ref, atol=1e-12, rtol=0)

    def test_cubic_kernel_is_keys_and_interpolates(self):
        from networks import cubic_kernel

        t = torch.linspace(-3, 3, 601, dtype=torch.float64)
        a = t.abs()
        keys = torch.where(a < 1, 1.5 * a**3 - 2.5 * a**2 + 1, torch.where(a < 2, -0.5 * a**3 + 2.5 * a**2 - 4 * a + 2, 0 * a))
        torch.testing.assert_close(cubic_kernel(t), keys, atol=1e-12, rtol=0)
        # weights sum to 1 and reproduce a ramp (Keys' kernel is exact on quadratics) away from the ends
        x = (torch.arange(12, dtype=torch.float64) ** 2).reshape(1, 1, 1, 12)
        src = (0.6 + 0.73 * torch.arange(12, dtype=torch.float64)).reshape(1, 1, 12)
        from networks import _resample_rows_gather

        inner = (src[0, 0] >= 1) & (src[0, 0] < 9)  # all four neighbours inside the row
        got = _resample_rows_gather(x, src, True)[0, 0, 0]
        torch.testing.assert_close(got[inner], src[0, 0][inner] ** 2, atol=1e-12, rtol=0)
        self.assertGreaterEqual(int(inner.sum()), 8)
