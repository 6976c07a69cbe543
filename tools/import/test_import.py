"""End-to-end checks of the StyleGAN2 importer without real weights:

    /usr/bin/python3 tools/import/test_import.py          # all checks, ~1-2 min on a shared CPU

0. The fast resampling code against literal reference formulations of upfirdn2d.
1. For several resolutions / channel settings / pickle protocols: a random-weights generator of
   the project's StyleGAN2 is written as an official-format pickle (fake_pickle.py), imported,
   and the rebuilt network must equal the original bit for bit (synthesis image and features,
   mapping); the exported folder is then run in onnxruntime-node by verify_folder.ts against the
   original's image, features and autograd VJP (needs node + the workspace's node_modules; without
   them the check fails under CI=true and is reported as not run otherwise).
2. Safety: a pickle whose __reduce__ calls os.system is refused before anything runs (a marker
   file must not appear); so are a pickle that names builtins.eval inside a network's state and a
   TensorFlow-era pickle. The importer never executes `module_src` (our pickles embed a source
   line that raises if executed).
3. Refusals with one-line messages: a StyleGAN3 generator, a conditional generator, an existing
   output folder.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import import_pkl  # noqa: E402
from fake_pickle import _PersistencePickler, _stand_in_modules, random_generator, write_official_style_pickle  # noqa: E402
from safe_pickle import RefusedPickle, load_stylegan_pickle  # noqa: E402

CONFIGS = [
    # name, resolution, z/w dim, channel_base, channel_max, mapping layers, conv_clamp, fp16 res, protocol
    ("64px-cb1024", 64, 32, 1024, 64, 2, 256, 0, 4),
    ("128px-cb2048-map8", 128, 64, 2048, 32, 8, None, 2, 2),
    ("32px-cb512", 32, 16, 512, 128, 4, 256, 0, 3),
]
failures: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        failures.append(name)


def f32(path: str, t: torch.Tensor) -> None:
    t.detach().numpy().astype("<f4").tofile(path)


def node_verify(model_dir: str, gold_dir: str) -> tuple[bool | None, str]:
    tsx = os.path.join(ROOT, "node_modules", ".bin", "tsx")
    if not shutil.which("node") or not os.path.exists(tsx):
        return None, "node or tsx missing (run pnpm install)"
    r = subprocess.run([tsx, "--conditions=@stabledrag/source", os.path.join(HERE, "verify_folder.ts"), model_dir, gold_dir], cwd=ROOT, capture_output=True, text=True, timeout=600)
    return r.returncode == 0, (r.stdout.strip() or r.stderr.strip()[-300:])


def round_trip(tmp: str) -> None:
    for name, R, wd, cb, cm, ml, clamp, fp16, proto in CONFIGS:
        G, _ = random_generator(7, resolution=R, z_dim=wd, w_dim=wd, channel_base=cb, channel_max=cm, mapping_layers=ml, conv_clamp=clamp, num_fp16_res=fp16)
        pkl = os.path.join(tmp, f"{name}.pkl")
        write_official_style_pickle(G, pkl, protocol=proto)
        G2, _ = import_pkl.load_generator(pkl)
        fr = import_pkl.default_feature_res(R)
        z = torch.randn(1, wd, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            w, w2 = G.mapping(z), G2.mapping(z)
            ws = (w[:, None] + 0.3 * torch.randn(1, G.num_ws, wd, generator=torch.Generator().manual_seed(4))).contiguous()
            img, feat = G.synthesis(ws, fr)
            img2, feat2 = G2.synthesis(ws, fr)
        same = torch.equal(w, w2) and torch.equal(img, img2) and torch.equal(feat, feat2) and torch.equal(G.mapping.w_avg, G2.mapping.w_avg)
        check(f"{name}: imported network equals the original (protocol {proto})", same)
        out = os.path.join(tmp, f"{name}-model")
        model = import_pkl.export_folder(G2, out, feature_res=fr, name=name, source=os.path.basename(pkl))
        check(f"{name}: model.json", model["num_ws"] == G.num_ws and model["optimize_ws"] == min(6, G.num_ws)
              and abs(model["suggested_radii"]["r2"] - 12 * R / 512) < 1e-3 and model["shapes"]["features"][2] == fr,
              f"num_ws {model['num_ws']}, features {model['shapes']['features']}, radii {model['suggested_radii']['r1']}/{model['suggested_radii']['r2']}")
        gold = os.path.join(tmp, f"{name}-golden")
        os.makedirs(gold)
        wsr = ws.clone().requires_grad_(True)
        _, featr = G.synthesis(wsr, fr)
        u = torch.sin(0.1 * torch.arange(featr.numel(), dtype=torch.float64)).float().reshape(featr.shape)
        (g,) = torch.autograd.grad((featr * u).sum(), wsr)
        for fn, t in (("ws.bin", ws), ("image.bin", img), ("features.bin", feat), ("u.bin", u), ("grad.bin", g)):
            f32(os.path.join(gold, fn), t)
        ok, detail = node_verify(out, gold)
        if ok is None and os.environ.get("CI") != "true":
            print(f"not run {name}: ONNX vs PyTorch in onnxruntime-node ({detail})")
        else:
            check(f"{name}: ONNX in onnxruntime-node vs PyTorch (image, features, VJP)", bool(ok), detail)


def upfirdn2d_reference(x, f, up=1, pad=(0, 0, 0, 0), gain=1.0):
    """upfirdn2d as the StyleGAN2-ADA paper's appendix and code comments describe it, written
    literally: zero insertion by `up`, zero padding (x0, x1, y0, y1), true convolution with f *
    gain (f flipped, then correlated)."""
    B, C, H, W = x.shape
    u = torch.zeros(B, C, H * up, W * up)
    u[:, :, ::up, ::up] = x
    u = torch.nn.functional.pad(u, list(pad))
    k = (f * gain).flip([0, 1])[None, None].repeat(C, 1, 1, 1)
    return torch.nn.functional.conv2d(u, k, groups=C)


def resampling_conventions() -> None:
    """Our fast formulations against the generic ones: the RGB skip upsampling, and the
    up-convolution (transposed conv + filter) against the generic 'upsample with the filter
    (pads 3, 2), then convolve with the flipped weight' path that the official code falls back to."""
    from stylegan2 import fir_filter, modulated_conv, upsample2d

    g = torch.Generator().manual_seed(0)
    f = fir_filter()
    x = torch.randn(1, 3, 7, 7, generator=g)
    d = (upsample2d(x, f) - upfirdn2d_reference(x, f, up=2, pad=(2, 1, 2, 1), gain=4)).abs().max().item()
    check("RGB skip upsampling = zero insertion + [1,3,3,1] filter, pads (2, 1)", d < 1e-5, f"max diff {d:.1e}")
    x = torch.randn(1, 5, 6, 6, generator=g)
    w = torch.randn(4, 5, 3, 3, generator=g)
    ones = torch.ones(1, 5)
    ours = modulated_conv(x, w, ones, False, 1, up=2, resample_filter=f)
    generic = torch.nn.functional.conv2d(upfirdn2d_reference(x, f, up=2, pad=(3, 2, 3, 2), gain=4), w.flip([2, 3]))
    d = (ours - generic).abs().max().item()
    check("up-convolution = filtered upsampling (pads 3, 2) + convolution with the flipped weight", ours.shape == generic.shape and d < 1e-4, f"shape {tuple(ours.shape)}, max diff {d:.1e}")


class _Evil:
    def __init__(self, cmd: str):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def safety(tmp: str) -> None:
    marker = os.path.join(tmp, "pwned")
    evil = os.path.join(tmp, "evil.pkl")
    with open(evil, "wb") as f:
        pickle.dump({"G_ema": _Evil(f"touch {marker}")}, f)
    try:
        load_stylegan_pickle(evil)
        check("a pickle calling os.system is refused", False, "it loaded")
    except RefusedPickle as e:
        check("a pickle calling os.system is refused", "system" in str(e) and "allow-list" in str(e), str(e))
    check("  ... and the command did not run", not os.path.exists(marker))

    # the same call hidden inside a network's state, in official structure
    G, _ = random_generator(1, resolution=8, z_dim=4, w_dim=4, channel_base=64, channel_max=8)
    G.synthesis.b4.payload = _Evil(f"touch {marker}")
    hidden = os.path.join(tmp, "hidden.pkl")
    write_official_style_pickle(G, hidden)
    rc = import_pkl.main([hidden, os.path.join(tmp, "hidden-model")])
    check("os.system inside a persistent object's state is refused", rc == 2 and not os.path.exists(marker))

    class _Eval:
        def __reduce__(self):
            return (eval, ("1+1",))

    with open(evil, "wb") as f:
        pickle.dump({"G_ema": _Eval()}, f)
    try:
        load_stylegan_pickle(evil)
        check("builtins.eval is refused", False, "it loaded")
    except RefusedPickle as e:
        check("builtins.eval is refused", "builtins.eval" in str(e), str(e))

    tf = io.BytesIO()
    tf.write(b"\x80\x02cdnnlib.tflib.network\nNetwork\nq\x00)\x81q\x01.")
    with open(evil, "wb") as f:
        f.write(tf.getvalue())
    try:
        load_stylegan_pickle(evil)
        check("a TensorFlow-era pickle is refused", False, "it loaded")
    except RefusedPickle as e:
        check("a TensorFlow-era pickle is refused", "TensorFlow" in str(e), str(e))


def refusals(tmp: str) -> None:
    pers, du = _stand_in_modules()

    # StyleGAN3: the synthesis network starts with a SynthesisInput module called `input`
    class SynthesisInput(nn.Module):
        pass

    class SynthesisNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.input = SynthesisInput()

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.synthesis = SynthesisNetwork()
            self._init_kwargs = du.EasyDict(z_dim=512, c_dim=0, w_dim=512, img_resolution=256, img_channels=3)

    sg3 = os.path.join(tmp, "sg3.pkl")
    with open(sg3, "wb") as f:
        _PersistencePickler(f, 4, pers).dump(dict(G_ema=Generator()))
    r = subprocess.run([sys.executable, os.path.join(HERE, "import_pkl.py"), sg3, os.path.join(tmp, "sg3-model")], capture_output=True, text=True)
    check("StyleGAN3 is refused with one line", r.returncode == 2 and "StyleGAN3" in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr.strip())

    G, kw = random_generator(1, resolution=8, z_dim=4, w_dim=4, channel_base=64, channel_max=8)
    G._init_kwargs = du.EasyDict({**kw, "c_dim": 10})
    cond = os.path.join(tmp, "cond.pkl")
    write_official_style_pickle(G, cond)
    r = subprocess.run([sys.executable, os.path.join(HERE, "import_pkl.py"), cond, os.path.join(tmp, "cond-model")], capture_output=True, text=True)
    check("a conditional generator is refused", r.returncode == 2 and "c_dim = 10" in r.stderr, r.stderr.strip())

    G, _ = random_generator(1, resolution=8, z_dim=4, w_dim=4, channel_base=64, channel_max=8)
    ok_pkl = os.path.join(tmp, "ok.pkl")
    write_official_style_pickle(G, ok_pkl)
    dest = os.path.join(tmp, "existing")
    os.makedirs(dest)
    with open(os.path.join(dest, "mine.txt"), "w") as f:
        f.write("keep")
    r = subprocess.run([sys.executable, os.path.join(HERE, "import_pkl.py"), ok_pkl, dest], capture_output=True, text=True)
    check("an existing non-empty folder is not overwritten", r.returncode == 2 and "--overwrite" in r.stderr and os.listdir(dest) == ["mine.txt"], r.stderr.strip())


def main() -> int:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="sd-import-") as tmp:
        resampling_conventions()
        safety(tmp)
        refusals(tmp)
        round_trip(tmp)
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
