"""Golden values for the TypeScript DDIM scheduler (src/ddim-scheduler.ts).

diffusers is not packaged for Debian, so this recomputes DDIM from its published formulas in torch
float64 (Song et al. 2021, Eq. 12 with eta = 0; DragDiffusion's `inv_step` for inversion) with
Stable Diffusion 1.5's scheduler settings, and records:
  - alphas_cumprod (float64, and the float32 version diffusers computes) and the final alpha,
  - the 50-step timestep table,
  - single denoise / inversion steps on fixed random tensors,
  - a 35-step inversion then a 35-step denoise driven by a closed-form stand-in for the UNet
    (eps(x, t) = tanh(x)·t/1000 + 0.05·sin(t)), which checks the order of timesteps and the
    alpha picked at each end of the chain.

Run: /usr/bin/python3 packages/backends-diffusion/scripts/make_ddim_golden.py
Writes: packages/backends-diffusion/src/__fixtures__/ddim-golden.json
"""
import json
import math
import os

import torch

T_TRAIN = 1000
BETA_START, BETA_END = 0.00085, 0.012
STEPS = 50
STRENGTH = 0.7
STEPS_OFFSET = 1


def alphas_cumprod(dtype):
    # scaled_linear: betas are squares of a linear ramp between the square roots of the ends.
    betas = torch.linspace(BETA_START ** 0.5, BETA_END ** 0.5, T_TRAIN, dtype=dtype) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


AC = alphas_cumprod(torch.float64)
FINAL = AC[0].item()  # set_alpha_to_one = False
STEP_RATIO = T_TRAIN // STEPS


def alpha(t):
    return AC[t].item() if t >= 0 else FINAL


def timesteps():
    # "leading" spacing with steps_offset, as diffusers' DDIMScheduler.set_timesteps.
    return [int(round(i * STEP_RATIO)) + STEPS_OFFSET for i in range(STEPS)][::-1]


def ddim_step(eps, t, x):
    """x_t -> x_{t - ratio} (eta = 0)."""
    a_t, a_prev = alpha(t), alpha(t - STEP_RATIO)
    x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    return math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps, x0


def ddim_inverse_step(eps, t, x):
    """x_{t - ratio} -> x_t, eps predicted at t (DragDiffusion's inv_step)."""
    a_cur, a_next = alpha(min(t - STEP_RATIO, T_TRAIN - 1)), alpha(t)
    x0 = (x - math.sqrt(1 - a_cur) * eps) / math.sqrt(a_cur)
    return math.sqrt(a_next) * x0 + math.sqrt(1 - a_next) * eps, x0


def fake_eps(x, t):
    return torch.tanh(x) * (t / 1000.0) + 0.05 * math.sin(t)


def main():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, generator=g, dtype=torch.float64)
    eps = torch.randn(16, generator=g, dtype=torch.float64)
    ts = timesteps()
    n_inv = int(round(STRENGTH * STEPS))
    single = []
    for t in [981, 681, 21, 1]:
        prev, x0 = ddim_step(eps, t, x)
        nxt, x0i = ddim_inverse_step(eps, t, x)
        single.append({"t": t, "step": prev.tolist(), "step_x0": x0.tolist(), "inverse": nxt.tolist(), "inverse_x0": x0i.tolist()})
    # Inversion walks the table backwards for n_inv steps, then denoising resumes where it stopped.
    z = x.clone()
    inv_ts = ts[::-1][:n_inv]
    for t in inv_ts:
        z, _ = ddim_inverse_step(fake_eps(z, t), t, z)
    z_t = z.clone()
    den_ts = ts[STEPS - n_inv:]
    for t in den_ts:
        z, _ = ddim_step(fake_eps(z, t), t, z)
    out = {
        "num_train_timesteps": T_TRAIN,
        "beta_start": BETA_START,
        "beta_end": BETA_END,
        "steps": STEPS,
        "strength": STRENGTH,
        "alphas_cumprod": AC.tolist(),
        "alphas_cumprod_float32": alphas_cumprod(torch.float32).tolist(),
        "final_alpha_cumprod": FINAL,
        "timesteps": ts,
        "inversion_timesteps": inv_ts,
        "denoise_timesteps": den_ts,
        "x": x.tolist(),
        "eps": eps.tolist(),
        "single": single,
        "chain_z_t": z_t.tolist(),
        "chain_z_0": z.tolist(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "__fixtures__", "ddim-golden.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", os.path.normpath(path), "edit timestep", den_ts[0], "table", ts[:3], "...", ts[-2:])


if __name__ == "__main__":
    main()
