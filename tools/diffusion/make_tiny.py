#!/usr/bin/python3
"""The tiny random-weight SD-1.5-layout model for tests, and its PyTorch golden data.

  /usr/bin/python3 tools/diffusion/make_tiny.py [tiny | tiny-sd15]
    -> packages/backends-diffusion/models/<folder>/         (the model folder, see export.py)
    -> packages/backends-diffusion/models/<folder>-golden/  golden.json + golden.bin
    -> tools/.cache/diffusion-verify/<folder>/unet-features.onnx  (the UNet with the feature tensor
                                                             as a second output, for verify.mjs)
  node tools/diffusion/verify.mjs [<folder>] [--web]   # the ONNX files in onnxruntime against the golden
  Folders: tiny -> sd15-layout-tiny (VAE factor 4, the embedded model's block pattern);
  tiny-sd15 -> sd15-layout-tiny-f8 (VAE factor 8 and SD 1.5's block pattern: attention at the
  three finest levels, 2 resnets per level, 16 self-attention layers).

Deterministic: torch.manual_seed(2024). Norm affines are randomised (PyTorch initialises them to
1 and 0, which would hide a wrong affine VJP). The golden values are computed in float64 from the
float32 weights that were exported.

Golden gradients (for @stabledrag/onnx-autograd): F = the output of `up_blocks.2` (ONNX tensor
`/up_blocks.2/upsamplers.0/conv/Conv_output_0`), c a fixed random cotangent of F's shape,
  grad_sample      = d<F(sample), c>/d sample                        (no LoRA)
  with LoRA (rank 4, alpha 8, scale alpha/r = 2) on one self-attention's to_q, to_k, to_v, to_out.0:
    y = W x + (B A x) * alpha / r,   A: [r, in],  B: [out, r]   (PyTorch / peft layout),
  added to the output of the projection's MatMul node (to_out.0's bias Add follows), we record
  features_lora, grad_sample_lora and grad_A_<p>, grad_B_<p> = d<F_lora, c>/dA_p, dB_p.
  A second, separate case puts LoRA on the cross-attention's to_k / to_v (input: the text
  embedding): features_lora_attn2, grad_attn2_A_<p>, grad_attn2_B_<p>.
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export as E  # noqa: E402
import networks as N  # noqa: E402

# config name -> model folder name
FOLDERS = {"tiny": "sd15-layout-tiny", "tiny-sd15": "sd15-layout-tiny-f8"}
CONFIG = sys.argv[1] if len(sys.argv) > 1 else "tiny"
if CONFIG not in FOLDERS:
    raise SystemExit(f"unknown config {CONFIG!r}: use one of {sorted(FOLDERS)}")
NAME = FOLDERS[CONFIG]
OUT = os.path.join(E.MODELS, NAME)
GOLDEN = os.path.join(E.MODELS, NAME + "-golden")
CACHE = os.path.join(E.ROOT, "tools", ".cache", "diffusion-verify", NAME)
LORA_MODULE = "up_blocks.2.attentions.0.transformer_blocks.0.attn1"
PROJECTIONS = ["to_q", "to_k", "to_v", "to_out.0"]
LORA2_MODULE = "up_blocks.2.attentions.0.transformer_blocks.0.attn2"
LORA2_PROJECTIONS = ["to_k", "to_v"]
RANK, ALPHA = 4, 8.0
TIMESTEP = 681.0


def build() -> N.LatentDiffusion:
    torch.manual_seed(2024)
    model = N.LatentDiffusion(N.CONFIGS[CONFIG])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_(0.2 * torch.randn_like(m.bias))
    return model.eval()


class Lora:
    """Forward hooks adding (B A x) * alpha / r to chosen Linear layers."""

    def __init__(self, unet, module: str, rank: int, alpha: float, gen: torch.Generator, dtype, projections=PROJECTIONS):
        mods = dict(unet.named_modules())
        self.params, self.handles = {}, []
        for p in projections:
            lin = mods[f"{module}.{p}"]
            a = (torch.randn(rank, lin.in_features, generator=gen, dtype=torch.float64) / lin.in_features ** 0.5).to(dtype)
            b = (0.3 * torch.randn(lin.out_features, rank, generator=gen, dtype=torch.float64)).to(dtype)
            a.requires_grad_(True)
            b.requires_grad_(True)
            self.params[p] = (a, b)
            self.handles.append(lin.register_forward_hook(self._hook(a, b, alpha / rank)))

    @staticmethod
    def _hook(a, b, scale):
        return lambda _m, inp, out: out + (inp[0] @ a.t() @ b.t()) * scale

    def remove(self):
        for h in self.handles:
            h.remove()


def unet_features(unet, sample, t, ehs):
    feats = {}
    h = unet.up_blocks[2].register_forward_hook(lambda _m, _i, o: feats.__setitem__("f", o))
    out = unet(sample, t, ehs)
    h.remove()
    return out, feats["f"]


def main() -> None:
    model = build()
    cfg = model.cfg
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    desc = E.export_folder(model, OUT, name=NAME, scaling_factor=0.18215, extra={
        "license": "MIT", "weights": "random (torch.manual_seed(2024)); for tests only, its images are noise"})

    # ---- golden, in float64 from the exported float32 weights ----
    m64 = build().double()
    gen = torch.Generator().manual_seed(7)
    R, L, h = cfg["resolution"], cfg["latent_channels"], desc["latent"]["height"]
    ids = m64.text_encoder.empty_prompt_ids()
    with torch.no_grad():
        ehs, pooled = m64.text_encoder(ids)
    sample = torch.randn(1, L, h, h, generator=gen, dtype=torch.float64)
    t = torch.tensor([TIMESTEP], dtype=torch.float64)
    cot = torch.randn(1, desc["features"]["channels"], h, h, generator=gen, dtype=torch.float64)

    x = sample.clone().requires_grad_(True)
    out, feat = unet_features(m64.unet, x, t, ehs)
    (grad_sample,) = torch.autograd.grad((feat * cot).sum(), x)

    lora = Lora(m64.unet, LORA_MODULE, RANK, ALPHA, gen, torch.float64)
    x2 = sample.clone().requires_grad_(True)
    out_l, feat_l = unet_features(m64.unet, x2, t, ehs)
    flat = [p for ab in lora.params.values() for p in ab]
    grads = torch.autograd.grad((feat_l * cot).sum(), [x2] + flat)
    fd = directional_check(m64.unet, sample, t, ehs, cot, flat, grads)
    lora.remove()

    # Second case: LoRA on the cross-attention's to_k / to_v, whose input is encoder_hidden_states
    # (a graph input, not on the path from `sample`): the weight gradient must still flow.
    gen2 = torch.Generator().manual_seed(13)
    lora2 = Lora(m64.unet, LORA2_MODULE, RANK, ALPHA, gen2, torch.float64, LORA2_PROJECTIONS)
    _o2, feat_x = unet_features(m64.unet, sample, t, ehs)
    flat2 = [p for ab in lora2.params.values() for p in ab]
    grads2 = torch.autograd.grad((feat_x * cot).sum(), flat2)
    lora2.remove()

    img = torch.rand(1, 3, R, R, generator=gen, dtype=torch.float64) * 2 - 1
    lat = torch.randn(1, L, h, h, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        latent_parameters = m64.vae.encode(img)
        decoded = m64.vae.decode(lat)

    # float32 torch vs float64: how far float32 arithmetic alone moves the results
    m32 = build()
    xs = sample.float().requires_grad_(True)
    _o32, f32 = unet_features(m32.unet, xs, t.float(), ehs.float())
    (g32,) = torch.autograd.grad((f32 * cot.float()).sum(), xs)

    tensors = {
        "input_ids": ids.to(torch.int32), "encoder_hidden_states": ehs, "pooler_output": pooled,
        "sample": sample, "timestep": t, "out_sample": out, "features": feat, "cotangent": cot,
        "grad_sample": grad_sample, "features_lora": feat_l, "out_sample_lora": out_l, "grad_sample_lora": grads[0],
        "vae_encoder_sample": img, "latent_parameters": latent_parameters,
        "vae_decoder_latent_sample": lat, "vae_decoder_sample": decoded,
    }
    for i, p in enumerate(PROJECTIONS):
        a, b = lora.params[p]
        tensors[f"lora_A_{p}"], tensors[f"lora_B_{p}"] = a, b
        tensors[f"grad_A_{p}"], tensors[f"grad_B_{p}"] = grads[1 + 2 * i], grads[2 + 2 * i]
    tensors["features_lora_attn2"] = feat_x
    for i, p in enumerate(LORA2_PROJECTIONS):
        a, b = lora2.params[p]
        tensors[f"lora_attn2_A_{p}"], tensors[f"lora_attn2_B_{p}"] = a, b
        tensors[f"grad_attn2_A_{p}"], tensors[f"grad_attn2_B_{p}"] = grads2[2 * i], grads2[2 * i + 1]
    write_golden(tensors, {
        "about": f"PyTorch float64 golden data for the {NAME} model (tools/diffusion/make_tiny.py{'' if CONFIG == 'tiny' else ' ' + CONFIG})",
        "timestep": TIMESTEP,
        "features": {"tensor": desc["features"]["tensor"], "module": "up_blocks.2 (output, after its upsampler)"},
        "objective": "sum(features * cotangent)",
        "lora": {
            "module": LORA_MODULE, "rank": RANK, "alpha": ALPHA, "scale": ALPHA / RANK,
            "formula": "y = W x + (B (A x)) * alpha / rank, added to the output of the projection's MatMul node",
            "shapes": "A [rank, in_features], B [out_features, rank]",
            "nodes": {p: f"/up_blocks.2/attentions.0/transformer_blocks.0/attn1/{p}/MatMul" for p in PROJECTIONS},
            "matmulInputs": "x [B, tokens, in] @ W [in, out] (the ONNX initializer is the transposed torch weight)",
        },
        "loraAttn2": {
            "module": LORA2_MODULE, "rank": RANK, "alpha": ALPHA, "scale": ALPHA / RANK,
            "what": "a separate case (no attn1 LoRA): LoRA on the cross-attention's to_k and to_v, whose input is "
                    "encoder_hidden_states; tensors features_lora_attn2, lora_attn2_{A,B}_<p>, grad_attn2_{A,B}_<p>",
            "shapes": "A [rank, cross_attention_dim], B [out_features, rank]",
            "nodes": {p: f"/up_blocks.2/attentions.0/transformer_blocks.0/attn2/{p}/MatMul" for p in LORA2_PROJECTIONS},
        },
        "finiteDifferenceCheck": fd,
        "float32VsFloat64": {
            "features_maxAbsDiff": float((f32.double() - feat).abs().max()),
            "features_maxAbs": float(feat.abs().max()),
            "grad_sample_maxAbsDiff": float((g32.double() - grad_sample).abs().max()),
            "grad_sample_maxAbs": float(grad_sample.abs().max()),
        },
    })

    # UNet with the feature tensor as a second output, for verify.mjs (onnxruntime has no way to
    # fetch an intermediate tensor otherwise). Written to the git-ignored cache.
    os.makedirs(CACHE, exist_ok=True)
    m = onnx.load(os.path.join(OUT, "unet", "model.onnx"))
    m.graph.output.append(onnx.helper.make_tensor_value_info(desc["features"]["tensor"], onnx.TensorProto.FLOAT, None))
    onnx.save_model(m, os.path.join(CACHE, "unet-features.onnx"))
    sizes = {os.path.relpath(os.path.join(d, f), OUT): os.path.getsize(os.path.join(d, f))
             for d, _, fs in os.walk(OUT) for f in fs}
    print(json.dumps({"total_bytes": sum(sizes.values()), "files": sizes}, indent=1))


def directional_check(unet, sample, t, ehs, cot, params, grads, eps=1e-5) -> dict:
    """Central differences of <F, c> along one random direction (float64) vs the autograd gradients."""
    gen = torch.Generator().manual_seed(11)
    dirs = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in [sample] + params]
    predicted = float(sum((g * d).sum() for g, d in zip(grads, dirs)))

    def objective(sign: float) -> float:
        with torch.no_grad():
            for p, d in zip(params, dirs[1:]):
                p.add_(sign * eps * d)
            _o, f = unet_features(unet, sample + sign * eps * dirs[0], t, ehs)
            for p, d in zip(params, dirs[1:]):
                p.sub_(sign * eps * d)
            return float((f * cot).sum())

    numeric = (objective(1.0) - objective(-1.0)) / (2 * eps)
    rel = abs(numeric - predicted) / max(abs(numeric), 1e-12)
    if rel > 1e-6:
        raise SystemExit(f"golden gradients disagree with finite differences: rel. error {rel:.2e}")
    return {"what": "d/de <F_lora(sample + e u0, A + e uA, B + e uB), c> by central differences (eps 1e-5, float64)"
                    " vs the autograd gradients (lora case)", "numeric": numeric, "autograd": predicted, "relError": rel}


def write_golden(tensors: dict, meta: dict) -> None:
    """golden.bin: little-endian float32 (int32 for input_ids) arrays back to back; golden.json: index."""
    os.makedirs(GOLDEN, exist_ok=True)
    index, offset, chunks = {}, 0, []
    for name, v in tensors.items():
        arr = v.detach().cpu().numpy()
        arr = arr.astype("<i4") if arr.dtype.kind in "iu" else arr.astype("<f4")
        index[name] = {"dtype": "int32" if arr.dtype.kind == "i" else "float32", "shape": list(arr.shape),
                       "offset": offset, "length": int(arr.size)}
        chunks.append(arr.tobytes())
        offset += arr.nbytes
    with open(os.path.join(GOLDEN, "golden.bin"), "wb") as f:
        f.write(b"".join(chunks))
    meta = dict(meta, file="golden.bin", offsetsIn="bytes", tensors=index)
    with open(os.path.join(GOLDEN, "golden.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
