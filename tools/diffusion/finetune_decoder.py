#!/usr/bin/python3
"""Fine-tunes the VAE decoder of a diffusion checkpoint while the encoder stays frozen.

Why: the VAE bounds every inversion round trip (encode → invert → denoise → decode), and the
VAE stage of `train.py` stops at a share of the budget, still improving (24.4 dB held-out PSNR in
the first full run). With the encoder frozen the latents do not change, so the UNet trained on
them stays valid: the decoder alone can keep learning, in parallel with the UNet stage, on the
other core. The decoder is trained on the posterior *mean* (what DragDiffusion decodes), not on
samples as in the VAE stage.

  /usr/bin/python3 tools/diffusion/finetune_decoder.py --minutes 60 [--renderer faces2] [--resume]
  /usr/bin/python3 tools/diffusion/export.py embedded --decoder tools/.cache/diffusion/decoder.pt

Loss as the VAE stage (L1 + ½ L1 of image gradients). 16² latent crops decoded to 64² image crops
(4x cheaper) for the first 75 % of the time, full images after. EMA 0.999 of the decoder is what
is saved. Held-out PSNR on the same 32 fixed renders as train.py, every `--eval-every` steps.
"""
from __future__ import annotations

import argparse
import copy
import importlib
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "dataset"))
import networks as N  # noqa: E402
from train import CACHE, Renders, image_gradient_l1  # noqa: E402


def decoder_modules(vae) -> torch.nn.ModuleDict:
    return torch.nn.ModuleDict({"post_quant_conv": vae.post_quant_conv, "decoder": vae.decoder})


@torch.no_grad()
def psnr_of(vae, decoder_state, images: torch.Tensor, means: torch.Tensor) -> float:
    decoder_modules(vae).load_state_dict(decoder_state)
    rec = torch.cat([vae.decode(means[i:i + 8]) for i in range(0, len(means), 8)]).clamp(-1, 1)
    mse = ((rec - images) / 2).square().mean(dim=(1, 2, 3))
    return float((-10 * torch.log10(mse)).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(CACHE, "latest.pt"))
    ap.add_argument("--out", default=os.path.join(CACHE, "decoder.pt"))
    ap.add_argument("--renderer", default="faces2")
    ap.add_argument("--minutes", type=float, default=60.0, help="total wall time over all resumed runs")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--seed", type=int, default=0, help="train.py's --seed: fixes the same held-out renders")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ck = torch.load(args.checkpoint, map_location="cpu")
    if ck["state"]["stage"] != "unet":
        raise SystemExit("the checkpoint is still in its VAE stage: fine-tune the decoder once the UNet stage has begun")
    model = N.LatentDiffusion(ck["config"])
    model.load_state_dict(ck["ema"])
    vae = model.vae.eval()
    vae.encoder.requires_grad_(False)
    vae.quant_conv.requires_grad_(False)
    dec = decoder_modules(vae)
    ema = copy.deepcopy(dec.state_dict())
    opt = torch.optim.Adam(dec.parameters(), lr=args.lr, betas=(0.9, 0.99))
    st = {"step": 0, "elapsed": 0.0, "start_psnr": None}
    if args.resume and os.path.exists(args.out):
        saved = torch.load(args.out, map_location="cpu")
        dec.load_state_dict(saved["model"])
        ema = saved["ema"]
        opt.load_state_dict(saved["opt"])
        st = saved["state"]
        print(f"resumed at step {st['step']} ({st['elapsed'] / 60:.1f} min done)", flush=True)
    renderer = importlib.import_module(args.renderer)
    res = ck["config"]["resolution"]
    held = Renders(renderer, res, 32, np.random.default_rng(10_000 + args.seed)).render(32)
    with torch.no_grad():
        held_means = torch.cat([vae.encode(held[i:i + 16])[:, :4] for i in range(0, len(held), 16)])
    base = psnr_of(vae, copy.deepcopy(ema), held, held_means) if st["start_psnr"] is None else st["start_psnr"]
    st["start_psnr"] = base
    print(f"held-out PSNR of the checkpoint's decoder: {base:.2f} dB", flush=True)
    buf = Renders(renderer, res, 2048, np.random.default_rng(20_000 + st["step"]))
    gen = torch.Generator().manual_seed(1 + st["step"])
    budget, run_start, base_elapsed, last_save = args.minutes * 60, time.time(), st["elapsed"], time.time()

    def save() -> None:
        st["elapsed"] = base_elapsed + time.time() - run_start
        torch.save({"model": dec.state_dict(), "ema": ema, "opt": opt.state_dict(), "state": st}, args.out + ".tmp")
        os.replace(args.out + ".tmp", args.out)

    while base_elapsed + time.time() - run_start < budget:
        frac = (base_elapsed + time.time() - run_start) / budget
        lr = args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * max(0.0, frac - 0.5) / 0.5))) if frac > 0.5 else args.lr
        for g in opt.param_groups:
            g["lr"] = lr
        if len(buf.items) < 64:
            buf.add(buf.render(64))
        buf.add(buf.render(2))
        x = buf.batch(args.batch if frac < 0.75 else max(2, args.batch // 4), gen)
        with torch.no_grad():
            mean = vae.encode(x)[:, :4]  # the full image's latent: the encoder sees the whole face
        if frac < 0.75:
            i, j = torch.randint(0, mean.shape[-1] - 16 + 1, (2,), generator=gen).tolist()
            f = res // mean.shape[-1]
            mean, x = mean[:, :, i:i + 16, j:j + 16], x[:, :, i * f:(i + 16) * f, j * f:(j + 16) * f]
        rec = vae.decode(mean)
        loss = (rec - x).abs().mean() + 0.5 * image_gradient_l1(rec, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        st["step"] += 1
        with torch.no_grad():
            for k, v in dec.state_dict().items():
                ema[k].lerp_(v, 1 - 0.999) if v.is_floating_point() else ema[k].copy_(v)
        if st["step"] % args.eval_every == 0:
            live = copy.deepcopy(dec.state_dict())
            p = psnr_of(vae, copy.deepcopy(ema), held, held_means)
            dec.load_state_dict(live)
            print(f"decoder step {st['step']} ({(base_elapsed + time.time() - run_start) / 60:.1f} min): loss {float(loss):.4f} lr {lr:.2e} held-out PSNR {p:.2f} dB (start {base:.2f})", flush=True)
        if time.time() - last_save > 300:
            save()
            last_save = time.time()
    save()
    p = psnr_of(vae, copy.deepcopy(ema), held, held_means)
    print(f"done: {st['step']} steps, held-out PSNR {p:.2f} dB (start {base:.2f})", flush=True)


if __name__ == "__main__":
    main()
