"""Export a generator to ONNX (opset 17, batch 1, fixed shapes) plus model.json, w_avg.bin and a
golden fixture recorded from PyTorch for the TypeScript tests.

    # the default model, from the latest training checkpoint (EMA weights)
    /usr/bin/python3 tools/export/export.py default
    # the tiny random-weights model used by fast tests (also writes synthesis_fused.onnx)
    /usr/bin/python3 tools/export/export.py tiny
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
from networks import DEFAULT_CONFIG, TINY_CONFIG, Generator  # noqa: E402

MODELS = os.path.join(ROOT, "packages", "backends-gan", "models")
FIXTURES = os.path.join(ROOT, "packages", "backends-gan", "src", "__fixtures__")
CKPT = os.path.join(ROOT, "tools", ".cache", "checkpoints", "latest.pt")

# Ops allowed on the path from ws to the outputs (the VJP builder of packages/onnx-autograd knows
# these), plus shape-only helpers.
ALLOWED = set(
    "Abs Add Sub Mul Div Neg MatMul Gemm Conv ConvTranspose Reshape Flatten Transpose Squeeze Unsqueeze "
    "Concat Split Slice Pad Expand Tile ReduceSum ReduceMean Sqrt Pow Reciprocal Exp Log LeakyRelu Relu "
    "Sigmoid Tanh Erf Sin Cos Clip Where Resize Softmax Identity Cast".split()
)
SHAPE_ONLY = {"Shape", "Gather", "Constant", "ConstantOfShape"}


class Synthesis(nn.Module):
    def __init__(self, G: Generator, fused: bool | str):
        super().__init__()
        self.G, self.fused = G, fused

    def forward(self, ws):
        img, feat = self.G.synthesis(ws, fused=self.fused)
        return img, feat


class Mapping(nn.Module):
    def __init__(self, G: Generator):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G.mapping(z)


def seed_z(seed: int, z_dim: int) -> torch.Tensor:
    return torch.randn(1, z_dim, generator=torch.Generator().manual_seed(seed))


def export_onnx(module: nn.Module, args, path: str, inputs, outputs) -> list[str]:
    import onnx

    torch.onnx.export(
        module,
        args,
        path,
        opset_version=17,
        input_names=inputs,
        output_names=outputs,
        do_constant_folding=True,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    bad = [o for o in ops if o not in ALLOWED and o not in SHAPE_ONLY]
    gathers = [n for n in m.graph.node if n.op_type == "Gather"]
    print(f"{os.path.relpath(path, ROOT)}: {os.path.getsize(path) / 1e6:.2f} MB, ops {ops}")
    if bad:
        raise SystemExit(f"disallowed ops in {path}: {bad}")
    if gathers:
        print(f"  note: {len(gathers)} Gather nodes (check they act on shapes only)")
    return ops


def stats(x: np.ndarray, idx: np.ndarray) -> dict:
    f = x.reshape(-1).astype(np.float64)
    return dict(
        shape=list(x.shape),
        sum=float(f.sum()),
        mean=float(f.mean()),
        abs_mean=float(np.abs(f).mean()),
        min=float(f.min()),
        max=float(f.max()),
        indices=idx.tolist(),
        values=[float(v) for v in x.reshape(-1)[idx]],
    )


def vjp_golden(G: Generator, case, rows: int) -> dict:
    """PyTorch's gradient of <features, u> w.r.t. the first `rows` W+ rows for the first golden
    case, u[i] = sin(0.37 i): the TypeScript backend's VJP is checked against it (finite
    differences cross the kinks of a piecewise-linear warp, autograd does not)."""
    _, _, _, w_rows, src = case
    ws = torch.stack([w_rows[k] for k in src])[None].clone().requires_grad_(True)
    with torch.enable_grad():
        _, feat = G.synthesis(ws)
        u = torch.sin(0.37 * torch.arange(feat.numel(), dtype=torch.float64)).float().reshape(feat.shape)
        (grad,) = torch.autograd.grad((feat * u).sum(), ws)
    g = grad[0, :rows].reshape(-1)
    return dict(case=case[0], rows=rows, cotangent="sin(0.37 i)", gradient=[float(v) for v in g])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("which", choices=["default", "tiny"])
    ap.add_argument("--ckpt", default=CKPT)
    ap.add_argument("--out", default=None, help="model folder (default packages/backends-gan/models/<which>)")
    ap.add_argument("--fused", action="store_true", help="also export synthesis_fused.onnx (always for tiny)")
    ap.add_argument(
        "--modconv",
        choices=["activations", "image"],
        default=None,
        help="modulation in synthesis.onnx: 'activations' everywhere, or 'image' = weights in the layers the "
        "features do not depend on (default: image for the default model, activations for tiny)",
    )
    ap.add_argument(
        "--pose-own-row", action="store_true",
        help="networks with hair strands: the pose head reads the texture's W+ row (7), which drags leave alone, instead of row 0",
    )
    ap.add_argument("--fixture", default=None, help="golden fixture path (default packages/backends-gan/src/__fixtures__/<which>-golden.json); a trial export can write it elsewhere")
    ap.add_argument(
        "--training-note", default=None,
        help="model.json training.continued_from: the runs this checkpoint continued (--init-from), their steps and hours",
    )
    ap.add_argument("--prior-steps", type=int, default=0, help="steps of the runs the checkpoint continued (added to training.steps)")
    ap.add_argument("--prior-hours", type=float, default=0.0, help="their wall hours (added to training.wall_time_hours)")
    ap.add_argument("--drag-lr", type=float, default=0.01, help="drag_learning_rate written to model.json (default model)")
    ap.add_argument(
        "--drag-stop-distance", type=float, default=0.5,
        help="drag_stop_distance written to model.json (default model; image px): DragGAN's 2 px at 512 px scaled to 128 px",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)

    tiny = args.which == "tiny"
    modconv = args.modconv or ("activations" if tiny else "image")
    main_mode: bool | str = "image" if modconv == "image" else False
    out_dir = args.out or os.path.join(MODELS, args.which)
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(FIXTURES, exist_ok=True)

    extra: dict = {}
    if tiny:
        torch.manual_seed(2024)
        cfg = TINY_CONFIG
        G = Generator(**cfg).eval()
        # random weights, but keep the image roughly in [-1, 1]
        with torch.no_grad():
            for blk in G.blocks:
                blk.torgb.weight.mul_(0.5)
    else:
        ck = torch.load(args.ckpt)
        cfg = ck["config"]
        G = Generator(**cfg).eval()
        G.load_state_dict(ck["G_ema"])
        G.pose_own_row = args.pose_own_row
        extra = dict(step=ck["step"], elapsed=ck["elapsed"], args=ck.get("args", {}))
    for p in G.parameters():
        p.requires_grad_(False)
    for m in G.modules():
        if hasattr(m, "freeze_for_export"):
            m.freeze_for_export()

    z_dim, w_dim, num_ws, R = cfg["z_dim"], cfg["w_dim"], G.num_ws, cfg["resolution"]
    # the renderer the checkpoint was trained on (train.py --data; the first model predates it)
    data = extra.get("args", {}).get("data", "faces") if extra else "faces"
    fr = cfg["feature_res"]
    C_feat = cfg["channels"][fr]

    # w_avg over many z (for truncation)
    with torch.no_grad():
        zs = torch.randn(20000, z_dim, generator=torch.Generator().manual_seed(777))
        w_avg = torch.cat([G.mapping(zs[i : i + 1000]) for i in range(0, 20000, 1000)]).mean(0)
    w_avg.numpy().astype("<f4").tofile(os.path.join(out_dir, "w_avg.bin"))

    ws0 = torch.zeros(1, num_ws, w_dim)
    ops_syn = export_onnx(Synthesis(G, main_mode), (ws0,), os.path.join(out_dir, "synthesis.onnx"), ["ws"], ["image", "features"])
    ops_map = export_onnx(Mapping(G), (torch.zeros(1, z_dim),), os.path.join(out_dir, "mapping.onnx"), ["z"], ["w"])
    ops_fused = None
    if tiny or args.fused:
        ops_fused = export_onnx(
            Synthesis(G, True), (ws0,), os.path.join(out_dir, "synthesis_fused.onnx"), ["ws"], ["image", "features"]
        )

    # golden cases: seed 0 (truncation 1), seed 1 (truncation 0.7), and a W+ style mix
    # (rows < 4 from seed 2, the rest from seed 3) that catches a wrong row order.
    with torch.no_grad():
        w = {s: G.mapping(seed_z(s, z_dim))[0] for s in range(4)}
        w1t = w_avg + 0.7 * (w[1] - w_avg)
        cases_def = [
            ("seed0", 0, 1.0, [w[0]], [0] * num_ws),
            ("seed1_trunc0.7", 1, 0.7, [w1t], [0] * num_ws),
            ("mix_seed2_rows0to3_seed3_rest", None, 1.0, [w[2], w[3]], [0 if i < 4 else 1 for i in range(num_ws)]),
        ]
        rng = np.random.default_rng(0)
        img_idx = np.sort(rng.choice(3 * R * R, 256, replace=False))
        feat_idx = np.sort(rng.choice(C_feat * fr * fr, 256, replace=False))
        cases = []
        max_fused_diff = 0.0
        max_mode_diff = 0.0
        for name, seed, trunc, rows, src in cases_def:
            ws = torch.stack([rows[k] for k in src])[None]
            img, feat = G.synthesis(ws)
            case = dict(
                name=name,
                w_rows=[[float(v) for v in r] for r in rows],
                ws_row_source=src,
                image=stats(img.numpy(), img_idx),
                features=stats(feat.numpy(), feat_idx),
            )
            if seed is not None:
                case.update(seed=seed, truncation=trunc, z=[float(v) for v in seed_z(seed, z_dim)[0]])
                case["w_untruncated"] = [float(v) for v in w[seed]]
            if main_mode:
                img_m, feat_m = G.synthesis(ws, fused=main_mode)
                max_mode_diff = max(max_mode_diff, (img_m - img).abs().max().item(), (feat_m - feat).abs().max().item())
            if tiny or args.fused:
                img_f, feat_f = G.synthesis(ws, fused=True)
                d = max((img_f - img).abs().max().item(), (feat_f - feat).abs().max().item())
                max_fused_diff = max(max_fused_diff, d)
            cases.append(case)

    fixture = dict(
        model=args.which,
        description="Outputs recorded from PyTorch at export (tools/export/export.py). ws = rows "
        "w_rows[ws_row_source[i]] for i in 0..num_ws-1; values are output.reshape(-1)[indices]. "
        "z was drawn as torch.randn(1, z_dim, generator=torch.Generator().manual_seed(seed)); "
        "w_untruncated = mapping(z); truncation: w_avg + t * (w - w_avg).",
        num_ws=num_ws,
        w_dim=w_dim,
        z_dim=z_dim,
        w_avg_sum=float(w_avg.sum()),
        cases=cases,
    )
    if tiny or args.fused:
        fixture["fused_equals_nonfused"] = dict(
            max_abs_diff=max_fused_diff,
            note="synthesis_fused.onnx computes the same function; PyTorch outputs agree to this max abs diff (< 1e-5)",
        )
        assert max_fused_diff < 1e-5, max_fused_diff
    # the golden values come from the activation-modulated path; the exported mode must agree
    assert max_mode_diff < 1e-5, max_mode_diff
    fixture["exported_modconv"] = dict(mode=modconv, max_abs_diff_vs_activations=max_mode_diff)
    fixture["vjp"] = vjp_golden(G, cases_def[0], 4 if tiny else 6)
    with open(args.fixture or os.path.join(FIXTURES, f"{args.which}-golden.json"), "w") as f:
        json.dump(fixture, f, indent=1)

    optimize_ws = 6 if not tiny else 4
    files = dict(synthesis="synthesis.onnx", mapping="mapping.onnx", w_avg="w_avg.bin")
    if tiny or args.fused:
        files["synthesis_fused"] = "synthesis_fused.onnx"
    model = dict(
        name=f"stabledrag-{data}-128" if not tiny else "tiny-random-32",
        description=(
            "StyleGAN2-style generator of stylised cartoon faces, trained from scratch by this project "
            "by regression on the parameters of a procedural face renderer."
            if not tiny
            else "Random-weights generator with the architecture of the default model, for fast tests. Its images are noise."
        ),
        format_version=1,
        resolution=R,
        z_dim=z_dim,
        w_dim=w_dim,
        num_ws=num_ws,
        optimize_ws=optimize_ws,
        optimize_ws_note=f"a drag optimises W+ rows 0..{optimize_ws - 1} (they feed the blocks up to the feature block); the rest stay at w0"
        + (
            "; row 7 also gives the background waves' angle and phase through a plain least-squares head that answers "
            "wildly off the mapping's w, so a drag should leave it alone (optimise at most 7 rows)"
            if cfg.get("bg_waves") else ""
        ),
        files=files,
        inputs=dict(synthesis=["ws"], mapping=["z"]),
        outputs=dict(synthesis=["image", "features"], mapping=["w"]),
        tensors=dict(ws="ws", image="image", features="features", z="z", w="w"),
        feature_scale=R // fr,
        shapes=dict(
            ws=[1, num_ws, w_dim],
            image=[1, 3, R, R],
            features=[1, C_feat, fr, fr],
            z=[1, z_dim],
            w=[1, w_dim],
        ),
        feature=dict(name="features", resolution=fr, channels=C_feat, scale=R // fr, block=f"output of the {fr}x{fr} synthesis block"),
        image_range=[-1, 1],
        image_layout="NCHW, RGB, value = 2 * (pixel / 255) - 1",
        truncation=0.7,
        w_avg=dict(file="w_avg.bin", dtype="float32", endianness="little", length=w_dim),
        z_distribution=(
            "z ~ N(0, I) of dimension z_dim; each coordinate is the probit of one renderer parameter "
            f"(theta = erf(z / sqrt(2)) in [-1, 1], see tools/dataset/{data}.py PARAM_NAMES)"
            if not tiny
            else "z ~ N(0, I)"
        ),
        architecture=dict(
            channels={str(k): v for k, v in cfg["channels"].items()},
            mapping_layers=len(G.mapping.layers),
            modulated_conv=(
                "feature path (blocks up to the feature block): x*style -> conv (constant weight) -> "
                "*rsqrt((style^2)@sum_k(W^2)^T + 1e-8); every toRGB and the blocks above: weight*style, "
                "demodulated, -> one Conv with bias (no elementwise pass over the large maps)"
                if modconv == "image"
                else "non-fused: x*style -> conv (constant weight) -> *rsqrt((style^2)@sum_k(W^2)^T + 1e-8)"
            ),
            upsampling="bilinear x2, align_corners=False",
            activation="LeakyReLU(0.2) * sqrt(2)",
            noise="none",
            ws_layout="block 4: conv ws[0], toRGB ws[1]; block r>4 (k-th, k>=1): conv0 ws[2k-1], conv1 ws[2k], toRGB ws[2k+1]",
            **(
                dict(
                    mapping_skip="w = MLP(z) + linear(z)" if cfg.get("mapping_skip") else "none",
                    displacement_field=(
                        f"a linear head on ws[0] gives {cfg['warp_grid']}x{cfg['warp_grid']} control offsets (x, y) in "
                        f"feature-block pixels; a cubic B-spline spreads them over the {fr}x{fr} block, whose output "
                        f"(features and RGB so far) is resampled there by separable linear interpolation "
                        f"(two batched MatMuls with tent weights, positions clamped to the block); the renderer's image(x) = scene(x + D(x))"
                    ),
                )
                if cfg.get("warp_grid")
                else {}
            ),
            **(
                dict(
                    keypoints=(
                        f"a {'linear head plus a two-layer SiLU MLP' if cfg.get('keypoint_mlp') else 'linear head'} on ws[0] "
                        f"places {cfg['keypoints']} scene points (tools/dataset/landmarks2.py KEYPOINTS), "
                        f"each a Gaussian blob (sigma {cfg.get('keypoint_sigma', 1.0)} feature-block pixels) mixed by a 1x1 "
                        f"projection into the feature block's input, before the displacement field"
                    ),
                )
                if cfg.get("keypoints")
                else {}
            ),
            **(
                dict(
                    textures=(
                        "the renderer's background waves (sin and cos of their argument; angle and phase from a least-squares "
                        "head on ws[7])"
                        + (
                            " and its hair strands (a fan of stripes around a point above the head; their phase from the same "
                            "head, the head's pose from a ridge-fitted head on "
                            + ("ws[7]" if args.pose_own_row else "ws[0]") + ")"
                            if cfg.get("hair_strands") else ""
                        )
                        + " are inputs of the block above the feature block, moved by the displacement field, mixed by a 1x1 projection"
                    ),
                )
                if cfg.get("bg_waves")
                else {}
            ),
        ),
        opset=17,
        onnx_ops=dict(synthesis=ops_syn, mapping=ops_map, **({"synthesis_fused": ops_fused} if ops_fused else {})),
        training_data=f"procedurally rendered stylised faces, tools/dataset/{data}.py" if not tiny else "none (random weights, torch.manual_seed(2024))",
        **({"renderer": data} if not tiny else {}),
        license="MIT, trained from scratch by this project" if not tiny else "MIT, random weights generated by this project",
        fixture=f"packages/backends-gan/src/__fixtures__/{args.which}-golden.json",
        exported_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    if not tiny:
        model["drag_learning_rate"] = args.drag_lr
        model["drag_learning_rate_note"] = (
            "Adam lr for drags on this model: its W spread is wider than StyleGAN2 FFHQ's, so the paper's 0.001 "
            "moves a handle about 10x slower; 0.01 converges a 10 px drag in about 100 steps"
        )
        model["drag_stop_distance"] = args.drag_stop_distance
        model["drag_stop_distance_note"] = (
            "image px; DragGAN stops at 2 px on 512-px images, the same share of a 128-px image is 0.5 px. Measured "
            "on the bench's tuning tasks (BENCHMARKS.md, sweep 5): at 2 px both methods stopped with the content ~3 px "
            "short on 6 px drags; at 0.5 px Mean Distance fell ~1 px for StableDrag"
        )
    if extra:
        model["training"] = dict(
            steps=extra["step"] + args.prior_steps,
            batch=extra["args"].get("batch"),
            images_rendered_per_step=extra["args"].get("new_per_step"),
            wall_time_hours=round(extra["elapsed"] / 3600 + args.prior_hours, 2),
            hardware=(lambda n: f"{n} thread{'s' if n > 1 else ''} of a shared 2-core CPU, no GPU")(extra["args"].get("threads", 1)),
            objective="multi-scale L1 + gradient-difference regression of G(mapping(z)) onto render(erf(z/sqrt(2)))"
            + (" + L1 of the displacement head's control offsets to the renderer's" if cfg.get("warp_grid") else "")
            + (" + L1 of the keypoint head's scene points to the renderer's (landmarks2.scene_keypoints)" if cfg.get("keypoints") else "")
            + (" + L1 of the texture head's parameters to the renderer's (through the mapping)" if cfg.get("bg_waves") else ""),
            **({"continued_from": args.training_note, "steps_of_the_last_run": extra["step"]} if args.training_note else {}),
        )
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model, f, indent=2)
    total = sum(os.path.getsize(os.path.join(out_dir, n)) for n in os.listdir(out_dir))
    print(f"wrote {os.path.relpath(out_dir, ROOT)} ({total / 1e6:.2f} MB) and fixture; fused diff {max_fused_diff:.2e}")


if __name__ == "__main__":
    main()
