"""Builds the committed test model packages/backends-gan/models/imported-tiny/ and its golden
fixture, end to end through the importer:

    /usr/bin/python3 tools/import/make_imported_tiny.py

1. a random-weights StyleGAN2 in the project's own implementation (64 px, channel_base 1024,
   channel_max 64, z_dim = w_dim = 32, 2 mapping layers, conv_clamp 256, non-zero noise strengths);
2. written as an official-format pickle (fake_pickle.py) to tools/.cache/import/imported-tiny.pkl;
3. imported by import_pkl.py into the model folder (features: block b32, 32 x 32);
4. the golden fixture is recorded from the ORIGINAL module (not the imported one), so the
   TypeScript test checks pickle -> restricted unpickler -> rebuild -> ONNX -> onnxruntime:
   image/features for three W+ inputs, mapping(z), and the gradients of <features, u> and of
   <image, u'> w.r.t. ws for u[i] = sin(0.1 i), u'[i] = cos(0.05 i) (PyTorch autograd).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from fake_pickle import random_generator, write_official_style_pickle  # noqa: E402
import import_pkl  # noqa: E402

OUT = os.path.join(ROOT, "packages", "backends-gan", "models", "imported-tiny")
FIXTURE = os.path.join(ROOT, "packages", "backends-gan", "src", "__fixtures__", "imported-tiny-golden.json")
CACHE = os.path.join(ROOT, "tools", ".cache", "import")
FEATURE_RES = 32


def stats(x: np.ndarray, idx: np.ndarray) -> dict:
    f = x.reshape(-1).astype(np.float64)
    return dict(shape=list(x.shape), sum=float(f.sum()), indices=idx.tolist(), values=[float(v) for v in x.reshape(-1)[idx]])


def main() -> None:
    torch.set_num_threads(1)
    os.makedirs(CACHE, exist_ok=True)
    G, _ = random_generator(18, resolution=64, z_dim=32, w_dim=32, channel_base=1024, channel_max=64, mapping_layers=2, conv_clamp=256)
    pkl = os.path.join(CACHE, "imported-tiny.pkl")
    write_official_style_pickle(G, pkl)
    rc = import_pkl.main([pkl, OUT, "--feature-res", str(FEATURE_RES), "--name", "imported-tiny-64", "--overwrite"])
    if rc != 0:
        raise SystemExit(rc)
    num_ws, w_dim, z_dim, R = G.num_ws, G.w_dim, G.z_dim, G.img_resolution
    C = G.synthesis.channels[FEATURE_RES]
    w_avg = G.mapping.w_avg
    z = {s: torch.randn(1, z_dim, generator=torch.Generator().manual_seed(s)) for s in range(4)}
    with torch.no_grad():
        w = {s: G.mapping(z[s])[0] for s in range(4)}
    rng = np.random.default_rng(0)
    img_idx = np.sort(rng.choice(3 * R * R, 256, replace=False))
    feat_idx = np.sort(rng.choice(C * FEATURE_RES * FEATURE_RES, 256, replace=False))
    cases = []
    vjp = None
    for name, seed, trunc, rows, src in [
        ("seed0", 0, 1.0, [w[0]], [0] * num_ws),
        ("seed1_trunc0.7", 1, 0.7, [w_avg + 0.7 * (w[1] - w_avg)], [0] * num_ws),
        ("mix_seed2_rows0to3_seed3_rest", None, 1.0, [w[2], w[3]], [0 if i < 4 else 1 for i in range(num_ws)]),
    ]:
        ws = torch.stack([rows[k] for k in src])[None].clone().requires_grad_(True)
        img, feat = G.synthesis(ws, FEATURE_RES)
        case = dict(name=name, w_rows=[[float(v) for v in r] for r in rows], ws_row_source=src,
                    image=stats(img.detach().numpy(), img_idx), features=stats(feat.detach().numpy(), feat_idx))
        if seed is not None:
            case.update(seed=seed, truncation=trunc, z=[float(v) for v in z[seed][0]], w_untruncated=[float(v) for v in w[seed]])
        if vjp is None:
            u = torch.sin(0.1 * torch.arange(feat.numel(), dtype=torch.float64)).float().reshape(feat.shape)
            (g,) = torch.autograd.grad((feat * u).sum(), ws, retain_graph=True)
            ui = torch.cos(0.05 * torch.arange(img.numel(), dtype=torch.float64)).float().reshape(img.shape)
            (gi,) = torch.autograd.grad((img * ui).sum(), ws)
            vjp = dict(case=name, cotangent="u[i] = sin(0.1 * i) over the flattened features", grad_ws=[float(v) for v in g.reshape(-1)],
                       image_cotangent="u[i] = cos(0.05 * i) over the flattened image", image_grad_ws=[float(v) for v in gi.reshape(-1)])
        cases.append(case)
    fixture = dict(
        model="imported-tiny",
        description="Recorded from the original PyTorch module before it was pickled and imported "
        "(tools/import/make_imported_tiny.py). ws = rows w_rows[ws_row_source[i]]; values = output.reshape(-1)[indices]; "
        "z = torch.randn(1, z_dim, generator=torch.Generator().manual_seed(seed)); w_untruncated = mapping(z).",
        num_ws=num_ws, w_dim=w_dim, z_dim=z_dim, w_avg=[float(v) for v in w_avg], cases=cases, vjp=vjp,
    )
    with open(FIXTURE, "w") as f:
        json.dump(fixture, f, indent=1)
    size = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({size / 1e6:.2f} MB) and {os.path.relpath(FIXTURE, ROOT)}")


if __name__ == "__main__":
    main()
