#!/usr/bin/python3
"""Golden gradients for @stabledrag/onnx-autograd from PyTorch autograd.

Builds a small StyleGAN2-like synthesis network (constant input, modulated/demodulated 3x3 convs,
bilinear x2 upsampling, LeakyReLU with sqrt(2) gain, modulated 1x1 toRGB with skip connections),
in two forms that compute the same function:
  - plain: scale activations by the style, conv with the constant weight, scale by demodulation;
  - fused: weights computed from ws per sample, grouped conv (StyleGAN2's fused_modconv).
Exports both to ONNX (opset 17) and records ws, random cotangents for `image` and `features`, the
forward outputs and d<cot, outputs>/d ws computed by PyTorch autograd in float64.

  /usr/bin/python3 tools/golden/make_autograd_golden.py            # writes the committed fixtures
  /usr/bin/python3 tools/golden/make_autograd_golden.py --bench-model DIR
      # exports a random generator of the default model's size (w_dim 256, 128x128) to DIR for the bench

Written for this project (torch 1.13, Debian python3-torch).
"""
from __future__ import annotations

import argparse
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "packages", "onnx-autograd", "src", "__fixtures__")


class ModConv(nn.Module):
    def __init__(self, w_dim: int, cin: int, cout: int, k: int, demod: bool = True, act: bool = True):
        super().__init__()
        self.aff_w = nn.Parameter(torch.randn(cin, w_dim))
        self.aff_b = nn.Parameter(torch.ones(cin) + 0.1 * torch.randn(cin))
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(0.1 * torch.randn(cout))
        self.gain = 1.0 / math.sqrt(cin * k * k)
        self.k, self.demod, self.act = k, demod, act

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool) -> torch.Tensor:
        s = F.linear(w, self.aff_w / math.sqrt(self.aff_w.shape[1]), self.aff_b)  # [B, cin]
        weight = self.weight * self.gain
        pad = self.k // 2
        if not fused:
            x = x * s[:, :, None, None]
            x = F.conv2d(x, weight, padding=pad)
            if self.demod:
                d = torch.rsqrt(s.square() @ weight.square().sum(dim=[2, 3]).t() + 1e-8)
                x = x * d[:, :, None, None]
        else:
            b, cin, h, wd = x.shape
            wm = weight[None] * s[:, None, :, None, None]
            if self.demod:
                wm = wm * torch.rsqrt(wm.square().sum(dim=[2, 3, 4]) + 1e-8)[:, :, None, None, None]
            cout = wm.shape[1]
            x = F.conv2d(x.reshape(1, b * cin, h, wd), wm.reshape(b * cout, cin, self.k, self.k), padding=pad, groups=b)
            x = x.reshape(b, cout, h, wd)
        x = x + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * SQRT2 if self.act else x


class Synthesis(nn.Module):
    def __init__(self, w_dim: int, res: int, ch: dict[int, int], feature_res: int, fused: bool):
        super().__init__()
        self.fused = fused
        self.w_dim = w_dim
        self.res_list = [2**i for i in range(2, int(math.log2(res)) + 1)]
        self.const = nn.Parameter(torch.randn(1, ch[4], 4, 4))
        self.convs0 = nn.ModuleList()
        self.convs1 = nn.ModuleList()
        self.torgb = nn.ModuleList()
        for r in self.res_list:
            cin = ch[max(r // 2, 4)]
            self.convs0.append(ModConv(w_dim, cin, ch[r], 3) if r > 4 else nn.Identity())
            self.convs1.append(ModConv(w_dim, ch[r] if r > 4 else cin, ch[r], 3))
            self.torgb.append(ModConv(w_dim, ch[r], 3, 1, demod=False, act=False))
        self.num_ws = 2 * len(self.res_list)
        self.feature_index = self.res_list.index(feature_res)

    def forward(self, ws: torch.Tensor):
        b = ws.shape[0]
        row = lambda i: ws[:, i : i + 1, :].reshape(b, self.w_dim)  # noqa: E731  (Slice + Reshape in ONNX)
        x = self.const.expand(b, -1, -1, -1)
        img = feat = None
        wi = 0
        for i, r in enumerate(self.res_list):
            if r > 4:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
                x = self.convs0[i](x, row(wi), self.fused)
                wi += 1
            x = self.convs1[i](x, row(wi), self.fused)
            wi += 1
            y = self.torgb[i](x, row(wi), self.fused)
            img = y if img is None else F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False) + y
            if i == self.feature_index:
                feat = x
        return img, feat


def export(model: nn.Module, ws: torch.Tensor, path: str) -> None:
    torch.onnx.export(
        model, (ws,), path, input_names=["ws"], output_names=["image", "features"],
        opset_version=17, do_constant_folding=True,
    )


def flat(t: torch.Tensor) -> list[float]:
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_golden() -> None:
    os.makedirs(FIXTURES, exist_ok=True)
    cfg = dict(w_dim=8, res=16, ch={4: 8, 8: 6, 16: 4}, feature_res=8)
    torch.manual_seed(1234)
    plain = Synthesis(**cfg, fused=False).eval()
    fused = Synthesis(**cfg, fused=True).eval()
    fused.load_state_dict(plain.state_dict())  # same parameters: both forms compute the same function
    gen = torch.Generator().manual_seed(99)
    ws = torch.randn(1, plain.num_ws, cfg["w_dim"], generator=gen)
    with torch.no_grad():
        img, feat = plain(ws)
    cot_img = torch.randn(img.shape, generator=gen)
    cot_feat = torch.randn(feat.shape, generator=gen)
    for name, model in (("plain", plain), ("fused", fused)):
        export(model, ws, os.path.join(FIXTURES, f"golden-{name}.onnx"))
        m64 = Synthesis(**cfg, fused=model.fused).double().eval()
        m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        w = ws.double().clone().requires_grad_(True)
        i64, f64 = m64(w)
        grads = {}
        for key, loss in (
            ("features", (f64 * cot_feat.double()).sum()),
            ("image", (i64 * cot_img.double()).sum()),
            ("both", (f64 * cot_feat.double()).sum() + (i64 * cot_img.double()).sum()),
        ):
            (g,) = torch.autograd.grad(loss, w, retain_graph=True)
            grads[key] = flat(g)
        data = {
            "description": f"PyTorch {torch.__version__} autograd (float64) of <cot, outputs> w.r.t. ws; {name} modulated conv",
            "ws": {"dims": list(ws.shape), "data": flat(ws)},
            "image": {"dims": list(i64.shape), "data": flat(i64.float())},
            "features": {"dims": list(f64.shape), "data": flat(f64.float())},
            "cot_image": {"dims": list(cot_img.shape), "data": flat(cot_img)},
            "cot_features": {"dims": list(cot_feat.shape), "data": flat(cot_feat)},
            "grad_ws": {k: {"dims": list(ws.shape), "data": v} for k, v in grads.items()},
        }
        with open(os.path.join(FIXTURES, f"golden-{name}.json"), "w") as fh:
            json.dump(data, fh, separators=(",", ":"))
        print(f"wrote golden-{name}.onnx/.json")


def make_bench_model(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(7)
    # Same size as the default model (tools/train/networks.py DEFAULT_CONFIG).
    cfg = dict(w_dim=256, res=128, ch={4: 256, 8: 256, 16: 256, 32: 128, 64: 64, 128: 32}, feature_res=32)
    model = Synthesis(**cfg, fused=False).eval()
    ws = torch.randn(1, model.num_ws, cfg["w_dim"])
    export(model, ws, os.path.join(out_dir, "synthesis.onnx"))
    print("wrote", os.path.join(out_dir, "synthesis.onnx"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-model", metavar="DIR")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.bench_model:
        make_bench_model(args.bench_model)
    else:
        make_golden()
