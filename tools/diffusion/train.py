#!/usr/bin/python3
"""Trains the embedded latent diffusion model on the project's face renderer: VAE, then UNet.

  tools/diffusion/run_training.sh --hours 3                 # the whole thing, in the background
  tools/diffusion/run_training.sh --hours 3 --resume        # continue after an interruption
  /usr/bin/python3 tools/diffusion/export.py embedded       # then export the EMA weights

One process, two stages inside one wall-time budget (`--hours`, total over all resumed runs):
1. VAE (first `--vae-frac` of the budget): L1 + ½ L1 of image gradients (keeps the renderer's
   one-pixel edges) + `--kl` x KL to N(0, I) (per element; small, as SD's VAE: it only keeps the
   latent scale bounded). Random `--vae-crop`² crops (the VAE is convolutional; 4x cheaper than
   full images) for the first 80 %, full 128² images at the end so the mid-block attention sees
   the exported resolution. Then `scaling_factor` = 1 / std of the latent means (SD's recipe;
   SD 1.5's is 0.18215).
2. UNet: epsilon prediction, SD's DDPM forward process (scaled_linear β 0.00085–0.012, 1000
   steps), text embedding = the text encoder on the empty prompt (trained too). Timesteps: 40 %
   uniform on [0, 1000), 40 % uniform on [0, 720) (inversion, drag and denoising of an edit all
   live below t = 681), 20 % normal around 681 (sd 30), so the drag timestep is seen most.
Images are rendered on the fly into a replay buffer (`--new-per-step` new ones each step; in the
UNet stage the buffer holds VAE latents). Adam, warm-up, cosine decay over the last 30 % of each
stage, EMA 0.999 of the weights (what is exported). Checkpoint (weights, EMA, Adam, stage, step,
elapsed time, RNG states, buffers are not saved) every `--ckpt-minutes` to
tools/.cache/diffusion/latest.pt; log in tools/.cache/diffusion/log.csv, with a held-out
evaluation (VAE PSNR on 32 fixed renders; UNet epsilon MSE at fixed t and noise) every
`--eval-every` steps.
"""
from __future__ import annotations

import argparse
import copy
import csv
import importlib
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "dataset"))
import networks as N  # noqa: E402

CACHE = os.path.join(ROOT, "tools", ".cache", "diffusion")
EVAL_T = [50, 250, 500, 681, 900]


def alphas_cumprod(n: int = 1000) -> torch.Tensor:
    """SD's scaled_linear schedule: betas = linspace(sqrt(0.00085), sqrt(0.012), n)^2."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, n, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def sample_timesteps(gen: torch.Generator, n: int) -> torch.Tensor:
    u = torch.rand(n, generator=gen)
    t_all = torch.randint(0, 1000, (n,), generator=gen)
    t_edit = torch.randint(0, 720, (n,), generator=gen)
    t_drag = (681 + 30 * torch.randn(n, generator=gen)).round().long().clamp(0, 999)
    return torch.where(u < 0.4, t_all, torch.where(u < 0.8, t_edit, t_drag))


def image_gradient_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    dx = lambda x: x[..., :, 1:] - x[..., :, :-1]  # noqa: E731
    dy = lambda x: x[..., 1:, :] - x[..., :-1, :]  # noqa: E731
    return (dx(a) - dx(b)).abs().mean() + (dy(a) - dy(b)).abs().mean()


class Renders:
    """Replay buffer of renders (uint8) or latents (float32), refreshed a few items per step."""

    def __init__(self, renderer, res: int, size: int, rng: np.random.Generator):
        self.r, self.res, self.size, self.rng = renderer, res, size, rng
        self.items: list[torch.Tensor] = []
        self.pos = 0

    def render(self, n: int) -> torch.Tensor:
        img = self.r.render(self.r.sample_theta(self.rng, n), res=self.res)  # [n,R,R,3] in [0,1]
        return torch.from_numpy(img).permute(0, 3, 1, 2).mul(2).sub(1).contiguous()

    def add(self, x: torch.Tensor) -> None:
        for item in x:
            if len(self.items) < self.size:
                self.items.append(item.clone())
            else:
                self.items[self.pos] = item.clone()
                self.pos = (self.pos + 1) % self.size

    def batch(self, n: int, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(self.items), (n,), generator=gen)
        return torch.stack([self.items[i] for i in idx])


def lr_at(base: float, frac: float, step: int, warmup: int = 200) -> float:
    """Warm-up, flat, then cosine decay to 5 % over the last 30 % of the stage's time."""
    w = min(1.0, (step + 1) / warmup)
    if frac < 0.7:
        return base * w
    p = min(1.0, (frac - 0.7) / 0.3)
    return base * w * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm, 1 - decay)


@torch.no_grad()
def eval_vae(vae, images: torch.Tensor) -> tuple[float, float]:
    vae.eval()
    mean = vae.encode(images)[:, :4]
    rec = vae.decode(mean).clamp(-1, 1)
    mse = ((rec - images) / 2).square().mean(dim=(1, 2, 3))
    vae.train()
    return float((-10 * torch.log10(mse)).mean()), float(mean.std())


@torch.no_grad()
def eval_unet(model, latents: torch.Tensor, ac: torch.Tensor) -> float:
    gen = torch.Generator().manual_seed(123)
    ehs = model.text_encoder(model.text_encoder.empty_prompt_ids())[0]
    total = 0.0
    for t in EVAL_T:
        noise = torch.randn(latents.shape, generator=gen)
        a = ac[t]
        x = a.sqrt() * latents + (1 - a).sqrt() * noise
        pred = model.unet(x, torch.full((latents.shape[0],), float(t)), ehs.expand(latents.shape[0], -1, -1))
        total += float((pred - noise).square().mean())
    return total / len(EVAL_T)


def save(path: str, state: dict) -> None:
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=3.0, help="total wall-time budget, both stages, all resumed runs")
    ap.add_argument("--vae-frac", type=float, default=0.22, help="share of the budget for the VAE")
    ap.add_argument("--config", default="embedded", choices=sorted(N.CONFIGS))
    ap.add_argument("--renderer", default="faces", help="module in tools/dataset with render(theta, res) and sample_theta(rng, n)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: see README, 2 was 7-17x slower on the shared machine)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--vae-batch", type=int, default=8)
    ap.add_argument("--vae-crop", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-4, help="UNet learning rate")
    ap.add_argument("--vae-lr", type=float, default=5e-4)
    ap.add_argument("--kl", type=float, default=1e-4)
    ap.add_argument("--new-per-step", type=int, default=2)
    ap.add_argument("--buffer", type=int, default=4096)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-n", type=int, default=32, help="held-out renders for the evaluations")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--stop-after-minutes", type=float, default=0.0, help="checkpoint and exit after this long (this run only)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--out", default=CACHE)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "latest.pt")
    renderer = importlib.import_module(args.renderer)
    cfg = N.CONFIGS[args.config]
    res = cfg["resolution"]

    torch.manual_seed(args.seed)
    model = N.LatentDiffusion(cfg)
    ema = copy.deepcopy(model).requires_grad_(False)
    st = {"stage": "vae", "step": 0, "stage_step": 0, "elapsed": 0.0, "vae_elapsed": 0.0, "scaling_factor": None}
    opt = torch.optim.Adam(model.vae.parameters(), lr=args.vae_lr, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.resume:
        if not os.path.exists(ckpt_path):
            raise SystemExit(f"--resume: no checkpoint at {ckpt_path}")
        ck = torch.load(ckpt_path, map_location="cpu")
        if ck["config"] != cfg or ck["renderer"] != args.renderer:
            raise SystemExit(f"--resume: the checkpoint was made with config/renderer {ck['config_name']}/{ck['renderer']}; pass the same options")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        st = ck["state"]
        if st["stage"] == "unet":
            opt = make_unet_opt(model, args)
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        rng = np.random.default_rng()
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed at stage {st['stage']} step {st['step']} ({st['elapsed'] / 60:.1f} min done)", flush=True)

    held = Renders(renderer, res, args.eval_n, np.random.default_rng(10_000 + args.seed)).render(args.eval_n)  # fixed held-out set
    budget = args.hours * 3600
    vae_budget = args.vae_frac * budget
    buf = Renders(renderer, res, args.buffer, rng)
    ac = alphas_cumprod()
    log_path = os.path.join(args.out, "log.csv")
    new_log = not os.path.exists(log_path) or not args.resume
    logf = open(log_path, "w" if new_log else "a", newline="")
    log = csv.writer(logf)
    if new_log:
        log.writerow(["stage", "step", "elapsed_s", "lr", "loss", "eval", "extra", "step_s"])
    run_start = time.time()
    base_elapsed = st["elapsed"]
    last_ckpt = time.time()
    avg = None

    def checkpoint():
        st["elapsed"] = base_elapsed + time.time() - run_start
        save(ckpt_path, {"config": cfg, "config_name": args.config, "renderer": args.renderer, "model": model.state_dict(),
                         "ema": ema.state_dict(), "opt": opt.state_dict(), "state": st, "gen": gen.get_state(),
                         "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                         "scaling_factor": st["scaling_factor"], "step": st["step"], "stage": st["stage"]})

    while True:
        elapsed = base_elapsed + time.time() - run_start
        if elapsed >= budget:
            break
        if args.stop_after_minutes and time.time() - run_start >= args.stop_after_minutes * 60:
            checkpoint()
            print(f"stopped after {args.stop_after_minutes} min at stage {st['stage']} step {st['step']}; --resume continues", flush=True)
            return
        t0 = time.time()
        if st["stage"] == "vae" and elapsed >= vae_budget:
            finish_vae(model, ema, held, st, buf, elapsed)
            opt = make_unet_opt(model, args)
            buf = Renders(renderer, res, args.buffer, rng)
            checkpoint()
            last_ckpt = time.time()
            avg = None
            continue
        if st["stage"] == "vae":
            frac = elapsed / vae_budget
            lr = lr_at(args.vae_lr, frac, st["stage_step"])
            if len(buf.items) < 64:
                buf.add(buf.render(64))
            buf.add(buf.render(args.new_per_step))
            x = buf.batch(args.vae_batch, gen)
            if frac < 0.8:
                c = args.vae_crop
                i, j = torch.randint(0, res - c + 1, (2,), generator=gen).tolist()
                x = x[:, :, i:i + c, j:j + c]
            else:
                x = x[: max(2, args.vae_batch // 4)]  # full images cost 4x a crop
            p = model.vae.encode(x)
            mean, logvar = p[:, :4], p[:, 4:].clamp(-30, 20)
            z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=gen)
            rec = model.vae.decode(z)
            kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).mean()
            loss = (rec - x).abs().mean() + 0.5 * image_gradient_l1(rec, x) + args.kl * kl
            params = model.vae.parameters()
        else:
            frac = (elapsed - st["vae_elapsed"]) / max(1.0, budget - st["vae_elapsed"])
            lr = lr_at(args.lr, frac, st["stage_step"])
            if len(buf.items) < 64:
                add_latents(buf, ema, st["scaling_factor"], 64)
            add_latents(buf, ema, st["scaling_factor"], args.new_per_step)
            z0 = buf.batch(args.batch, gen)
            t = sample_timesteps(gen, args.batch)
            noise = torch.randn(z0.shape, generator=gen)
            a = ac[t][:, None, None, None]
            xt = a.sqrt() * z0 + (1 - a).sqrt() * noise
            ehs = model.text_encoder(model.text_encoder.empty_prompt_ids())[0]
            pred = model.unet(xt, t.float(), ehs.expand(args.batch, -1, -1))
            loss = F.mse_loss(pred, noise)
            params = list(model.unet.parameters()) + list(model.text_encoder.parameters())
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema_update(ema, model, args.ema if st["stage_step"] > 100 else 0.0)
        st["step"] += 1
        st["stage_step"] += 1
        step_s = time.time() - t0
        avg = float(loss) if avg is None else 0.98 * avg + 0.02 * float(loss)
        ev, extra = "", ""
        if st["stage_step"] % args.eval_every == 0:
            if st["stage"] == "vae":
                psnr, std = eval_vae(ema.vae, held)
                ev, extra = f"{psnr:.2f}", f"latent_std={std:.4f}"
            else:
                ev = f"{eval_unet(ema, latents_of(ema, held, st['scaling_factor']), ac):.5f}"
            print(f"{st['stage']} step {st['stage_step']} ({elapsed / 60:.1f} min): loss {avg:.4f} eval {ev} {extra} "
                  f"{step_s:.2f} s/step", flush=True)
        log.writerow([st["stage"], st["stage_step"], f"{elapsed:.1f}", f"{lr:.2e}", f"{float(loss):.5f}", ev, extra, f"{step_s:.3f}"])
        logf.flush()
        if time.time() - last_ckpt >= args.ckpt_minutes * 60:
            checkpoint()
            last_ckpt = time.time()
    if st["stage"] == "vae":  # budget ran out inside the VAE stage (tiny smoke budgets)
        finish_vae(model, ema, held, st, buf, base_elapsed + time.time() - run_start)
    checkpoint()
    print(f"done: {st['step']} steps, {(base_elapsed + time.time() - run_start) / 60:.1f} min", flush=True)


def make_unet_opt(model, args):
    params = list(model.unet.parameters()) + list(model.text_encoder.parameters())
    return torch.optim.Adam(params, lr=args.lr, betas=(0.9, 0.99))


@torch.no_grad()
def finish_vae(model, ema, held, st, buf, elapsed: float) -> None:
    """Freeze the EMA VAE (what is exported) into the model and fix SD's latent scaling factor."""
    model.vae.load_state_dict(ema.vae.state_dict())
    model.vae.requires_grad_(False).eval()
    ema.vae.eval()
    imgs = torch.cat([held, buf.render(96)])
    means = torch.cat([ema.vae.encode(imgs[i:i + 16])[:, :4] for i in range(0, len(imgs), 16)])
    st["scaling_factor"] = float(1.0 / means.std())
    psnr, _ = eval_vae(ema.vae, held)
    model.vae.eval()
    st["vae_psnr"] = psnr
    st["stage"], st["stage_step"] = "unet", 0
    st["vae_elapsed"] = elapsed
    print(f"VAE done: held-out PSNR {psnr:.2f} dB, scaling_factor {st['scaling_factor']:.5f}", flush=True)


@torch.no_grad()
def latents_of(model, imgs: torch.Tensor, scale: float) -> torch.Tensor:
    return torch.cat([model.vae.encode(imgs[i:i + 16])[:, :4] for i in range(0, len(imgs), 16)]) * scale


@torch.no_grad()
def add_latents(buf: Renders, ema, scale: float, n: int) -> None:
    buf.add(latents_of(ema, buf.render(n), scale))


if __name__ == "__main__":
    main()
