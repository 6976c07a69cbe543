#!/usr/bin/python3
"""Evidence for a trained checkpoint, in torch: a DDIM sample grid and DDIM inversion round trips.

  /usr/bin/python3 tools/diffusion/evaluate.py [--checkpoint tools/.cache/diffusion/latest.pt]
      [--grid docs/images/diffusion-samples.png] [--n-held 16] [--photos]

- 16 samples: DDIM, 50 steps, eta 0, from seeded N(0, I) latents, empty prompt.
- Inversion as DragDiffusion does it: latent = VAE mean x scaling_factor; DDIM inversion over the
  first 35 of 50 steps (t = 1, 21, ..., 681), then DDIM denoising from t = 681 back to 0;
  PSNR of the decoded result against the input, on held-out renders (seed 20 000+) and, with
  --photos, on skimage's public-domain photographs (astronaut, chelsea, coffee; centre crop).
  The VAE-only PSNR (encode, decode) is reported beside it, since it bounds the round trip.
Writes PNGs to --out (default tools/.cache/diffusion/eval) and prints a JSON summary.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "dataset"))
import networks as N  # noqa: E402
from train import alphas_cumprod  # noqa: E402

STEPS, INVERT = 50, 35


def ddim_timesteps() -> list[int]:
    """diffusers' DDIM 'leading' spacing with steps_offset 1: [981, 961, ..., 1]."""
    ratio = 1000 // STEPS
    return [i * ratio + 1 for i in range(STEPS)][::-1]


def eps(model, ehs, x, t: int) -> torch.Tensor:
    return model.unet(x, torch.tensor([float(t)]), ehs.expand(x.shape[0], -1, -1))


@torch.no_grad()
def denoise(model, ehs, ac, x, timesteps) -> torch.Tensor:
    ratio = 1000 // STEPS
    for t in timesteps:
        e = eps(model, ehs, x, t)
        a, prev = ac[t], t - ratio
        a_prev = ac[prev] if prev >= 0 else ac[0]  # set_alpha_to_one = False
        x0 = (x - (1 - a).sqrt() * e) / a.sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * e
    return x


@torch.no_grad()
def invert(model, ehs, ac, x, timesteps_up) -> torch.Tensor:
    ratio = 1000 // STEPS
    for t_next in timesteps_up:
        t = t_next - ratio
        e = eps(model, ehs, x, t_next)  # DragDiffusion evaluates the UNet at the target step
        a = ac[t] if t >= 0 else ac[0]
        a_next = ac[t_next]
        x0 = (x - (1 - a).sqrt() * e) / a.sqrt()
        x = a_next.sqrt() * x0 + (1 - a_next).sqrt() * e
    return x


def psnr(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    mse = ((a.clamp(-1, 1) - b) / 2).square().mean(dim=(1, 2, 3))
    return [float(v) for v in -10 * torch.log10(mse)]


def to_png(x: torch.Tensor, path: str, cols: int) -> None:
    img = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    n, h, w, _ = img.shape
    rows = (n + cols - 1) // cols
    grid = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i in range(n):
        grid[(i // cols) * h:(i // cols + 1) * h, (i % cols) * w:(i % cols + 1) * w] = img[i]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    Image.fromarray(grid).save(path)


def photos(res: int) -> torch.Tensor:
    from skimage import data
    out = []
    for name in ("astronaut", "chelsea", "coffee"):
        im = Image.fromarray(getattr(data, name)())
        s = min(im.size)
        im = im.crop(((im.width - s) // 2, (im.height - s) // 2, (im.width + s) // 2, (im.height + s) // 2))
        out.append(np.asarray(im.resize((res, res), Image.LANCZOS), np.float32) / 127.5 - 1)
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).contiguous()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(ROOT, "tools", ".cache", "diffusion", "latest.pt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tools", ".cache", "diffusion", "eval"))
    ap.add_argument("--grid", default="", help="also write the 16-sample grid here (e.g. docs/images/diffusion-samples.png)")
    ap.add_argument("--n-held", type=int, default=16)
    ap.add_argument("--n-samples", type=int, default=16)
    ap.add_argument("--photos", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ck = torch.load(args.checkpoint, map_location="cpu")
    if ck["state"]["stage"] != "unet" or ck["scaling_factor"] is None:
        raise SystemExit(f"{args.checkpoint}: the VAE stage is not finished; train longer")
    model = N.LatentDiffusion(ck["config"]).eval()
    model.load_state_dict(ck["ema"])
    cfg, sf, ac = ck["config"], ck["scaling_factor"], alphas_cumprod()
    R = cfg["resolution"]
    h = R // 2 ** (len(cfg["vae"]["channels"]) - 1)
    with torch.no_grad():
        ehs = model.text_encoder(model.text_encoder.empty_prompt_ids())[0]
    ts = ddim_timesteps()
    assert ts[15] == 681 and ts[STEPS - INVERT] == 681, ts  # DragDiffusion's drag timestep
    summary = {"checkpoint": args.checkpoint, "step": ck["step"], "scaling_factor": sf}

    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        z = torch.randn(args.n_samples, cfg["latent_channels"], h, h, generator=gen)
        samples = model.vae.decode(denoise(model, ehs, ac, z, ts) / sf)
    to_png(samples, os.path.join(args.out, "samples.png"), 4)
    if args.grid:
        to_png(samples, args.grid, 4)

    renderer = importlib.import_module(ck.get("renderer", "faces"))
    rng = np.random.default_rng(20_000)
    held = torch.from_numpy(renderer.render(renderer.sample_theta(rng, args.n_held), res=R)).permute(0, 3, 1, 2) * 2 - 1
    sets = {"held_out_renders": held}
    if args.photos:
        sets["photos"] = photos(R)
    for name, imgs in sets.items():
        with torch.no_grad():
            lat = model.vae.encode(imgs)[:, :4] * sf
            vae_rec = model.vae.decode(lat / sf)
            zt = invert(model, ehs, ac, lat, ts[::-1][:INVERT])
            rec = model.vae.decode(denoise(model, ehs, ac, zt, ts[STEPS - INVERT:]) / sf)
        p, pv = psnr(rec, imgs), psnr(vae_rec, imgs)
        summary[name] = {"inversion_psnr_mean": float(np.mean(p)), "inversion_psnr": p,
                         "vae_psnr_mean": float(np.mean(pv))}
        to_png(torch.cat([imgs, vae_rec, rec]), os.path.join(args.out, f"inversion-{name}.png"), len(imgs))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
