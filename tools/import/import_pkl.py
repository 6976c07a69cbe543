"""Import an official StyleGAN2 / StyleGAN2-ADA PyTorch .pkl into a model folder for
@stabledrag/backends-gan (mapping.onnx, synthesis.onnx, w_avg.bin, model.json).

    /usr/bin/python3 tools/import/import_pkl.py stylegan2-ffhq-512x512.pkl models/ffhq-512

The pickle is read by a restricted unpickler (safe_pickle.py) that never executes the source the
file embeds; G_ema's parameters and constructor arguments are loaded into the project's own
StyleGAN2 implementation (stylegan2.py, same parameter names) and exported:

- synthesis.onnx: ws [1, num_ws, w_dim] -> image [1, 3, R, R] (about [-1, 1]) and features = the
  output of synthesis block b128 (DragGAN's feature_idx 5, the 6th block; the last block for
  generators smaller than 128 px), non-fused modulated convolution (activations scaled, constant
  Conv weights), per-pixel noise fixed to noise_const * noise_strength (DragGAN's
  noise_mode='const'), float32, opset 17.
- mapping.onnx: z -> w (untruncated); w_avg.bin is the generator's own tracked w_avg buffer.
- model.json: resolution, num_ws, optimize_ws = 6 (DragGAN), drag_learning_rate 0.001 (DragGAN),
  DragGAN's radii r1 = 3, r2 = 12 scaled by R / 512, provenance of the weights.

StyleGAN3 (alias-free) pickles are recognised and refused with a one-line message.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "export"))
from safe_pickle import PersistentStub, RefusedPickle, load_stylegan_pickle  # noqa: E402
from stylegan2 import Generator, SynthesisLayer, ToRGBLayer  # noqa: E402


class ImportError_(Exception):
    """A pickle that cannot be imported, with a one-line reason."""


SYNTHESIS_KEYS = {"channel_base", "channel_max", "num_fp16_res", "conv_clamp", "architecture", "use_noise"}
IGNORED_KEYS = {"fp16_channels_last", "fused_modconv_default", "channels_last"}  # speed-only switches
MAPPING_KEYS = {"num_layers", "embed_features", "layer_features", "activation", "lr_multiplier", "w_avg_beta"}


def generator_kwargs(stub: PersistentStub) -> dict:
    """Constructor arguments of the pickled Generator, normalised for stylegan2.Generator."""
    kw = stub.init_kwargs
    if not kw:
        raise ImportError_("G_ema carries no constructor arguments (_init_kwargs); is this an official PyTorch pickle?")
    out = {k: kw[k] for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels") if k in kw}
    missing = {"z_dim", "w_dim", "img_resolution", "img_channels"} - out.keys()
    if missing:
        raise ImportError_(f"G_ema's constructor arguments lack {sorted(missing)}")
    if kw.get("c_dim", 0):
        raise ImportError_(f"conditional generators (c_dim = {kw['c_dim']}) are not supported; use an unconditional pickle")
    # StyleGAN2-ADA passes synthesis_kwargs as a dict, the StyleGAN3 release flattens them
    syn = dict(kw.get("synthesis_kwargs") or {})
    syn.update({k: v for k, v in kw.items() if k not in out and k not in ("mapping_kwargs", "synthesis_kwargs")})
    rf = syn.pop("resample_filter", None)
    if rf is not None and list(rf) != [1, 3, 3, 1]:
        raise ImportError_(f"resample_filter {list(rf)} is not supported (only StyleGAN2's [1, 3, 3, 1])")
    unknown = set(syn) - SYNTHESIS_KEYS - IGNORED_KEYS
    if unknown:
        raise ImportError_(f"unknown synthesis arguments {sorted(unknown)}; this importer knows StyleGAN2's")
    out["synthesis_kwargs"] = {k: v for k, v in syn.items() if k in SYNTHESIS_KEYS}
    mk = dict(kw.get("mapping_kwargs") or {})
    unknown = set(mk) - MAPPING_KEYS
    if unknown:
        raise ImportError_(f"unknown mapping arguments {sorted(unknown)}")
    out["mapping_kwargs"] = mk
    return out


def check_stylegan2(G: PersistentStub) -> None:
    if G.class_name != "Generator":
        raise ImportError_(f"G_ema is a {G.class_name}, expected a Generator")
    syn = G.modules.get("synthesis")
    if not isinstance(syn, PersistentStub):
        raise ImportError_("G_ema has no synthesis network")
    if "input" in syn.modules or any(isinstance(m, PersistentStub) and m.class_name == "SynthesisInput" for m in syn.modules.values()):
        raise ImportError_("this is a StyleGAN3 (alias-free) generator; only StyleGAN2 / StyleGAN2-ADA generators are supported for now")


def compare_attributes(stub: PersistentStub, module: nn.Module, prefix: str = "") -> None:
    """Gains, clamps and resampling factors stored in the pickle must equal the ones our modules
    derived from the constructor arguments (catches arguments the kwargs do not show)."""
    for key in ("weight_gain", "bias_gain", "act_gain", "conv_clamp", "up", "use_noise", "activation", "num_ws"):
        if key in stub.state and hasattr(module, key):
            theirs, ours = stub.state[key], getattr(module, key)
            same = theirs == ours if not isinstance(theirs, float) or not isinstance(ours, float) else math.isclose(theirs, ours, rel_tol=1e-6)
            if not same:
                raise ImportError_(f"{prefix}{key} is {theirs!r} in the pickle but {ours!r} in the rebuilt network")
    for name, sub in stub.modules.items():
        child = getattr(module, name, None)
        if isinstance(sub, PersistentStub) and isinstance(child, nn.Module):
            compare_attributes(sub, child, f"{prefix}{name}.")


def load_generator(path: str) -> tuple[Generator, dict]:
    """.pkl -> (our Generator in eval mode with G_ema's weights, its normalised kwargs)."""
    data = load_stylegan_pickle(path)
    G_stub = data.get("G_ema")
    if not isinstance(G_stub, PersistentStub):
        raise ImportError_(f"{path} has no persistence-wrapped 'G_ema' (keys: {sorted(map(str, data))})")
    check_stylegan2(G_stub)
    kwargs = generator_kwargs(G_stub)
    try:
        G = Generator(**kwargs).eval()
    except ValueError as e:
        raise ImportError_(str(e)) from e
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in G_stub.flat_state_dict().items()}
    ours = G.state_dict()
    missing = sorted(set(ours) - set(state))
    extra = sorted(set(state) - set(ours))
    if missing or extra:
        raise ImportError_(f"parameter names differ from StyleGAN2's: missing {missing[:4]}, unexpected {extra[:4]}")
    bad = [k for k in ours if tuple(ours[k].shape) != tuple(state[k].shape)]
    if bad:
        k = bad[0]
        raise ImportError_(f"{k} has shape {tuple(state[k].shape)} in the pickle, {tuple(ours[k].shape)} from its constructor arguments")
    G.load_state_dict(state, strict=True)
    G.freeze()
    compare_attributes(G_stub, G)
    for p in G.parameters():
        p.requires_grad_(False)
    return G, kwargs


class _Synthesis(nn.Module):
    def __init__(self, G: Generator, feature_res: int):
        super().__init__()
        self.G, self.feature_res = G, feature_res

    def forward(self, ws):
        return self.G.synthesis(ws, self.feature_res)


class _Mapping(nn.Module):
    def __init__(self, G: Generator):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G.mapping(z)


def default_feature_res(resolution: int) -> int:
    # DragGAN: feature_idx 5 = output of the 6th block (b128); smaller generators: their last block
    return min(128, resolution)


def export_folder(G: Generator, out_dir: str, *, feature_res: int, name: str, source: str, extra: dict | None = None) -> dict:
    from export import export_onnx  # the project exporter: checks the op set the autograd package knows

    R, num_ws, w_dim, z_dim = G.img_resolution, G.num_ws, G.w_dim, G.z_dim
    if feature_res not in G.synthesis.block_resolutions:
        raise ImportError_(f"--feature-res {feature_res} is not a block resolution ({G.synthesis.block_resolutions})")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    ws0 = G.mapping.w_avg[None, None].repeat(1, num_ws, 1).clone()
    ops_syn = export_onnx(_Synthesis(G, feature_res), (ws0,), os.path.join(out_dir, "synthesis.onnx"), ["ws"], ["image", "features"])
    ops_map = export_onnx(_Mapping(G), (torch.zeros(1, z_dim),), os.path.join(out_dir, "mapping.onnx"), ["z"], ["w"])
    G.mapping.w_avg.numpy().astype("<f4").tofile(os.path.join(out_dir, "w_avg.bin"))
    C_feat = G.synthesis.channels[feature_res]
    optimize_ws = min(6, num_ws)
    scale = R / 512
    model = dict(
        name=name,
        description=f"StyleGAN2 generator imported from {source} by tools/import/import_pkl.py",
        format_version=1,
        resolution=R,
        z_dim=z_dim,
        w_dim=w_dim,
        num_ws=num_ws,
        optimize_ws=optimize_ws,
        optimize_ws_note=f"DragGAN optimises W+ rows 0..{optimize_ws - 1}; the rest stay at w0",
        drag_learning_rate=0.001,
        drag_learning_rate_note="DragGAN's Adam learning rate for StyleGAN2",
        suggested_radii=dict(
            r1=round(3 * scale, 4), r2=round(12 * scale, 4),
            note="DragGAN's motion-supervision radius r1 = 3 and tracking radius r2 = 12 at 512 px, scaled by resolution / 512 (image pixels)",
        ),
        files=dict(synthesis="synthesis.onnx", mapping="mapping.onnx", w_avg="w_avg.bin"),
        inputs=dict(synthesis=["ws"], mapping=["z"]),
        outputs=dict(synthesis=["image", "features"], mapping=["w"]),
        tensors=dict(ws="ws", image="image", features="features", z="z", w="w"),
        feature_scale=R // feature_res,
        shapes=dict(ws=[1, num_ws, w_dim], image=[1, 3, R, R], features=[1, C_feat, feature_res, feature_res], z=[1, z_dim], w=[1, w_dim]),
        feature=dict(
            name="features", resolution=feature_res, channels=C_feat, scale=R // feature_res,
            block=f"output of synthesis.b{feature_res} (block index {G.synthesis.block_resolutions.index(feature_res)}; DragGAN uses index 5)",
        ),
        image_range=[-1, 1],
        image_layout="NCHW, RGB, value = 2 * (pixel / 255) - 1",
        truncation=0.7,
        w_avg=dict(file="w_avg.bin", dtype="float32", endianness="little", length=w_dim, source="the generator's tracked mapping.w_avg buffer"),
        z_distribution="z ~ N(0, I)",
        architecture=dict(
            family="StyleGAN2 (official PyTorch parameter layout)",
            channels={str(r): c for r, c in G.synthesis.channels.items()},
            mapping_layers=G.mapping.num_layers,
            modulated_conv="non-fused: x*style -> conv (constant weight) -> *rsqrt((style^2)@sum_k(W^2)^T + 1e-8)",
            upsampling="transposed 3x3 conv stride 2 + [1,3,3,1] FIR (conv0); RGB skip: zero insertion + [1,3,3,1] FIR",
            noise="fixed: noise_const * noise_strength (DragGAN's noise_mode='const')",
            conv_clamp=G.synthesis.b4.conv1.conv_clamp,
            precision="float32 everywhere (the pickle's num_fp16_res is ignored)",
        ),
        opset=17,
        onnx_ops=dict(synthesis=ops_syn, mapping=ops_map),
        license="that of the imported weights: check the licence of the .pkl you imported",
        training_data=f"see the source of {source}",
        imported_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **(extra or {}),
    )
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model, f, indent=2)
    return model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Import an official StyleGAN2(-ADA) PyTorch .pkl as a StableDrag model folder.")
    ap.add_argument("pkl", help="network pickle, e.g. stylegan2-ffhq-512x512.pkl")
    ap.add_argument("out", help="model folder to create (must not exist or be empty)")
    ap.add_argument("--feature-res", type=int, default=None, help="block whose output is the drag feature (default 128 = DragGAN's feature_idx 5)")
    ap.add_argument("--name", default=None, help="model name in model.json (default: the file name)")
    ap.add_argument("--overwrite", action="store_true", help="replace the files of an existing model folder")
    args = ap.parse_args(argv)
    try:
        if os.path.isdir(args.out) and os.listdir(args.out) and not args.overwrite:
            raise ImportError_(f"{args.out} exists and is not empty; choose a new folder or pass --overwrite")
        if not os.path.isfile(args.pkl):
            raise ImportError_(f"no file at {args.pkl}; pass the path of a StyleGAN2 .pkl")
        t0 = time.time()
        G, kwargs = load_generator(args.pkl)
        fr = args.feature_res or default_feature_res(G.img_resolution)
        name = args.name or os.path.splitext(os.path.basename(args.pkl))[0]
        model = export_folder(G, args.out, feature_res=fr, name=name, source=os.path.basename(args.pkl))
    except (ImportError_, RefusedPickle) as e:
        print(f"import_pkl: {e}", file=sys.stderr)
        return 2
    size = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"wrote {args.out}: {model['resolution']} px, num_ws {model['num_ws']}, features {model['shapes']['features']}, {size / 1e6:.1f} MB, {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
