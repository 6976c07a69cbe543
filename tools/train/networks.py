"""A small StyleGAN2-style generator (mapping network, W+, modulated/demodulated convolutions,
constant input, bilinear upsampling, toRGB skips, no per-pixel noise).

Written for this project. The modulated convolution has two equivalent code paths:
- non-fused (default, used for training and the main ONNX export): scale the activations by the
  style, convolve with the constant weight, scale the result by the demodulation coefficients.
  The exported graph then has constant Conv weights, so a backward graph needs only the
  input-gradient of Conv.
- fused: build the per-sample weight tensor from the style in the graph and run a grouped conv
  (StyleGAN2's `fused_modconv=True`), exported only for the tiny model to exercise weight
  gradients in the autograd package.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dataset"))
import faces2  # noqa: E402  (the displacement field's basis is the renderer's own)

SQRT2 = math.sqrt(2.0)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    # LeakyReLU(0.2) with StyleGAN's sqrt(2) gain, so activations keep unit variance.
    return F.leaky_relu(x, 0.2) * SQRT2


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate (weights stored N(0,1), scaled at run time)."""

    def __init__(self, cin: int, cout: int, bias_init: float = 0.0, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full([cout], float(bias_init)) / lr_mul)
        self.w_gain = lr_mul / math.sqrt(cin)
        self.b_gain = lr_mul

    def forward(self, x: torch.Tensor, weight_grad: bool = True) -> torch.Tensor:
        """weight_grad False: the weights get no gradient (x still does): a head refitted by least
        squares instead of trained (train.py --kp-refit-every)."""
        if weight_grad:
            return F.linear(x, self.weight * self.w_gain, self.bias * self.b_gain)
        return F.linear(x, self.weight.detach() * self.w_gain, self.bias.detach() * self.b_gain)

    def set_solution(self, sol: torch.Tensor) -> None:
        """Sets the layer to the least-squares solution sol [cin + 1, cout] (the bias's row last)."""
        with torch.no_grad():
            self.weight.copy_(sol[:-1].T / self.w_gain)
            self.bias.copy_(sol[-1] / self.b_gain)


class KeypointMLP(nn.Module):
    """The keypoint head's nonlinear part (faces2wk2thstxsm), added to the linear head: a linear
    head cannot place the scene points closer than ~0.7 image px, they are not linear in w
    (tools/README.md, "Where the blobs are placed"). w is standardised by fixed statistics of the
    mapping's w (set once by train.py: its coordinates' means spread 2.4x their spread), then two
    SiLU layers; the output layer starts at zero, so the network draws the same image at first.
    Trained by its own loss on w plus isotropic noise, never by the image (train.py)."""

    def __init__(self, w_dim: int, hidden: int, cout: int):
        super().__init__()
        self.register_buffer("mu", torch.zeros(w_dim))
        self.register_buffer("inv_sd", torch.ones(()))
        self.l1, self.l2, self.l3 = EqualLinear(w_dim, hidden), EqualLinear(hidden, hidden), EqualLinear(hidden, cout)
        with torch.no_grad():
            self.l3.weight.zero_()

    def forward(self, w: torch.Tensor, weight_grad: bool = True) -> torch.Tensor:
        x = (w - self.mu) * self.inv_sd
        x = F.silu(self.l1(x, weight_grad))
        return self.l3(F.silu(self.l2(x, weight_grad)), weight_grad)


class Mapping(nn.Module):
    """z -> w. No input normalisation: the length of z carries information (z = probit(theta))."""

    def __init__(self, z_dim: int, w_dim: int, num_layers: int = 4, lr_mul: float = 0.1, skip: bool = False):
        super().__init__()
        dims = [z_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims[:-1], dims[1:]))
        # optional linear path z -> w (zero at the start): lets w carry parameters that the
        # image depends on linearly (faces2's warp offsets) without passing four layers
        self.skip = EqualLinear(z_dim, w_dim, lr_mul=lr_mul) if skip else None
        if self.skip is not None:
            with torch.no_grad():
                self.skip.weight.zero_()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z
        for layer in self.layers:
            x = lrelu(layer(x))
        return x if self.skip is None else x + self.skip(z)


class ModConv(nn.Module):
    def __init__(self, w_dim: int, cin: int, cout: int, k: int, demodulate: bool = True, activate: bool = True):
        super().__init__()
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.w_gain = 1.0 / math.sqrt(cin * k * k)
        self.k = k
        self.demodulate = demodulate
        self.activate = activate
        # set by freeze_for_export(): sum_k W^2 as a plain tensor, so the exported graph holds the
        # [cout, cin] constant instead of W^2 and a ReduceSum (torch 1.13 does not fold ReduceSum)
        self.wsq_const: torch.Tensor | None = None

    def freeze_for_export(self) -> None:
        with torch.no_grad():
            self.wsq_const = (self.weight * self.w_gain).square().sum(dim=[2, 3]).clone()

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool = False) -> torch.Tensor:
        style = self.affine(w)  # [B, cin]
        weight = self.weight * self.w_gain
        pad = self.k // 2
        if not fused:
            x = x * style[:, :, None, None]
            x = F.conv2d(x, weight, padding=pad)
            d = None
            if self.demodulate:
                # sum_{i,kh,kw} (W_oi * s_i)^2 = (s^2) @ (sum_k W^2)^T
                wsq = self.wsq_const if self.wsq_const is not None else weight.square().sum(dim=[2, 3])  # [cout, cin]
                d = torch.rsqrt(style.square() @ wsq.t() + 1e-8)  # [B, cout]
        else:
            B, cin, H, W = x.shape
            wmod = weight[None] * style[:, None, :, None, None]  # [B, cout, cin, k, k]
            if self.demodulate:
                d = torch.rsqrt(wmod.square().sum(dim=[2, 3, 4]) + 1e-8)
                wmod = wmod * d[:, :, None, None, None]
            if B == 1:
                # One sample: gain, bias and convolution in one Conv node (ONNX Runtime then fuses
                # the LeakyReLU into it), so no elementwise pass over x is left; the gain is safe
                # to fold in because lrelu(g*y) = g*lrelu(y) for g > 0.
                g = SQRT2 if self.activate else 1.0
                x = F.conv2d(x, wmod.reshape(wmod.shape[1:]) * g, bias=self.bias * g, padding=pad)
                return F.leaky_relu(x, 0.2) if self.activate else x
            cout = wmod.shape[1]
            x = F.conv2d(
                x.reshape(1, B * cin, H, W), wmod.reshape(B * cout, cin, self.k, self.k), padding=pad, groups=B
            )
            x = x.reshape(B, cout, H, W)
            d = None
        # bias, demodulation and the activation gain in as few passes over x as possible:
        # lrelu(x*d + b) * sqrt(2) == lrelu(x*(d*sqrt(2)) + b*sqrt(2))
        g = SQRT2 if self.activate else 1.0
        b = (self.bias * g)[None, :, None, None]
        if d is not None:
            x = torch.addcmul(b, x, (d * g)[:, :, None, None])
        elif self.activate:
            x = x * g + b
        else:
            x = x + b
        return F.leaky_relu(x, 0.2, inplace=True) if self.activate else x


def warp_basis_2d(res: int, grid: int) -> torch.Tensor:
    """[grid*grid, res*res]: the renderer's cubic B-spline weights (faces2.warp_basis) of its
    grid x grid control lattice at the res x res pixel centres, row-major like its warp entries."""
    b = faces2.warp_basis((np.arange(res) + 0.5) / res * 2 - 1, grid).T  # [grid, res]
    return torch.from_numpy((b[:, None, :, None] * b[None, :, None, :]).reshape(grid * grid, res * res).copy())


def cubic_kernel(t: torch.Tensor) -> torch.Tensor:
    """Keys' cubic convolution kernel (a = -0.5) at offsets t, from ops the VJP builder has: with
    b = min(|t|, 2), 1 - 2.5 b^2 + 1.5 b^3 on [0, 1], plus -(b - 1)^2 - 2 (b - 1)^3 past 1 (which
    makes it -0.5 b^3 + 2.5 b^2 - 4 b + 2 on [1, 2] and 0 at 2 and beyond)."""
    b = t.abs().clamp(max=2.0)
    c = F.relu(b - 1)
    return 1 + b * b * (1.5 * b - 2.5) - c * c * (1 + 2 * c)


def _resample_rows(x: torch.Tensor, src: torch.Tensor, cubic: bool = False) -> torch.Tensor:
    """x [B, R, C, N] (R independent rows of N samples), src [B, R, N]: each row linearly (or with
    cubic_kernel) interpolated at positions src (clamped to the row, i.e. edge-replicated). One batched MatMul
    with the tent weights relu(1 - |src - j|), so the exported graph is a few ops whatever the shift
    (14 shifted copies per pass cost ~3x more in ONNX Runtime, mostly in their saved residuals)."""
    n = x.shape[-1]
    if not torch.onnx.is_in_onnx_export():
        return _resample_rows_gather(x, src, cubic)
    grid = torch.arange(n, dtype=x.dtype, device=x.device)
    t = src.clamp(0, n - 1)[:, :, None, :] - grid[:, None]
    tent = cubic_kernel(t) if cubic else F.relu(1 - t.abs())  # [B, R, N(src), N(out)]
    return x @ tent


def _resample_rows_gather(x: torch.Tensor, src: torch.Tensor, cubic: bool = False) -> torch.Tensor:
    """_resample_rows by reading the two neighbours (the tent's only nonzero weights): the same
    values and gradients in training, where the tent matrix of a batch of 128 px images
    ([16, 128, 128, 128]) cost 7 s per step; the export keeps the MatMul (its VJP builder has no
    GatherElements). Cubic: the four neighbours with cubic_kernel's weights, those outside the
    row dropped as the MatMul drops them."""
    n = x.shape[-1]
    s = src.clamp(0, n - 1)
    i0 = s.detach().floor()
    if cubic:
        out = 0
        for o in (-1, 0, 1, 2):
            j = i0 + o
            wt = (cubic_kernel(s - j) * ((j >= 0) & (j <= n - 1)).to(x.dtype))[:, :, None, :]
            out = out + x.gather(-1, j.clamp(0, n - 1).long()[:, :, None, :].expand_as(x)) * wt
        return out
    f = (s - i0)[:, :, None, :]
    i0 = i0.long()[:, :, None, :].expand_as(x)
    i1 = (i0 + 1).clamp(max=n - 1)
    return x.gather(-1, i0) * (1 - f) + x.gather(-1, i1) * f


def warp(x: torch.Tensor, disp: torch.Tensor, cubic: bool = False) -> torch.Tensor:
    """x [B,C,H,W] sampled at (pixel + disp), disp [B,2,H,W] in pixels (dx, dy): separable linear
    interpolation, first along x then along y (the y pass reads the x pass's rows, whose x offsets
    differ from the output row's by a fraction of a pixel for a smooth field); cubic: Keys' kernel
    instead of the linear one."""
    B, C, H, W = x.shape
    gx = torch.arange(W, dtype=x.dtype, device=x.device)
    gy = torch.arange(H, dtype=x.dtype, device=x.device)[:, None]
    h = _resample_rows(x.permute(0, 2, 1, 3), gx + disp[:, 0], cubic)  # [B, H, C, W]
    out = _resample_rows(h.permute(0, 3, 2, 1), (gy + disp[:, 1]).transpose(1, 2), cubic)  # [B, W, C, H]
    return out.permute(0, 2, 3, 1)


# the renderer's head pose (faces2._PART_NAMES), which places the hair strands' fan
POSE_NAMES = ["head_x", "head_y", "head_size", "head_aspect", "head_yaw", "head_roll"]


def up2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class Block(nn.Module):
    """One resolution: (upsample) -> modconv 3x3 [x2] -> toRGB (modulated 1x1, no demod)."""

    def __init__(self, w_dim: int, cin: int, cout: int, first: bool):
        super().__init__()
        self.first = first
        if not first:
            self.conv0 = ModConv(w_dim, cin, cout, 3)
        self.conv1 = ModConv(w_dim, cout if not first else cin, cout, 3)
        self.torgb = ModConv(w_dim, cout, 3, 1, demodulate=False, activate=False)
        self.num_conv = 1 if first else 2


class Generator(nn.Module):
    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        resolution: int,
        channels: dict[int, int],
        feature_res: int,
        mapping_layers: int = 4,
        mapping_lr_mul: float = 0.1,
        mapping_skip: bool = False,
        warp_grid: int = 0,
        warp_k: int = 3,
        pos_bias: bool = False,
        keypoints: int = 0,
        keypoint_sigma: float = 1.0,
        keypoint_hi_sigma: float = 0.0,
        keypoint_style_rank: int = 0,
        keypoint_hi_style: bool = False,
        keypoint_top_sigma: float = 0.0,
        bg_waves: bool = False,
        hair_strands: bool = False,
        keypoint_mlp: int = 0,
        late_warp: bool | str = False,
    ):
        super().__init__()
        self.z_dim, self.w_dim, self.resolution = z_dim, w_dim, resolution
        self.channels = dict(channels)
        self.feature_res = feature_res
        self.mapping = Mapping(z_dim, w_dim, mapping_layers, mapping_lr_mul, mapping_skip)
        self.const = nn.Parameter(torch.randn(1, channels[4], 4, 4))
        res_list = [2**i for i in range(2, int(math.log2(resolution)) + 1)]
        self.res_list = res_list
        self.blocks = nn.ModuleList()
        for r in res_list:
            cin = channels[r // 2] if r > 4 else channels[4]
            self.blocks.append(Block(w_dim, cin, channels[r], first=(r == 4)))
        # ws layout as in StyleGAN2: a block's toRGB shares its row with the next block's conv0.
        self.num_ws = 2 * len(res_list)
        self.feature_block = res_list.index(feature_res)
        # Explicit displacement field (faces2's image(x) = scene(x + D(x))): a linear head on W+
        # row 0 gives the control offsets (in feature-block pixels), the B-spline basis spreads
        # them over the feature block, whose output (features and RGB so far) is resampled there.
        # The blocks above render detail on the moved features. Zero-initialised: identity warp.
        # Learned positional maps added to each upsampled block input (zero at the start): a
        # modulated conv can then place an edge where a style-weighted sum of them crosses zero,
        # which the constant 4 x 4 input alone makes slow to learn at 32-128 px.
        self.pos = nn.ParameterList(nn.Parameter(torch.zeros(1, channels[r // 2], r, r)) for r in res_list[1:]) if pos_bias else None
        # warp_k (the shift limit of the warp's first form) is unused; it stays a parameter so the
        # configs saved in faces2w checkpoints still load and resume
        self.warp_grid = warp_grid
        if warp_grid:
            self.geo = EqualLinear(w_dim, 2 * warp_grid * warp_grid)
            with torch.no_grad():
                self.geo.weight.zero_()
            self.register_buffer("warp_basis", warp_basis_2d(feature_res, warp_grid), persistent=False)
        # Keypoints (faces2wk): a linear head on W+ row 0 places K named scene points (pupils, eye
        # centres, mouth corners, ...; landmarks2.KEYPOINTS), each drawn as a Gaussian blob (sigma
        # in feature pixels) at the feature block's input, before the warp, through a 1x1 conv that
        # starts at zero. A small part the L1 fit would blur away (a pupil) then has its position
        # as an input, and a drag that moves a keypoint moves the blob: the head is differentiable.
        self.keypoints, self.keypoint_sigma = keypoints, keypoint_sigma
        self.kp_head_detached = False  # train.py --kp-detach / --kp-refit-every set it; the export is the same either way
        if keypoints:
            self.kp = EqualLinear(w_dim, 2 * keypoints)
            with torch.no_grad():
                self.kp.weight.zero_()
            self.kp_proj = nn.Parameter(torch.zeros(channels[feature_res // 2], keypoints))
        # a nonlinear part of the head (faces2wk2thstxsm), hidden width keypoint_mlp
        self.kp_mlp = KeypointMLP(w_dim, keypoint_mlp, 2 * keypoints) if keypoints and keypoint_mlp else None
        # Styled blobs (faces2wk2ths): each blob's feature vector is kp_proj's column plus a rank-r
        # map of w, so a blob can carry its part's shape and colour (a wide or a half-shut eye),
        # not only its place; kp_style_proj starts at zero (same image). tools/README.md measures
        # it with fit_probe.py.
        self.keypoint_style_rank = keypoint_style_rank if keypoints else 0
        if self.keypoint_style_rank:
            self.kp_style = EqualLinear(w_dim, keypoint_style_rank)
            self.kp_style_proj = nn.Parameter(torch.zeros(channels[feature_res // 2] * keypoints, keypoint_style_rank))
        # The same blobs once more at the input of the block above the features (twice the
        # resolution, sigma in its pixels), moved by the same displacement field: the blocks that
        # draw a lid or a pupil's rim then see where it is to 1-2 image px instead of 4 (faces2wk2h).
        # Zero-started like kp_proj. Not on the drag's feature path: the drag step does not run it.
        self.keypoint_hi_sigma = keypoint_hi_sigma if keypoints and warp_grid else 0.0
        if self.keypoint_hi_sigma:
            self.kp_proj_hi = nn.Parameter(torch.zeros(channels[feature_res], keypoints))
            self.register_buffer("warp_basis_hi", warp_basis_2d(2 * feature_res, warp_grid), persistent=False)
        # Styled blobs at 64 px too (faces2wk2thss): the same rank-r code of w, mapped to the 64 px
        # block's channels; zero-started, so the same image at the start.
        self.keypoint_hi_style = bool(keypoint_hi_style and self.keypoint_hi_sigma and self.keypoint_style_rank)
        if self.keypoint_hi_style:
            self.kp_style_proj_hi = nn.Parameter(torch.zeros(channels[feature_res] * keypoints, keypoint_style_rank))
        # And at the 128 px block's input (faces2wk2thst): the renderer's outlines are 1-2 image px
        # wide, finer than the 64 px blobs place them; styled like those when they are.
        self.keypoint_top_sigma = keypoint_top_sigma if self.keypoint_hi_sigma else 0.0
        if self.keypoint_top_sigma:
            self.kp_proj_top = nn.Parameter(torch.zeros(channels[2 * feature_res], keypoints))
            if self.keypoint_hi_style:
                self.kp_style_proj_top = nn.Parameter(torch.zeros(channels[2 * feature_res] * keypoints, keypoint_style_rank))

        # The background's waves (faces2wk2thstx): a third of the held-out L1 of faces2wk2thst was the
        # renderer's periodic textures, 0.019 of 0.068 the background's waves alone, which it did
        # not draw (tools/train/texture_share.py). Their phase is a global function of two
        # parameters that convolutions from a 4 x 4 constant learn last, so the network is given
        # the renderer's wave (faces2.render_scene) as an input: a linear head on W+ row 0 gives
        # the texture's angle and phase parameters (trained by its own loss, train.py --tex-weight), sin and cos of the wave's argument at the 64 px
        # block's input, moved by the displacement field like the blobs there, mixed to its
        # channels by a zero-started matrix (same image at the start). Not on the drag's feature path.
        # The hair's strands as well (faces2wk2thstxs; 0.0074 of faces2wk2thstx's L1 at step 885):
        # the renderer's fan of 22 stripes around a point above the head; two more maps. The texture
        # head gives the strands' phase too, and a pose head the head's pose (6 parameters) from
        # W+ row 0 like the keypoints' (ridge-refitted with them: smooth off the mapping's w), so
        # that the strands turn with a head a drag turns.
        self.bg_waves = bool(bg_waves and self.keypoint_hi_sigma)
        self.hair_strands = bool(hair_strands and self.bg_waves)
        # the pose head reads row 0 (a drag's rows turn the strands with the head); export.py
        # --pose-own-row makes it read the texture's row instead, which drags leave alone (the same
        # image for every W+ whose rows are equal: an export-time A/B of drags, tools/README.md)
        self.pose_own_row = False
        if self.bg_waves:
            self.tex = EqualLinear(w_dim, len(self.texture_names()))
            self.tex_proj = nn.Parameter(torch.zeros(channels[feature_res], 4 if self.hair_strands else 2))
            if self.hair_strands:
                self.pose = EqualLinear(w_dim, len(POSE_NAMES))
            with torch.no_grad():
                self.tex.weight.zero_()
                if self.hair_strands:
                    self.pose.weight.zero_()

        # The warp applied once, to the image (faces2wk2thstxsml): the blocks above the features draw
        # the unwarped scene (their blobs and waves unwarped too) and the finished image is resampled
        # by the field at its own resolution, as the renderer warps its scene (image(x) = scene(x +
        # D(x))). Otherwise every outline is redrawn from features warped at 32 px and its sub-pixel
        # place has to be decoded by convolutions (tools/README.md, "Next session" item 11 c). The
        # drag features are still the warped feature block's output: the contract is unchanged.
        # late_warp="cubic" resamples with Keys' cubic kernel: a bilinear resample blurs a 1-2 px
        # outline by up to half a pixel, which the eyes paid for in the probe (tools/README.md)
        # late_warp="mid" warps (cubic) after the 64 px block instead: that block draws the unwarped
        # scene, the 128 px block draws on the warped 64 px output with its blobs placed as before.
        # warp_res: where the features and the image so far are warped
        self.late_warp = bool(late_warp and self.keypoint_hi_sigma)
        self.late_warp_cubic = self.late_warp and late_warp in ("cubic", "mid")
        self.warp_res = (2 * feature_res if late_warp == "mid" else resolution) if self.late_warp else feature_res
        if self.late_warp:
            self.register_buffer("warp_basis_img", warp_basis_2d(resolution, warp_grid), persistent=False)

    def image_field(self, ctrl: torch.Tensor, res: int) -> torch.Tensor:
        """The displacement field of control offsets ctrl (feature pixels) at resolution res (2x the
        features' or, with a late warp, the image's), in that resolution's pixels."""
        basis = self.warp_basis_hi if res == 2 * self.feature_res else self.warp_basis_img
        return (res / self.feature_res) * (ctrl @ basis).reshape(ctrl.shape[0], 2, res, res)

    def geometry(self, w: torch.Tensor) -> torch.Tensor:
        """w [B, w_dim] -> control offsets [B, 2, grid*grid] in feature-block pixels (x, then y)."""
        return self.geo(w).reshape(w.shape[0], 2, self.warp_grid * self.warp_grid)

    def displacement(self, w: torch.Tensor) -> torch.Tensor:
        return self.field(self.geometry(w))

    def keypoint_coords(self, w: torch.Tensor, head_grad: bool = True) -> torch.Tensor:
        """w [B, w_dim] -> scene coordinates [B, K, 2] (x, y in [-1, 1]) of landmarks2.KEYPOINTS.
        head_grad False: the head's weights get no gradient (w still does), so that in training
        only the keypoint loss or the least-squares refit places the blobs (train.py --kp-detach,
        --kp-refit-every)."""
        c = self.kp(w, weight_grad=head_grad)
        if self.kp_mlp is not None:
            c = c + self.kp_mlp(w, weight_grad=head_grad)
        return c.reshape(w.shape[0], self.keypoints, 2)

    def keypoint_heat(self, w: torch.Tensor, r: int, sigma: float, shift: torch.Tensor | None = None) -> torch.Tensor:
        """[B, K, r, r]: the keypoints' Gaussian blobs (sigma in pixels of an r x r map) at the
        map's pixel centres, in scene coordinates (separable: a row and a column profile each),
        each moved by shift [B, K, 2] pixels of the map if given."""
        c = self.keypoint_coords(w, head_grad=not self.kp_head_detached) * (r / 2)  # pixels from the centre
        if shift is not None:
            c = c + shift
        g = torch.arange(r, dtype=w.dtype) + (0.5 - r / 2)
        a = -0.5 / (sigma * sigma)
        hx = torch.exp((g - c[:, :, 0:1]) * (g - c[:, :, 0:1]) * a)  # [B, K, r]
        hy = torch.exp((g - c[:, :, 1:2]) * (g - c[:, :, 1:2]) * a)
        return hy[:, :, :, None] * hx[:, :, None, :]

    def keypoint_maps(self, w: torch.Tensor) -> torch.Tensor:
        """[B, cin, R, R] added to the feature block's input: the keypoints' blobs at the feature
        block's resolution mixed to the block's input channels."""
        style = self.kp_style_proj if self.keypoint_style_rank else None
        return self.mix_blobs(w, self.keypoint_heat(w, self.feature_res, self.keypoint_sigma), self.kp_proj, style)

    def keypoint_maps_hi(self, w: torch.Tensor, ctrl: torch.Tensor) -> torch.Tensor:
        """[B, C, 2R, 2R] added to the input of the block above the features: the blobs at twice
        the feature resolution, warped by the displacement field of control offsets ctrl (feature
        pixels, so twice as many of these pixels), mixed to that block's input channels."""
        r = 2 * self.feature_res
        heat = self.keypoint_heat(w, r, self.keypoint_hi_sigma)
        if not self.late_warp:  # with a late warp this block draws the unwarped scene
            heat = warp(heat, self.image_field(ctrl, r))
        return self.mix_blobs(w, heat, self.kp_proj_hi, self.kp_style_proj_hi if self.keypoint_hi_style else None)

    def keypoint_maps_top(self, w: torch.Tensor, disp: torch.Tensor) -> torch.Tensor:
        """[B, C, 4R, 4R] added to the 128 px block's input: the blobs at four times the feature
        resolution, mixed to that block's input channels. Warping 22 maps of 128 x 128 cost ~4x a
        training step, so the blobs' centres move instead, to where the feature-res displacement
        field disp [B, 2, R, R] shows them (keypoint_shift)."""
        r = 4 * self.feature_res
        # warped after this block: the scene's places
        shift = None if self.warp_res == 4 * self.feature_res else 4 * self.keypoint_shift(w, disp)
        heat = self.keypoint_heat(w, r, self.keypoint_top_sigma, shift)
        return self.mix_blobs(w, heat, self.kp_proj_top, self.kp_style_proj_top if self.keypoint_hi_style else None)

    def texture_names(self) -> list[str]:
        """The renderer's parameters (faces2._PART_NAMES) the texture head gives, in its order."""
        return ["bg_tex_angle", "bg_tex_phase"] + (["hair_strand_phase"] if self.hair_strands else [])

    def texture_params(self, w: torch.Tensor) -> torch.Tensor:
        """w [B, w_dim] -> [B, n]: the renderer's texture_names() in [-1, 1]."""
        return self._latent_head(self.tex, w)

    def pose_params(self, w: torch.Tensor) -> torch.Tensor:
        """w [B, w_dim] -> [B, 6]: the renderer's POSE_NAMES in [-1, 1] (networks with hair strands)."""
        return self._latent_head(self.pose, w)

    def _latent_head(self, head: EqualLinear, w: torch.Tensor) -> torch.Tensor:
        """A head that gives renderer parameters through their Gaussian latents (the parameter
        is erf(z / sqrt 2)): those the mapping's linear skip carries (a least-squares fit on w:
        0.02 error in the waves' phase against 0.1 for the parameter itself). Weights detached
        when refitted (like the keypoints')."""
        return torch.erf(head(w, weight_grad=not self.kp_head_detached) * (1 / math.sqrt(2.0)))

    def wave_maps(self, w: torch.Tensor, w_pose: torch.Tensor, ctrl: torch.Tensor) -> torch.Tensor:
        """[B, C, 2R, 2R] added to the 64 px block's input: sin and cos of the background wave's
        argument (faces2.render_scene's formula and constants) in scene coordinates, and of the
        hair strands' (pose from w_pose), warped by the displacement field of control offsets
        ctrl, mixed to the block's channels by tex_proj."""
        B, r = w.shape[0], 2 * self.feature_res
        t = self.texture_params(w)
        ta = (0.8 + 0.6 * t[:, 0]).reshape(B, 1, 1)
        ph = (3.14 * t[:, 1]).reshape(B, 1, 1)
        g = (torch.arange(r, dtype=w.dtype) + 0.5) * (2.0 / r) - 1.0
        gx, gy = g.reshape(1, 1, r), g.reshape(1, r, 1)
        ca, sa = torch.cos(ta), torch.sin(ta)
        arg = 14.0 * (ca * gx + sa * gy) + 1.5 * torch.sin(5.0 * (ca * gy - sa * gx)) + ph
        maps = [torch.sin(arg), torch.cos(arg)]
        if self.hair_strands:
            maps += self.strand_maps(torch.cat([self.pose_params(w_pose), t[:, 2:3]], 1), gx, gy)
        maps = torch.stack(maps, 1)
        if not self.late_warp:
            maps = warp(maps, self.image_field(ctrl, r))
        return (self.tex_proj @ maps.reshape(B, maps.shape[1], r * r)).reshape(B, -1, r, r)

    @staticmethod
    def strand_maps(p: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor) -> list[torch.Tensor]:
        """sin and cos of the hair strands' argument 22 atan2(a, b) + phase (faces2.render_scene:
        a, b head-local coordinates from the fan's centre) for the pose and phase p [B, 7]. ONNX
        has no atan2 and our VJP builder no Atan: e^(22 i theta) is the 22nd power of (b + i a) / |.|
        (four squarings and two products), so the maps need only Mul, Add, Sqrt and Div."""
        B = p.shape[0]
        hx, hy, size, aspect, yaw, roll, phase = (p[:, i].reshape(B, 1, 1) for i in range(7))
        hh = 0.64 * (1.0 + 0.10 * size)
        fshift = 0.20 * hh * (0.78 + 0.10 * aspect) * yaw
        cr, sr = torch.cos(0.25 * roll), torch.sin(0.25 * roll)
        dx, dy = gx - 0.10 * hx, gy - (-0.03 + 0.07 * hy)
        a = cr * dx + sr * dy - 0.3 * fshift
        b = -sr * dx + cr * dy + 1.2 * hh
        n = torch.sqrt(a * a + b * b + 1e-8)

        def mul(u, v):
            return u[0] * v[0] - u[1] * v[1], u[0] * v[1] + u[1] * v[0]

        u2 = mul((b / n, a / n), (b / n, a / n))
        u4 = mul(u2, u2)
        u16 = mul(mul(u4, u4), mul(u4, u4))
        re, im = mul(mul(u16, u4), u2)
        c, s = torch.cos(3.14 * phase), torch.sin(3.14 * phase)
        return [im * c + re * s, re * c - im * s]

    def mix_blobs(self, w: torch.Tensor, heat: torch.Tensor, proj: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        """Blobs heat [B, K, r, r] -> [B, C, r, r] through proj [C, K], plus, for styled blobs, a
        rank-r map of w: style [C*K, rank] (MatMul only, no Einsum, for the VJP builder)."""
        B, K, r = heat.shape[0], self.keypoints, heat.shape[-1]
        if style is not None:  # [B, C, K]: the blobs' features for this w
            proj = proj + (self.kp_style(w) @ style.t()).reshape(B, -1, K)
        return (proj @ heat.reshape(B, K, r * r)).reshape(B, -1, r, r)

    def field(self, ctrl: torch.Tensor) -> torch.Tensor:
        """Control offsets [B, 2, grid*grid] -> the displacement field [B, 2, R, R] at the feature
        block's resolution, in its pixels."""
        r = self.feature_res
        return (ctrl @ self.warp_basis).reshape(ctrl.shape[0], 2, r, r)

    def keypoint_shift(self, w: torch.Tensor, disp: torch.Tensor, iterations: int = 2) -> torch.Tensor:
        """[B, K, 2] feature pixels: where the field disp [B, 2, R, R] shows each keypoint, relative
        to its scene place p. The image at x is the scene at x + D(x), so the point shows at the x
        with x + D(x) = p; fixed point x = p - D(x), D read bilinearly (hat weights, MatMul only)."""
        r = self.feature_res
        p = self.keypoint_coords(w, head_grad=not self.kp_head_detached) * (r / 2)  # [B, K, 2]
        g = torch.arange(r, dtype=w.dtype) + (0.5 - r / 2)
        x = p
        for _ in range(iterations):
            hx = torch.relu(1 - (g - x[:, :, 0:1]).abs())  # [B, K, r]
            hy = torch.relu(1 - (g - x[:, :, 1:2]).abs())
            x = p - self._bilinear(disp, hx, hy)
        return x - p

    @staticmethod
    def _bilinear(disp: torch.Tensor, hx: torch.Tensor, hy: torch.Tensor) -> torch.Tensor:
        """disp [B, 2, r, r] read at K points given by hat weights hx, hy [B, K, r] -> [B, K, 2]."""
        rows = hy[:, None] @ disp  # [B, 2, K, r]: each point's row blend
        return (rows * hx[:, None]).sum(-1).transpose(1, 2)

    def synthesis(
        self, ws: torch.Tensor, fused: bool | str = False, return_features: bool = True, ctrl: torch.Tensor | None = None,
        blocks: int | None = None,
    ):
        """ws [B, num_ws, w_dim] -> image [B,3,R,R] (about [-1,1]) and the feature-block output.

        fused: False = every layer modulates its activations; True = every layer modulates its
        weights; "image" = only the layers the features do not depend on (every toRGB and the
        blocks above the feature block) modulate their weights. Same function either way; "image"
        is the export for the browser, where a per-channel Mul over a 128x128 map costs more than
        the convolution after it, while the feature path keeps constant Conv weights so its
        backward graph needs no weight gradients.
        ctrl: control offsets [B, 2, grid*grid] to warp with instead of the head's (training with
        the renderer's own offsets, see train.py --teacher-warp).
        blocks: run only the first this many blocks (the image at their resolution: train.py
        --half-res trains the blocks below the top one first, at a fraction of a step's cost).
        """
        B = ws.shape[0]

        def row(i: int) -> torch.Tensor:
            # slice, not index: exports Slice + Reshape instead of Gather
            return ws[:, i : i + 1, :].reshape(B, self.w_dim)

        def mode(bi: int, torgb: bool) -> bool:
            if fused == "image":
                return torgb or bi > self.feature_block
            return bool(fused)

        x = self.const if B == 1 else self.const.expand(B, -1, -1, -1)
        img = None
        feat = None
        wi = 0
        for bi, blk in enumerate(self.blocks[:blocks]):
            if not blk.first:
                x = up2(x)
                if self.pos is not None:
                    x = x + self.pos[bi - 1]
                if self.keypoints and bi == self.feature_block:
                    x = x + self.keypoint_maps(row(0))
                if self.keypoint_hi_sigma and bi == self.feature_block + 1:
                    x = x + self.keypoint_maps_hi(row(0), offsets)
                    if self.bg_waves:
                        # read from this block's own W+ row, which a drag (rows 0-5) leaves alone:
                        # the head is a plain least-squares fit and answers wildly off the mapping's
                        # w (a random step of norm 0.45 moved the phase ~0.7 rad), so drags must not
                        # reach it; the warp (row 0) still bends the waves as the renderer does
                        x = x + self.wave_maps(row(wi), row(wi) if self.pose_own_row else row(0), offsets)
                if self.keypoint_top_sigma and bi == self.feature_block + 2:
                    x = x + self.keypoint_maps_top(row(0), disp)
                x = blk.conv0(x, row(wi), mode(bi, False))
                wi += 1
            x = blk.conv1(x, row(wi), mode(bi, False))
            wi += 1
            y = blk.torgb(x, row(wi), mode(bi, True))
            img = y if img is None else up2(img) + y
            if bi == self.feature_block:
                if self.warp_grid:
                    offsets = self.geometry(row(0)) if ctrl is None else ctrl
                    disp = self.field(offsets)
                    if self.late_warp:
                        feat = warp(x, disp)
                        continue
                    x, img = warp(x, disp), warp(img, disp)
                feat = x
            elif self.late_warp and feat is not None and self.res_list[bi] == self.warp_res:
                field = self.image_field(offsets, self.warp_res)
                img = warp(img, field, self.late_warp_cubic)
                if bi + 1 < len(self.blocks):
                    x = warp(x, field, self.late_warp_cubic)
        if self.late_warp and feat is not None and img.shape[-1] < self.warp_res:  # --half-res: stopped below it
            img = warp(img, self.image_field(offsets, img.shape[-1]), self.late_warp_cubic)
        return (img, feat) if return_features else img

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.mapping(z)
        ws = w[:, None, :].expand(-1, self.num_ws, -1)
        return self.synthesis(ws, return_features=False)


# The two configurations this project ships.
DEFAULT_CONFIG = dict(
    z_dim=31,
    w_dim=256,
    resolution=128,
    channels={4: 256, 8: 128, 16: 64, 32: 32, 64: 16, 128: 12},
    feature_res=32,
)
TINY_CONFIG = dict(
    z_dim=16,
    w_dim=16,
    resolution=32,
    channels={4: 8, 8: 8, 16: 8, 32: 8},
    feature_res=8,
)
# The second default generator, trained on tools/dataset/faces2.py (parts with their own
# positions, texture and a displacement field; P = 131 parameters). Features: 64 channels at
# 32 x 32 (scale 4). The blocks up to the feature block cost ~1.6x the first model's (the whole
# forward pass ~1.5x), so a drag
# step (forward + backward to the features) stays near the 15 ms budget on Node; see
# tools/README.md for the step times that chose it.
FACES2_CONFIG = dict(
    z_dim=131,
    w_dim=256,
    resolution=128,
    channels={4: 256, 8: 128, 16: 64, 32: 64, 64: 20, 128: 12},
    feature_res=32,
)
# the same network at 256 px (one more block), measured for the choice of resolution only
FACES2_256_CONFIG = dict(FACES2_CONFIG, resolution=256, channels={**FACES2_CONFIG["channels"], 256: 8})
# FACES2_CONFIG with the explicit displacement field of faces2's 6 x 6 control grid (see
# Generator.__init__): the network need not learn to move content by the warp through its styles
FACES2W_CONFIG = dict(FACES2_CONFIG, warp_grid=6, warp_k=3, mapping_skip=True)
# FACES2W_CONFIG with learned positional maps at every block input (Generator.__init__)
FACES2WP_CONFIG = dict(FACES2W_CONFIG, pos_bias=True)
# FACES2W_CONFIG with keypoint blobs at the feature block's input (landmarks2.KEYPOINTS: 13)
FACES2WK_CONFIG = dict(FACES2W_CONFIG, keypoints=13, keypoint_sigma=1.0)
# ... with the 9 keypoints of the thin parts as well (lids, brow ends, nose top, nostrils: 22)
FACES2WK2_CONFIG = dict(FACES2WK_CONFIG, keypoints=22)
# FACES2WK2_CONFIG with wider blocks above the features (64 px: 20 -> 32, 128 px: 12 -> 16
# channels): the blocks that draw the thin parts' detail; the drag step does not run them
# (tools/README.md "faces2wk2t")
FACES2WK2T_CONFIG = dict(FACES2WK2_CONFIG, channels={**FACES2WK2_CONFIG["channels"], 64: 32, 128: 16})
# FACES2WK2_CONFIG with the keypoint blobs also at the 64 px block's input (sigma 1 px there = 2
# image px), warped by the displacement field (Generator.keypoint_maps_hi)
FACES2WK2H_CONFIG = dict(FACES2WK2_CONFIG, keypoint_hi_sigma=1.0)
# both: the wider blocks and the blobs at 64 px
FACES2WK2TH_CONFIG = dict(FACES2WK2T_CONFIG, keypoint_hi_sigma=1.0)
# ... and styled blobs (rank 16) at the feature block's input
FACES2WK2THS_CONFIG = dict(FACES2WK2TH_CONFIG, keypoint_style_rank=16)
# ... and the blobs at 64 px styled too (the same rank-16 code of w)
FACES2WK2THSS_CONFIG = dict(FACES2WK2THS_CONFIG, keypoint_hi_style=True)
# ... and styled blobs at 128 px as well (sigma 1 image px)
FACES2WK2THST_CONFIG = dict(FACES2WK2THSS_CONFIG, keypoint_top_sigma=1.0)
# ... and the background's waves as an input at 64 px (Generator.wave_maps)
FACES2WK2THSTX_CONFIG = dict(FACES2WK2THST_CONFIG, bg_waves=True)
# ... and the hair's strands (Generator.strand_maps)
FACES2WK2THSTXS_CONFIG = dict(FACES2WK2THSTX_CONFIG, hair_strands=True)
# ... and a nonlinear keypoint head (KeypointMLP, 512 hidden): the blobs placed 0.4 instead of 0.8 px off
FACES2WK2THSTXSM_CONFIG = dict(FACES2WK2THSTXS_CONFIG, keypoint_mlp=512)
# ... with the warp applied once, to the finished image (Generator.late_warp)
FACES2WK2THSTXSML_CONFIG = dict(FACES2WK2THSTXSM_CONFIG, late_warp=True)
# ... resampled with a cubic kernel
FACES2WK2THSTXSMC_CONFIG = dict(FACES2WK2THSTXSM_CONFIG, late_warp="cubic")
# ... warped (cubic) after the 64 px block: the 128 px block draws on the warped output
FACES2WK2THSTXSMM_CONFIG = dict(FACES2WK2THSTXSM_CONFIG, late_warp="mid")
# the faces2 network for tools/dataset/faces2g4.py (4 x 4 warp grid, P = 91): only z_dim differs
FACES2G4_CONFIG = dict(FACES2_CONFIG, z_dim=91)
CONFIGS = dict(
    default=DEFAULT_CONFIG, tiny=TINY_CONFIG, faces2=FACES2_CONFIG, faces2_256=FACES2_256_CONFIG, faces2g4=FACES2G4_CONFIG,
    faces2w=FACES2W_CONFIG,
    faces2wp=FACES2WP_CONFIG,
    faces2wk=FACES2WK_CONFIG,
    faces2wk2=FACES2WK2_CONFIG,
    faces2wk2t=FACES2WK2T_CONFIG,
    faces2wk2h=FACES2WK2H_CONFIG,
    faces2wk2th=FACES2WK2TH_CONFIG,
    faces2wk2ths=FACES2WK2THS_CONFIG,
    faces2wk2thss=FACES2WK2THSS_CONFIG,
    faces2wk2thst=FACES2WK2THST_CONFIG,
    faces2wk2thstx=FACES2WK2THSTX_CONFIG,
    faces2wk2thstxs=FACES2WK2THSTXS_CONFIG,
    faces2wk2thstxsm=FACES2WK2THSTXSM_CONFIG,
    faces2wk2thstxsml=FACES2WK2THSTXSML_CONFIG,
    faces2wk2thstxsmc=FACES2WK2THSTXSMC_CONFIG,
    faces2wk2thstxsmm=FACES2WK2THSTXSMM_CONFIG,
)
