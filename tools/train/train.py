"""Train the default generator by regression on renderer parameters.

z ~ N(0, I) of dimension P (the renderer's parameter count); theta = erf(z / sqrt(2)) is then
uniform in [-1, 1]^P and the target image is faces.render(theta). The generator
G(mapping(z)) is fitted with a multi-scale L1 loss. Because the target is a smooth function of z,
W is a smooth, disentangled-ish code of the face, which is what point dragging needs.

Single process, one torch thread (the machine is shared). Images are rendered on the fly into a
growing replay buffer (a few new images per step) so rendering costs a fraction of each step.
Checkpoints (with optimizer state) every few minutes; --resume continues from the latest.

    /usr/bin/python3 tools/train/train.py --hours 2.0 [--resume]
"""

from __future__ import annotations

import argparse
import copy
import csv
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "dataset"))
import faces  # noqa: E402
import faces2  # noqa: E402
import faces2g4  # noqa: E402
import landmarks2  # noqa: E402
from kp_mlp_trainer import KeypointMLPTrainer  # noqa: E402
from networks import CONFIGS, POSE_NAMES, Generator  # noqa: E402

DATA = dict(faces=faces, faces2=faces2, faces2g4=faces2g4)

CACHE = os.path.join(HERE, "..", ".cache")


def tex_columns(net) -> list[int]:
    """Columns of the renderer's parameters that a network's texture head gives (Generator.texture_names)."""
    return [faces2._PART_NAMES.index(n) for n in net.texture_names()]


# ... and of its pose head (networks with hair strands)
POSE_COLUMNS = [faces2._PART_NAMES.index(n) for n in POSE_NAMES]


def _erf(x: np.ndarray) -> np.ndarray:
    return torch.erf(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def render_z(z: np.ndarray, data=faces, res: int | None = None) -> np.ndarray:
    """z [B,P] -> uint8 [B,3,R,R] of the renderer module `data`."""
    img = data.render(_erf(z / math.sqrt(2.0)), **({"res": res} if res else {}))
    return data.to_uint8(img).transpose(0, 3, 1, 2).copy()


def to_float(u8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(u8).float().div_(127.5).sub_(1.0)


def seed_z(seed: int, z_dim: int) -> torch.Tensor:
    """The sampling distribution of the shipped model: z ~ N(0, I) from torch's generator."""
    return torch.randn(1, z_dim, generator=torch.Generator().manual_seed(seed))


def grid(imgs: torch.Tensor, n: int = 4) -> np.ndarray:
    x = ((imgs.clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).numpy()  # [N,3,H,W]
    N, C, H, W = x.shape
    x = x[: n * n].reshape(n, n, C, H, W).transpose(0, 3, 1, 4, 2).reshape(n * H, n * W, C)
    return x


def save_png(arr: np.ndarray, path: str) -> None:
    from PIL import Image

    Image.fromarray(arr).save(path)


def loss_fn(out: torch.Tensor, tgt: torch.Tensor, edge_weight: float = 0.0, l2_weight: float = 0.0):
    diff = (out - tgt).abs()
    l1 = diff.mean()
    o2, t2 = F.avg_pool2d(out, 2), F.avg_pool2d(tgt, 2)
    o4, t4 = F.avg_pool2d(o2, 2), F.avg_pool2d(t2, 2)
    ms = (o2 - t2).abs().mean() + (o4 - t4).abs().mean()
    # image-gradient difference: keeps edges sharp instead of averaging them out
    gd = ((out[..., 1:, :] - out[..., :-1, :]) - (tgt[..., 1:, :] - tgt[..., :-1, :])).abs().mean() + (
        (out[..., :, 1:] - out[..., :, :-1]) - (tgt[..., :, 1:] - tgt[..., :, :-1])
    ).abs().mean()
    loss = l1 + 0.5 * ms + 0.5 * gd
    if l2_weight > 0:
        # L1's optimum is the median: a small part whose place the net knows only roughly (an eye
        # within +-2 px) is left out altogether, and then nothing teaches it the place. The squared
        # error's optimum is the mean, a faint blob where the part may be, whose gradient does.
        loss = loss + l2_weight * ((out - tgt).square().mean() + (o4 - t4).square().mean())
    if edge_weight > 0:
        # L1 weighted towards detailed regions of the target (eyes, mouth, brows are small but
        # high-contrast): weight = dilated high-pass energy of the target, mean 1 per image
        with torch.no_grad():
            hp = (tgt - F.avg_pool2d(tgt, 5, 1, 2, count_include_pad=False)).abs().sum(1, keepdim=True)
            m = F.max_pool2d(hp, 5, 1, 2)
            m = m / (m.mean(dim=[2, 3], keepdim=True) + 1e-6)
        loss = loss + edge_weight * (diff * m).mean()
    return loss, l1


def make_adam(G: torch.nn.Module, lr: float, mapping_lr_scale: float) -> torch.optim.Adam:
    """Adam with the mapping network in its own group. With equalised learning rates a factor on
    a group's lr is the same as changing that layer's lr_mul (Adam's step does not depend on the
    gradient's scale), so the weights keep their format and export.py needs no change."""
    # the displacement head learns with the mapping: both only turn z into geometry
    mapping = list(G.mapping.parameters()) + (list(G.geo.parameters()) if getattr(G, "warp_grid", 0) else [])
    mapping += list(G.kp.parameters()) if getattr(G, "keypoints", 0) else []
    ids = {id(p) for p in mapping}
    # the nonlinear keypoint head has its own optimiser (kp_mlp_trainer)
    ids |= {id(p) for p in G.kp_mlp.parameters()} if getattr(G, "kp_mlp", None) is not None else set()
    rest = [p for p in G.parameters() if id(p) not in ids]
    groups = [dict(params=mapping, lr_scale=mapping_lr_scale), dict(params=rest, lr_scale=1.0)]
    return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.99))


def _state_copy(state: dict) -> dict:
    """One parameter's saved Adam state, its tensors cloned (the checkpoint stays untouched)."""
    return {k: (v.clone() if torch.is_tensor(v) else v) for k, v in state.items()}


def load_adam_state(opt: torch.optim.Adam, saved: dict, G: torch.nn.Module) -> None:
    """Loads Adam moments parameter by parameter, so a checkpoint saved with one group (before
    --mapping-lr-scale: the order of G.parameters()) resumes into the two groups of make_adam."""
    one_group = len(saved["param_groups"]) == 1
    params = list(G.parameters()) if one_group else [p for g in opt.param_groups for p in g["params"]]
    order = [i for g in saved["param_groups"] for i in g["params"]]
    if len(order) != len(params):
        sys.exit("error: the checkpoint's optimiser has another number of parameters; use the same --config")
    for p, i in zip(params, order):
        if i in saved["state"]:
            opt.state[p] = _state_copy(saved["state"][i])


def carry_adam_state(opt: torch.optim.Adam, ck: dict, G: torch.nn.Module) -> int:
    """--init-from: Adam moments of the parameters the two networks share, matched by name (a fresh
    Adam on a trained network takes its first steps at full size in every direction)."""
    G0 = Generator(**ck["config"])
    opt0 = make_adam(G0, 1.0, 1.0)
    name_of = {id(p): n for n, p in G0.named_parameters()}
    saved_order = [name_of[id(p)] for g in opt0.param_groups for p in g["params"]]
    saved_ids = [i for g in ck["opt"]["param_groups"] for i in g["params"]]
    if len(saved_ids) != len(saved_order):
        return 0
    params = dict(G.named_parameters())
    n = 0
    for name, i in zip(saved_order, saved_ids):
        if name in params and i in ck["opt"]["state"] and ck["opt"]["state"][i]["exp_avg"].shape == params[name].shape:
            opt.state[params[name]] = _state_copy(ck["opt"]["state"][i])
            n += 1
    return n


def widen_keypoints(state: dict, net: torch.nn.Module) -> dict:
    """--init-from a network with fewer keypoints (faces2wk -> faces2wk2): the old blobs keep their
    projection, the new ones start at zero (they add nothing until trained), and the head is left
    out (the network's own zero-start head, or --kp-fit-init's least-squares fit, places them)."""
    k_new = getattr(net, "keypoints", 0)
    if not k_new or "kp_proj" not in state or state["kp_proj"].shape[1] == k_new:
        return state
    old = state["kp_proj"]
    if old.shape[1] > k_new:
        sys.exit(f"error: --init-from has {old.shape[1]} keypoints, --config {k_new}; only widening is supported")
    out = {k: v for k, v in state.items() if not k.startswith("kp.")}
    out["kp_proj"] = torch.cat([old, torch.zeros(old.shape[0], k_new - old.shape[1])], 1)
    return out


def widen_channels(state: dict, fresh: dict) -> dict:
    """--init-from a network with fewer channels in some blocks (faces2wk2 -> faces2wk2t): each
    widened tensor is the new network's own initialisation with the old one in its leading slice,
    and the new input channels of every convolution start at zero, so the new channels add nothing
    (nor change any demodulation) until trained: the widened network draws the same image. Old
    convolution weights are rescaled for their layer's larger fan-in (equalised learning rate)."""
    out = dict(state)
    for key, old in state.items():
        new = fresh.get(key)
        if new is None or new.shape == old.shape:
            continue
        if new.dim() != old.dim() or any(a < b for a, b in zip(new.shape, old.shape)):
            sys.exit(f"error: --init-from's {key} {tuple(old.shape)} does not fit {tuple(new.shape)}; only widening is supported")
        t = new.clone()
        if t.dim() == 4:  # a convolution [cout, cin, k, k]: nothing flows in from the new channels,
            t[:, old.shape[1]:] = 0
            # and the stored weights scale with the fan-in's equalised-lr gain 1/sqrt(cin k k)
            old = old * math.sqrt(new.shape[1] / old.shape[1])
        t[tuple(slice(0, n) for n in old.shape)] = old
        out[key] = t
    return out


def load_widened(net: torch.nn.Module, state: dict, fresh: dict, source: str) -> list[str]:
    """Loads a checkpoint's state into a network with the same or more blobs, channels or heads
    (--init-from, fit_probe --init): widened as above, layers it lacks keep `fresh`'s start. Exits
    with a one-line error when the state is not such a network's. Returns the keys left new."""
    missing, unexpected = net.load_state_dict(widen_channels(widen_keypoints(state, net), fresh), strict=False)
    if unexpected or any(not k.startswith(("geo.", "mapping.skip.", "pos.", "kp.", "kp_mlp.", "kp_proj", "kp_style", "tex.", "tex_proj", "pose.")) for k in missing):
        sys.exit(f"error: {source} does not fit this --config (missing {missing}, unexpected {unexpected})")
    return missing


def fit_keypoint_head(G, G_ema, rng: np.random.Generator, n: int = 4096, noise: float = 0.0) -> float:
    """Sets the keypoint head of both generators to the least-squares fit of the scene points on
    their own mapping's w (--kp-fit-init once, --kp-refit-every N every N steps). Returns the raw
    generator's fit error on 512 further draws, L1 in feature pixels.

    noise > 0 (--kp-noise) fits as if each w carried isotropic Gaussian noise of that standard
    deviation per coordinate, i.e. ridge regression with n * noise^2 on the weights (not the bias):
    the mapping's w fill only z_dim of the w_dim dimensions, so a plain fit is free to answer wildly
    off them, where a drag's W+ goes (tools/README.md, "Next session" item 3)."""
    z = torch.from_numpy(rng.standard_normal((n + 512, G.z_dim)).astype(np.float32))
    kp = torch.from_numpy(landmarks2.scene_keypoints(torch.erf(z / math.sqrt(2.0)).numpy(), G.keypoints)).reshape(len(z), -1)
    errs = []
    with torch.no_grad():
        for net in (G, G_ema):  # each with its own mapping
            w = net.mapping(z)
            # with a nonlinear part (faces2wk2thstxsm) the linear head fits what that part leaves
            rest = kp - net.kp_mlp(w) if getattr(net, "kp_mlp", None) is not None else kp
            a = torch.cat([w, torch.ones(len(z), 1)], 1)
            sol = ridge_solve(a[:n].double(), rest[:n].double(), n * noise**2).float()  # [w_dim + 1, 2K]
            net.kp.set_solution(sol)
            errs.append(((a[n:] @ sol - rest[n:]).abs().mean() * (G.feature_res / 2)).item())
    return errs[0]


def fit_latent_head(nets: list, head: str, cols: list[int], rng: np.random.Generator, n: int = 4096, noise: float = 0.0) -> float:
    """Sets a latent head (networks with bg_waves: "tex" or "pose", Generator._latent_head) of each
    generator to the least-squares fit of the renderer's latents of parameters cols on its own w,
    with fit_keypoint_head's ridge for noise > 0. Returns the first generator's error on 512
    further draws, mean absolute, in the parameters' [-1, 1] units."""
    z = torch.from_numpy(rng.standard_normal((n + 512, nets[0].z_dim)).astype(np.float32))
    zt = z[:, cols]
    errs = []
    with torch.no_grad():
        for net in nets:
            lin = getattr(net, head)
            a = torch.cat([net.mapping(z), torch.ones(len(z), 1)], 1)
            sol = ridge_solve(a[:n].double(), zt[:n].double(), n * noise**2).float()  # [w_dim + 1, len(cols)]
            lin.set_solution(sol)
            errs.append((net._latent_head(lin, a[n:, :-1]) - torch.erf(zt[n:] / math.sqrt(2.0))).abs().mean().item())
    return errs[0]


def fit_texture_head(nets: list, rng: np.random.Generator, n: int = 4096) -> float:
    """The texture head: a plain fit (no ridge: a drag does not reach the W+ row it reads,
    Generator.synthesis)."""
    return fit_latent_head(nets, "tex", tex_columns(nets[0]), rng, n)


def fit_pose_head(nets: list, rng: np.random.Generator, n: int = 4096, noise: float = 0.0) -> float:
    """The pose head (hair strands): row 0, which drags change, so with the keypoints' ridge."""
    return fit_latent_head(nets, "pose", POSE_COLUMNS, rng, n, noise)


def init_kp_mlp(G, G_ema, trainer: KeypointMLPTrainer, args) -> float:
    """A fresh nonlinear keypoint head (--init-from a network without one): standardisation from
    G's mapping, --kp-mlp-init-steps of its loss with the linear part refitted every 500, the same
    head in G_ema, both linear parts refitted. Returns fit_keypoint_head's error (feature px)."""
    trainer.set_stats(G)
    rng = np.random.default_rng(args.seed + 8)
    for i in range(args.kp_mlp_init_steps):
        if i % 500 == 499:
            fit_keypoint_head(G, G_ema, rng, 2048, noise=args.kp_noise)
        trainer.step(G, args.kp_noise, 0.5 * (1 + math.cos(math.pi * i / max(args.kp_mlp_init_steps, 1))))
    G_ema.kp_mlp.load_state_dict(G.kp_mlp.state_dict())
    return fit_keypoint_head(G, G_ema, rng, noise=args.kp_noise)


def ridge_solve(a: torch.Tensor, b: torch.Tensor, lam: float) -> torch.Tensor:
    """argmin_x |a x - b|^2 + lam |x[:-1]|^2 (the last column of a is the bias's ones)."""
    if lam <= 0:
        return torch.linalg.lstsq(a, b).solution
    reg = torch.eye(a.shape[1], dtype=a.dtype) * lam
    reg[-1, -1] = 0.0
    return torch.linalg.solve(a.T @ a + reg, a.T @ b)


def start_half_res(G: Generator, G_ema: Generator) -> None:
    """Zero the top block's toRGB in both generators: the image is then up2 of the blocks below's
    (Generator.synthesis is a sum of upsampled toRGB outputs), so the half-resolution phase of
    --half-res hands over to the top block without a jump, and the top block learns only the
    detail the lower blocks' image lacks."""
    with torch.no_grad():
        for net in (G, G_ema):
            net.blocks[-1].torgb.weight.zero_()
            net.blocks[-1].torgb.bias.zero_()


def held_out_set(data, cfg: dict) -> tuple[np.ndarray, torch.Tensor]:
    """The 32 held-out latents (never trained on) and their renders: the 'held-out L1' of the logs."""
    z = np.random.default_rng(12345).standard_normal((32, cfg["z_dim"])).astype(np.float32)
    return z, to_float(render_z(z, data, cfg["resolution"]))


def lr_at(progress: float, base: float, warmup: float) -> float:
    if progress < warmup:
        return base * max(progress / warmup, 0.02)
    if progress < 0.7:
        return base
    p = min((progress - 0.7) / 0.3, 1.0)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=2.0, help="training wall time budget (schedule and stop)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument(
        "--mapping-lr-scale", type=float, default=1.0,
        help="learning-rate factor of the mapping network's parameters (its lr_mul of 0.1 is the GAN "
        "setting; 10 gives it the synthesis layers' effective rate, see tools/README.md)",
    )
    ap.add_argument("--buffer", type=int, default=60000, help="replay buffer capacity (images)")
    ap.add_argument("--new-per-step", type=int, default=4, help="freshly rendered images per step")
    ap.add_argument("--ckpt-every", type=float, default=300.0, help="seconds")
    ap.add_argument("--sample-every", type=float, default=900.0, help="seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--edge-weight", type=float, default=0.0, help="weight of the detail-weighted L1 term")
    ap.add_argument("--l2-weight", type=float, default=0.0, help="weight of a squared-error term (full and 1/4 scale)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", choices=sorted(DATA), default="faces", help="renderer module in tools/dataset")
    ap.add_argument("--config", choices=sorted(CONFIGS), default="default", help="network size (networks.CONFIGS)")
    ap.add_argument("--out", default=CACHE, help="folder for checkpoints/, samples/ and train_log.csv")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: only the time budget)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument(
        "--init-from", default=None,
        help="start (not resume) from another run's checkpoint: its weights and EMA, layers this --config adds "
        "keep their initialisation; fresh optimiser, step 0 (e.g. faces2 -> faces2w)",
    )
    ap.add_argument(
        "--teacher-warp", type=float, default=0.0,
        help="fraction of each batch warped with the renderer's own control offsets instead of the head's "
        "(networks with warp_grid): the synthesis then learns a sharp scene while the head learns from --geo-weight",
    )
    ap.add_argument(
        "--geo-weight", type=float, default=1.0,
        help="weight of the L1 between the network's displacement-field offsets and the renderer's (networks with warp_grid)",
    )
    ap.add_argument(
        "--kp-detach", action="store_true",
        help="keypoint head (faces2wk) trained by its own loss only, on a detached w: that loss cannot move the mapping "
        "every W+ row reads, and the image loss cannot move the blobs off the scene points",
    )
    ap.add_argument(
        "--kp-fit-init", action="store_true",
        help="with --init-from: start the keypoint head at the least-squares fit of the scene points on the mapping's w",
    )
    ap.add_argument(
        "--kp-refit-every", type=int, default=0,
        help="keypoint head (faces2wk) not trained by gradient: refitted by least squares on the current mapping every N steps "
        "(Adam at the mapping's rate moved it ~0.3 feature px per step)",
    )
    ap.add_argument(
        "--kp-noise", type=float, default=0.0,
        help="the keypoint head's least-squares fits as if w carried isotropic noise of this std per coordinate (ridge): "
        "0.1 makes the head answer a random step off the mapping's w as it answers a step towards other seeds' w "
        "(tools/train/kp_head_check.py); 0 = the plain fit of the runs before 7 Dec 2026",
    )
    ap.add_argument(
        "--half-res", type=float, default=0.0,
        help="fraction of the wall budget (from scratch only) that trains the blocks below the top one on targets "
        "average-pooled to half resolution: a step there costs ~0.55x a full one (tools/README.md)",
    )
    ap.add_argument(
        "--tex-weight", type=float, default=1.0,
        help="networks with background waves: weight of the L1 of their head's angle and phase to the renderer's "
        "(with --kp-refit-every the head is refitted, and this loss teaches the mapping to carry them)",
    )
    ap.add_argument(
        "--tex-refit-every", type=int, default=2,
        help="steps between least-squares refits of the waves' head (the EMA's: every --kp-refit-every)",
    )
    ap.add_argument(
        "--kp-mlp-lr", type=float, default=0.03,
        help="networks with a nonlinear keypoint head (faces2wk2thstxsm): its own Adam's base rate (follows the schedule; "
        "equalised weights are N(0, 1), so 0.03 here is about a plain layer's 1e-3: tools/README.md)",
    )
    ap.add_argument(
        "--kp-mlp-init-steps", type=int, default=12000,
        help="with --init-from and --kp-fit-init: steps that train the nonlinear keypoint head before the first image step",
    )
    ap.add_argument("--log-every", type=int, default=20)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    data = DATA[args.data]
    CKPT_DIR = os.path.join(args.out, "checkpoints")
    SAMPLE_DIR = os.path.join(args.out, "samples")
    os.makedirs(CKPT_DIR, exist_ok=True)
    os.makedirs(SAMPLE_DIR, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    cfg = CONFIGS[args.config]
    if cfg["z_dim"] != data.P:
        sys.exit(f"error: --config {args.config} has z_dim {cfg['z_dim']} but --data {args.data} has {data.P} parameters; pick a matching pair")
    if args.half_res and args.init_from:
        sys.exit("error: --half-res starts the top block at zero, which would discard --init-from's; use one of them")
    G = Generator(**cfg)
    G_ema = copy.deepcopy(G).eval()
    for p in G_ema.parameters():
        p.requires_grad_(False)
    opt = make_adam(G, args.lr, args.mapping_lr_scale)
    has_kp = bool(getattr(G, "keypoints", 0))
    refit_kp = bool(args.kp_refit_every) and has_kp
    G.kp_head_detached = bool(args.kp_detach or args.kp_refit_every)
    if refit_kp:
        heads = [G.kp] + ([G.tex] if G.bg_waves else []) + ([G.pose] if G.hair_strands else [])
        for p in (p for h in heads for p in h.parameters()):
            p.requires_grad_(False)  # Adam skips it; a drag's gradient still reaches w through it
    kp_mlp = None
    if getattr(G, "kp_mlp", None) is not None:
        if not refit_kp:
            sys.exit("error: a nonlinear keypoint head (--config faces2wk2thstxsm) needs --kp-refit-every (its linear part is refitted)")
        kp_mlp = KeypointMLPTrainer(G, np.random.default_rng(args.seed + 7), args.kp_mlp_lr)
    step, elapsed = 0, 0.0
    log_path = os.path.join(args.out, "train_log.csv")
    ckpt_path = os.path.join(CKPT_DIR, "latest.pt")
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck["config"] != cfg:
            sys.exit(f"error: {ckpt_path} was trained with another network ({ck['config']}); use the same --config or another --out")
        G.load_state_dict(ck["G"])
        G_ema.load_state_dict(ck["G_ema"])
        load_adam_state(opt, ck["opt"], G)
        if kp_mlp is not None:
            kp_mlp.opt.load_state_dict(ck["kp_opt"])
        step, elapsed = ck["step"], ck["elapsed"]
        rng.bit_generator.state = ck["np_rng"]
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed at step {step}, {elapsed / 3600:.2f} h", flush=True)
    else:
        if args.init_from:
            ck = torch.load(args.init_from)
            fresh = {k: v.clone() for k, v in G.state_dict().items()}  # one init for both, so G_ema = G's new channels
            for net, key in ((G, "G"), (G_ema, "G_ema")):
                missing = load_widened(net, ck[key], fresh, args.init_from)
            print(f"initialised from {args.init_from} (step {ck['step']}); new layers: {missing}", flush=True)
            if "opt" in ck:
                n = carry_adam_state(opt, ck, G)
                print(f"carried Adam moments of {n} parameters from {args.init_from}", flush=True)
            if args.kp_fit_init and has_kp:
                err = fit_keypoint_head(G, G_ema, np.random.default_rng(args.seed + 1), noise=args.kp_noise)
                print(f"keypoint head fitted by least squares: held-out L1 {err:.3f} feature px", flush=True)
                if kp_mlp is not None and "kp_mlp.mu" in missing:
                    err = init_kp_mlp(G, G_ema, kp_mlp, args)
                    print(f"nonlinear keypoint head trained {args.kp_mlp_init_steps} steps: held-out L1 {err:.3f} feature px", flush=True)
                if G.bg_waves:
                    err = fit_texture_head([G, G_ema], np.random.default_rng(args.seed + 2))
                    print(f"texture head fitted by least squares: held-out error {err:.3f}", flush=True)
                if G.hair_strands:
                    err = fit_pose_head([G, G_ema], np.random.default_rng(args.seed + 3), noise=args.kp_noise)
                    print(f"pose head fitted by ridge least squares: held-out error {err:.3f}", flush=True)
        if args.half_res:
            start_half_res(G, G_ema)
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(["step", "elapsed_s", "images_seen", "lr", "loss", "l1", "eval_l1_ema"])

    P = cfg["z_dim"]
    # held-out evaluation set (never trained on) and the 16 fixed seeds of the sample grid
    z_eval, x_eval = held_out_set(data, cfg)
    z_grid = torch.cat([seed_z(s, P) for s in range(16)])
    x_grid = to_float(render_z(z_grid.numpy(), data, cfg["resolution"]))
    save_png(grid(x_grid), os.path.join(SAMPLE_DIR, "targets.png"))

    # replay buffer
    cap = args.buffer
    buf_z = np.zeros((cap, P), np.float32)
    buf_x = np.zeros((cap, 3, cfg["resolution"], cfg["resolution"]), np.uint8)
    n_buf = 0

    def add(k: int) -> np.ndarray:
        nonlocal n_buf
        z = rng.standard_normal((k, P)).astype(np.float32)
        x = render_z(z, data, cfg["resolution"])
        idx = np.arange(n_buf, n_buf + k) % cap
        buf_z[idx], buf_x[idx] = z, x
        n_buf += k
        return idx

    add(256)
    budget = args.hours * 3600
    t_start = time.time() - elapsed
    t_ckpt = t_sample = time.time()
    log_rows = []
    eval_l1 = float("nan")
    geo_l1 = torch.tensor(float("nan"))
    kp_l1 = torch.tensor(float("nan"))
    kp_fit = float("nan")
    tex_l1 = torch.tensor(float("nan"))
    tex_cols = tex_columns(G) if G.bg_waves else []
    eval_raw = float("nan")

    def save_ckpt() -> None:
        tmp = ckpt_path + ".tmp"
        torch.save(
            dict(
                G=G.state_dict(),
                G_ema=G_ema.state_dict(),
                opt=opt.state_dict(),
                step=step,
                elapsed=time.time() - t_start,
                np_rng=rng.bit_generator.state,
                torch_rng=torch.get_rng_state(),
                config=cfg,
                args=vars(args),
                **({"kp_opt": kp_mlp.opt.state_dict()} if kp_mlp is not None else {}),
            ),
            tmp,
        )
        os.replace(tmp, ckpt_path)

    while True:
        el = time.time() - t_start
        progress = el / budget
        if progress >= 1.0 or (args.max_steps and step >= args.max_steps):
            break
        lr = lr_at(progress, args.lr, 0.01)
        for g in opt.param_groups:
            g["lr"] = lr * g["lr_scale"]
        new_idx = add(args.new_per_step if n_buf >= 2048 else 8)
        avail = min(n_buf, cap)
        rest = rng.integers(0, avail, size=args.batch - len(new_idx))
        idx = np.concatenate([new_idx, rest])
        z = torch.from_numpy(buf_z[idx])
        tgt = to_float(buf_x[idx])
        w = G.mapping(z)
        ctrl = None
        th = torch.erf(z / math.sqrt(2.0))  # the renderer's parameters of the batch
        if G.warp_grid:
            # the renderer's control offsets in feature-block pixels: a direct target for the head
            ctrl = torch.stack([th[:, data.WARP_X], th[:, data.WARP_Y]], 1) * (data.WARP_AMP * G.feature_res / 2)
        pred = G.geometry(w) if G.warp_grid else None
        # the head's offsets, computed once for its loss and the warp
        warp_with = pred
        if G.warp_grid and args.teacher_warp > 0:
            # the first part of the batch is warped with the true offsets (no gradient to the head
            # from the image there), the rest with the head's, so the head's use is trained as well
            k = int(round(args.teacher_warp * len(idx)))
            warp_with = torch.cat([ctrl[:k], pred[k:]])
        half = progress < args.half_res
        if half:
            tgt = F.avg_pool2d(tgt, 2)
        out = G.synthesis(
            w[:, None, :].expand(-1, G.num_ws, -1), return_features=False, ctrl=warp_with,
            blocks=len(G.blocks) - 1 if half else None,
        )
        loss, l1 = loss_fn(out, tgt, args.edge_weight, args.l2_weight)
        if G.warp_grid:
            geo_l1 = (pred - ctrl).abs().mean()
            loss = loss + args.geo_weight * geo_l1
        if refit_kp:
            if step % args.kp_refit_every == 0 or math.isnan(kp_fit):
                kp_fit = fit_keypoint_head(G, G_ema, rng, 2048, noise=args.kp_noise)
                if G.hair_strands:
                    fit_pose_head([G, G_ema], rng, 2048, noise=args.kp_noise)
            if G.bg_waves and step % args.tex_refit_every == 0:
                # the plain fit drifts fast as the mapping trains (0.06 -> 0.13 error in 10 steps);
                # the EMA's mapping moves slowly: refitted with the keypoints
                fit_texture_head([G] if step % args.kp_refit_every else [G, G_ema], rng, 1024)
            if kp_mlp is not None:
                kp_mlp.step(G, args.kp_noise, lr / args.lr)
            kp_l1 = torch.tensor(kp_fit)  # the last refit's error, for the log
        elif has_kp:
            # the keypoint head's target: the renderer's scene points, L1 in feature pixels
            kp_true = torch.from_numpy(landmarks2.scene_keypoints(th.numpy(), G.keypoints))
            kp_l1 = (G.keypoint_coords(w.detach() if args.kp_detach else w) - kp_true).abs().mean() * (G.feature_res / 2)
            loss = loss + args.geo_weight * kp_l1
        if G.bg_waves:
            # the renderer's angle and phase: trains the head, or the mapping when the head is refitted
            tex_l1 = (G.texture_params(w) - th[:, tex_cols]).abs().mean()
            if G.hair_strands:
                tex_l1 = (tex_l1 + (G.pose_params(w) - th[:, POSE_COLUMNS]).abs().mean()) / 2
            loss = loss + args.tex_weight * tex_l1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        beta = min(args.ema, 1 - 1 / (1 + step * 0.1))
        with torch.no_grad():
            for pe, p in zip(G_ema.parameters(), G.parameters()):
                pe.lerp_(p, 1 - beta)
        if step % 200 == 0:
            with torch.no_grad():
                eval_l1 = (G_ema(torch.from_numpy(z_eval)) - x_eval).abs().mean().item()
                # the raw generator's (the EMA lags ~1 000 steps: short A/Bs are judged on this one)
                eval_raw = (G(torch.from_numpy(z_eval)) - x_eval).abs().mean().item()
        if step % args.log_every == 0:
            log_rows.append([step, round(el, 1), step * args.batch, f"{lr:.6f}", f"{loss.item():.5f}", f"{l1.item():.5f}", f"{eval_l1:.5f}"])
            print(f"step {step} {el / 60:.1f} min lr {lr:.5f} loss {loss.item():.4f} l1 {l1.item():.4f} eval {eval_l1:.4f} raw {eval_raw:.4f} geo {geo_l1.item():.3f} px kp {kp_l1.item():.3f} px{f' tex {tex_l1.item():.3f}' if G.bg_waves else ''} buf {n_buf}{' half-res' if half else ''}", flush=True)
        if time.time() - t_ckpt > args.ckpt_every:
            with open(log_path, "a", newline="") as f:
                csv.writer(f).writerows(log_rows)
            log_rows = []
            save_ckpt()
            t_ckpt = time.time()
        if time.time() - t_sample > args.sample_every:
            with torch.no_grad():
                save_png(grid(G_ema(z_grid)), os.path.join(SAMPLE_DIR, f"step{step:06d}.png"))
            t_sample = time.time()

    with open(log_path, "a", newline="") as f:
        csv.writer(f).writerows(log_rows)
    save_ckpt()
    with torch.no_grad():
        save_png(grid(G_ema(z_grid)), os.path.join(SAMPLE_DIR, f"step{step:06d}.png"))
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
