#!/usr/bin/python3
"""Exports candidate embedded UNets (random weights) for timing in onnxruntime-node.

  /usr/bin/python3 tools/diffusion/time_candidates.py [--train-step]
  node tools/diffusion/time-unet.mjs          # per-call times of tools/.cache/diffusion-candidates/*

Writes tools/.cache/diffusion-candidates/<name>/model.onnx (+ model.onnx_data) and info.json
(parameters, MACs of one call on a 1x4x32x32 latent). With --train-step it also times one torch
training step (batch 8, forward + backward + Adam) per candidate, which is what the training
budget depends on.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export as E  # noqa: E402
import networks as N  # noqa: E402

OUT = os.path.join(E.ROOT, "tools", ".cache", "diffusion-candidates")
BASE = N.CONFIGS["embedded"]["unet"]
CANDIDATES = {
    "A-64-128-128-128-attn16-8": dict(BASE),
    "B-64-96-96-96-attn16-8": dict(BASE, channels=[64, 96, 96, 96], heads=4),
    "C-48-96-128-128-attn16-8": dict(BASE, channels=[48, 96, 128, 128], groups=16),
    "D-64-128-128-128-attn32-16-8": dict(BASE, attention=[True, True, True, False]),
    "E-64-128-128-128-attn16-8-x2": dict(BASE, layers_per_block=2),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-step", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    torch.manual_seed(0)
    D = BASE["cross_attention_dim"]
    z, t, ehs = torch.randn(1, 4, 32, 32), torch.tensor([681.0]), torch.randn(1, 77, D)
    for name, u in CANDIDATES.items():
        if args.only and args.only not in name:
            continue
        unet = N.UNet2DConditionModel(u).eval()
        info = {"config": u, "params": N.n_params(unet), "gmac": N.count_macs(unet, z, t, ehs) / 1e9,
                "mbytes": N.n_params(unet) * 4 / 1e6}
        E._export(unet, (z, t, ehs), os.path.join(OUT, name, "model.onnx"), ["sample", "timestep", "encoder_hidden_states"],
                  ["out_sample"], {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "steps"},
                                   "encoder_hidden_states": {0: "batch", 1: "sequence"},
                                   "out_sample": {0: "batch", 2: "height", 3: "width"}}, external=True)
        if args.train_step:
            unet.train()
            opt = torch.optim.Adam(unet.parameters(), 1e-4)
            zb, tb, eb = torch.randn(8, 4, 32, 32), torch.randint(0, 1000, (8,)).float(), torch.randn(8, 77, D)
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                loss = (unet(zb, tb, eb) - zb).square().mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                times.append(time.perf_counter() - t0)
            info["train_step_batch8_s"] = min(times[1:])
            info["torch_threads"] = torch.get_num_threads()
        with open(os.path.join(OUT, name, "info.json"), "w") as f:
            json.dump(info, f, indent=1)
        print(name, json.dumps({k: v for k, v in info.items() if k != "config"}), flush=True)


if __name__ == "__main__":
    main()
