#!/usr/bin/python3
"""Exports a random-weight UNet of the embedded diffusion model's size for the onnx-autograd bench.

  /usr/bin/python3 packages/onnx-autograd/bench/export_unet.py [out_dir]
      -> out_dir (default packages/onnx-autograd/bench/.cache/unet-embedded)/model.onnx + spec.json

The network is tools/diffusion/networks.py's UNet2DConditionModel with CONFIGS["embedded"]
(channels 64-128-128-128, attention at 16² and 8² of a 32² latent, ~1.4 GMAC per call): the
same torch 1.13 export (opset 17, constant folding) as tools/diffusion/export.py, at fixed
batch 1 shapes. Weights are PyTorch's default initialisation (seed 0): timings do not depend on
them. Written for this project.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "diffusion"))
import networks as N  # noqa: E402


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, ".cache", "unet-embedded")
    os.makedirs(out, exist_ok=True)
    cfg = N.CONFIGS["embedded"]
    torch.manual_seed(0)
    unet = N.UNet2DConditionModel(cfg["unet"], cfg["latent_channels"]).float().eval()
    h = cfg["resolution"] // 2 ** (len(cfg["vae"]["channels"]) - 1)
    T, D = cfg["text"]["max_length"], cfg["text"]["dim"]
    args = (torch.randn(1, cfg["latent_channels"], h, h), torch.tensor([681.0]), torch.randn(1, T, D))
    with torch.no_grad():
        torch.onnx.export(unet, args, os.path.join(out, "model.onnx"), opset_version=17, do_constant_folding=True,
                          input_names=["sample", "timestep", "encoder_hidden_states"], output_names=["out_sample"])
    spec = {
        "config": "embedded",
        "unet": cfg["unet"],
        "macs": N.count_macs(unet, *args),
        "params": N.n_params(unet),
        "shapes": {"sample": list(args[0].shape), "timestep": [1], "encoder_hidden_states": list(args[2].shape)},
    }
    with open(os.path.join(out, "spec.json"), "w") as f:
        json.dump(spec, f, indent=1)
    print(json.dumps(spec))


if __name__ == "__main__":
    main()
