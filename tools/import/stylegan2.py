"""The project's own StyleGAN2 generator (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN"), written so that its parameter and buffer names are those of the official
PyTorch pickles (StyleGAN2-ADA, and the StyleGAN2 networks of the StyleGAN3 release). An imported
pickle's G_ema state dict loads into `Generator` with `load_state_dict(strict=True)`.

Inference only, float32, batch-independent, noise fixed (DragGAN renders with noise_mode='const':
noise = noise_const * noise_strength). The modulated convolution is the non-fused form (paper
eqs. 1-3 applied to activations: x * s -> conv with the constant weight -> * demodulation
coefficient), so an ONNX export keeps constant Conv weights and its VJP needs no weight gradients.

Architecture facts used here (from the paper and the public descriptions of the official code):
- mapping: 2nd-moment normalisation of z, `num_layers` equalised-lr FC layers (lr multiplier
  0.01), LeakyReLU(0.2) * sqrt(2); buffer `w_avg`.
- synthesis: blocks b4 .. b{R}; b4 holds a learned `const` [C, 4, 4] and one layer (`conv1`), every
  other block upsamples in `conv0` (transposed 3x3 conv, stride 2, then the [1,3,3,1] FIR filter),
  then `conv1`; every block has `torgb` (1x1 modulated conv, no demodulation, style scaled by
  1/sqrt(fan_in)); the RGB skip is upsampled by the same FIR filter (zero insertion + filter).
- W+ layout: block b uses num_conv + 1 rows starting at the running conv count, so a toRGB shares
  its row with the next block's conv0; num_ws = num_conv_total + 1.
- activations clamp to +-conv_clamp (after the gain) when conv_clamp is set (256 in the ADA
  configs), also in float32.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def fir_filter(taps=(1, 3, 3, 1)) -> torch.Tensor:
    """Separable low-pass filter, outer product of the taps, normalised to sum 1."""
    f = torch.tensor(taps, dtype=torch.float32)
    f = f[:, None] * f[None, :]
    return f / f.sum()


class FullyConnectedLayer(nn.Module):
    """Equalised learning rate: weights stored / lr_multiplier, scaled by lr_multiplier/sqrt(fan_in)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, None if self.bias is None else self.bias * self.bias_gain)
        if self.activation == "lrelu":
            x = F.leaky_relu(x, 0.2) * SQRT2
        elif self.activation != "linear":
            raise ValueError(f"unsupported activation {self.activation!r}")
        return x


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int, num_layers: int = 8,
                 embed_features=None, layer_features=None, activation: str = "lrelu",
                 lr_multiplier: float = 0.01, w_avg_beta: float = 0.995):
        super().__init__()
        if c_dim:
            raise ValueError("conditional generators (c_dim > 0) are not supported")
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        layer_features = w_dim if layer_features is None else layer_features
        dims = [z_dim] + [layer_features] * (num_layers - 1) + [w_dim]
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(dims[i], dims[i + 1], activation=activation, lr_multiplier=lr_multiplier))
        self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z -> w (untruncated; truncation happens in the backend with w_avg)."""
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x


def modulated_conv(x, weight, styles, demodulate: bool, padding: int, up: int = 1, resample_filter=None, noise=None, frozen=None):
    """Non-fused modulated conv. x [B,Ci,H,W], weight [Co,Ci,k,k], styles [B,Ci].

    up=2: transposed conv (stride 2, no padding, weight used as is) then the FIR filter with
    padding 1 and gain 4; the two together map H to 2H exactly as the official up-convolution.
    `frozen` (export only) holds the weight-derived constants precomputed, so the ONNX graph
    stores them instead of recomputing them (torch 1.13 does not fold ReduceSum/Transpose).
    """
    fz = frozen or {}
    x = x * styles[:, :, None, None]
    if up == 1:
        x = F.conv2d(x, weight, padding=padding)
    else:
        x = F.conv_transpose2d(x, fz["wt"] if "wt" in fz else weight.transpose(0, 1), stride=2)
        x = fir(x, resample_filter, pad=1, gain=4.0, kernel=fz.get("fir"))
    if demodulate:
        # paper eq. 3: sigma_j = sqrt(sum_{i,k} (s_i w_ijk)^2 + eps) = sqrt(s^2 @ sum_k w^2)
        wsq = fz["wsq"] if "wsq" in fz else weight.square().sum(dim=[2, 3])
        d = (styles.square() @ wsq.t() + 1e-8).rsqrt()
        x = x * d[:, :, None, None]
    if noise is not None:
        x = x + noise
    return x


def fir_kernel(f: torch.Tensor, gain: float, channels: int) -> torch.Tensor:
    return (f * gain)[None, None].repeat(channels, 1, 1, 1)


def fir(x: torch.Tensor, f: torch.Tensor, pad: int, gain: float, kernel=None) -> torch.Tensor:
    """Depthwise convolution with the 2-D filter f * gain, zero padding `pad` (f is symmetric, so
    convolution and correlation agree)."""
    C = x.shape[1]
    return F.conv2d(x, fir_kernel(f, gain, C) if kernel is None else kernel, padding=pad, groups=C)


def upsample2d(x: torch.Tensor, f: torch.Tensor, kernel=None) -> torch.Tensor:
    """x2 upsampling by zero insertion then the FIR filter (gain 4, pads 2 before and 1 after),
    written as one depthwise transposed conv: output 2W, same as the official upsample2d."""
    # upfirdn flips the filter and correlates; the transposed conv flips again: the flips cancel
    C = x.shape[1]
    return F.conv_transpose2d(x, fir_kernel(f, 4.0, C) if kernel is None else kernel, stride=2, padding=1, groups=C)


class SynthesisLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, kernel_size: int = 3,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu", conv_clamp=None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.w_dim, self.resolution, self.up, self.use_noise = w_dim, resolution, up, use_noise
        self.activation, self.conv_clamp = activation, conv_clamp
        self.padding = kernel_size // 2
        self.act_gain = SQRT2
        self.register_buffer("resample_filter", fir_filter())
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.frozen: dict | None = None  # not in the state dict; set by freeze() before an export

    def freeze(self) -> None:
        with torch.no_grad():
            fz = dict(wsq=self.weight.square().sum(dim=[2, 3]).clone())
            if self.up != 1:
                fz.update(wt=self.weight.transpose(0, 1).contiguous(), fir=fir_kernel(self.resample_filter, 4.0, self.out_channels))
            if self.use_noise:
                fz["noise"] = (self.noise_const * self.noise_strength).clone()
            self.frozen = fz

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        fz = self.frozen or {}
        noise = fz["noise"] if "noise" in fz else self.noise_const * self.noise_strength if self.use_noise else None
        x = modulated_conv(x, self.weight, styles, True, self.padding, self.up, self.resample_filter, noise, fz)
        x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * self.act_gain
        if self.conv_clamp is not None:
            x = x.clamp(-self.conv_clamp, self.conv_clamp)
        return x


class ToRGBLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1, conv_clamp=None):
        super().__init__()
        self.in_channels, self.out_channels, self.w_dim = in_channels, out_channels, w_dim
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv(x, self.weight, styles, False, 0) + self.bias[None, :, None, None]
        if self.conv_clamp is not None:
            x = x.clamp(-self.conv_clamp, self.conv_clamp)
        return x


class SynthesisBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, architecture: str = "skip", conv_clamp=None, use_fp16: bool = False, use_noise: bool = True):
        super().__init__()
        if architecture != "skip":
            raise ValueError(f"synthesis architecture {architecture!r} is not supported (only 'skip', StyleGAN2's default)")
        self.in_channels, self.w_dim, self.resolution, self.img_channels = in_channels, w_dim, resolution, img_channels
        self.is_last, self.architecture, self.use_fp16 = is_last, architecture, use_fp16
        self.register_buffer("resample_filter", fir_filter())
        self.num_conv = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2, conv_clamp=conv_clamp, use_noise=use_noise)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, conv_clamp=conv_clamp, use_noise=use_noise)
        self.num_conv += 1
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
        self.num_torgb = 1
        self.up_kernel: torch.Tensor | None = None  # export constant, set by Generator.freeze()

    def forward(self, x, img, ws: list[torch.Tensor]):
        if self.in_channels == 0:
            B = ws[0].shape[0]
            x = self.conv1(self.const[None] if B == 1 else self.const[None].expand(B, -1, -1, -1), ws[0])
        else:
            x = self.conv1(self.conv0(x, ws[0]), ws[1])
        y = self.torgb(x, ws[self.num_conv])
        img = y if img is None else upsample2d(img, self.resample_filter, self.up_kernel) + y
        return x, img


class SynthesisNetwork(nn.Module):
    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, **block_kwargs):
        super().__init__()
        log2 = int(math.log2(img_resolution))
        if img_resolution != 2**log2 or img_resolution < 4:
            raise ValueError(f"img_resolution must be a power of two >= 4, got {img_resolution}")
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.num_fp16_res = num_fp16_res
        self.block_resolutions = [2**i for i in range(2, log2 + 1)]
        channels = {r: min(channel_base // r, channel_max) for r in self.block_resolutions}
        fp16_res = max(2 ** (log2 + 1 - num_fp16_res), 8)
        self.num_ws = 0
        for r in self.block_resolutions:
            cin = channels[r // 2] if r > 4 else 0
            blk = SynthesisBlock(cin, channels[r], w_dim, r, img_channels, r == img_resolution,
                                 use_fp16=(r >= fp16_res), **block_kwargs)
            self.num_ws += blk.num_conv
            setattr(self, f"b{r}", blk)
        self.num_ws += 1  # the last toRGB
        self.channels = channels

    def forward(self, ws: torch.Tensor, feature_res: int | None = None):
        """ws [B, num_ws, w_dim] -> (image [B,3,R,R], output of block `feature_res`, or None).

        W+ rows are sliced (ws[:, i:i+1]) rather than indexed so that an ONNX export has Slice,
        not Gather."""
        B = ws.shape[0]
        row = lambda i: ws[:, i : i + 1, :].reshape(B, self.w_dim)  # noqa: E731
        x = img = feat = None
        wi = 0
        for r in self.block_resolutions:
            blk = getattr(self, f"b{r}")
            x, img = blk(x, img, [row(wi + j) for j in range(blk.num_conv + blk.num_torgb)])
            wi += blk.num_conv
            if r == feature_res:
                feat = x
        return img, feat


class Generator(nn.Module):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, img_resolution: int, img_channels: int,
                 mapping_kwargs: dict | None = None, synthesis_kwargs: dict | None = None, **more_synthesis_kwargs):
        super().__init__()
        if img_channels != 3:
            raise ValueError(f"only RGB generators are supported (img_channels = {img_channels})")
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **{**(synthesis_kwargs or {}), **more_synthesis_kwargs})
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **(mapping_kwargs or {}))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.mapping(z)
        img, _ = self.synthesis(w[:, None].expand(-1, self.num_ws, -1))
        return img

    def freeze(self) -> None:
        """Precompute weight-derived constants for an ONNX export (same function)."""
        for m in self.modules():
            if isinstance(m, SynthesisLayer):
                m.freeze()
            if isinstance(m, SynthesisBlock):
                m.up_kernel = fir_kernel(m.resample_filter, 4.0, m.img_channels).detach().clone()
