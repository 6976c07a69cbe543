"""Test support: writes .pkl files with the structure of the official StyleGAN2-ADA pickles from
the project's own modules (stylegan2.py) and random weights, so the importer can be tested
without NVIDIA's files or code.

Structure reproduced: a dict {'G', 'D', 'G_ema', 'augment_pipe', 'training_set_kwargs'} whose
networks are pickled as calls `torch_utils.persistence._reconstruct_persistent_obj(meta)`, meta =
{type: 'class', version: 6, module_src: <source text>, class_name, state: module.__dict__ with
_init_args/_init_kwargs}; constructor kwargs hold dnnlib.util.EasyDict values; tensors go
through torch's own reducers. The names `torch_utils.persistence` and `dnnlib.util` exist here
only as empty stand-in modules registered while pickling: the function they expose raises if
anything ever calls it, and module_src is a line that raises if anything ever executes it.
"""

from __future__ import annotations

import copy
import math
import os
import pickle
import sys
import types

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from stylegan2 import Generator  # noqa: E402

MODULE_SRC = "raise RuntimeError('the embedded module source was executed')\n"


def _stand_in_modules():
    """Registers importable names so pickle can write references to them (test only)."""
    if "torch_utils.persistence" in sys.modules and getattr(sys.modules["torch_utils.persistence"], "_stand_in", False):
        return sys.modules["torch_utils.persistence"], sys.modules["dnnlib.util"]
    tu, pers = types.ModuleType("torch_utils"), types.ModuleType("torch_utils.persistence")
    dn, du = types.ModuleType("dnnlib"), types.ModuleType("dnnlib.util")

    def _reconstruct_persistent_obj(meta):
        raise RuntimeError("stand-in persistence hook called: the importer must not resolve it")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    pers._reconstruct_persistent_obj = _reconstruct_persistent_obj
    pers._stand_in = True

    class EasyDict(dict):
        pass

    EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    du.EasyDict = EasyDict
    tu.persistence, dn.util = pers, du
    sys.modules.update({"torch_utils": tu, "torch_utils.persistence": pers, "dnnlib": dn, "dnnlib.util": du})
    return pers, du


class _PersistencePickler(pickle.Pickler):
    def __init__(self, f, protocol, pers):
        super().__init__(f, protocol=protocol)
        self.pers = pers

    def reducer_override(self, obj):
        if isinstance(obj, nn.Module):
            state = dict(obj.__dict__)
            state.setdefault("_init_args", ())
            state.setdefault("_init_kwargs", {})
            meta = dict(type="class", version=6, module_src=MODULE_SRC, class_name=type(obj).__name__, state=state)
            return self.pers._reconstruct_persistent_obj, (meta,)
        return NotImplemented


def random_generator(seed: int, *, resolution: int, z_dim: int, w_dim: int, channel_base: int, channel_max: int,
                     mapping_layers: int = 2, conv_clamp=256, num_fp16_res: int = 0):
    """Our Generator with random weights (noise strengths and biases non-zero, toRGB scaled so the
    image stays near [-1, 1]) and its constructor kwargs in the ADA layout."""
    _, du = _stand_in_modules()
    kwargs = dict(
        z_dim=z_dim, c_dim=0, w_dim=w_dim, img_resolution=resolution, img_channels=3,
        mapping_kwargs=du.EasyDict(num_layers=mapping_layers),
        synthesis_kwargs=du.EasyDict(channel_base=channel_base, channel_max=channel_max, num_fp16_res=num_fp16_res, conv_clamp=conv_clamp),
    )
    torch.manual_seed(seed)
    G = Generator(**copy.deepcopy(kwargs)).eval()
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.copy_(torch.rand([]) * 0.2)
            elif name.endswith(".bias") and "affine" not in name:
                p.copy_(torch.randn_like(p) * 0.1)
            elif "torgb.weight" in name:
                p.mul_(1 / math.sqrt(len(G.synthesis.block_resolutions)))
        G.mapping.w_avg.copy_(G.mapping(torch.randn(2000, z_dim, generator=torch.Generator().manual_seed(seed + 1))).mean(0))
    G._init_kwargs = kwargs
    return G, kwargs


def write_official_style_pickle(G: nn.Module, path: str, protocol: int = 4) -> None:
    pers, du = _stand_in_modules()
    data = dict(
        G=G, D=None, G_ema=G, augment_pipe=None,
        training_set_kwargs=du.EasyDict(class_name="training.dataset.ImageFolderDataset", path="random", resolution=G.img_resolution),
    )
    with open(path, "wb") as f:
        _PersistencePickler(f, protocol, pers).dump(data)


def main() -> None:
    """Writes a random-weights pickle with the official configuration (default: FFHQ-like
    StyleGAN2 at 512 px: z = w = 512, 8 mapping layers, channel_base 32768, channel_max 512,
    conv_clamp 256), to try the importer or time a model of real size without downloading one."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("out", help=".pkl to write")
    ap.add_argument("--resolution", type=int, default=512)
    ap.add_argument("--dim", type=int, default=512, help="z_dim = w_dim")
    ap.add_argument("--channel-base", type=int, default=32768)
    ap.add_argument("--channel-max", type=int, default=512)
    ap.add_argument("--mapping-layers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if os.path.exists(a.out):
        raise SystemExit(f"fake_pickle: {a.out} exists; choose another file name")
    torch.set_num_threads(1)
    G, _ = random_generator(a.seed, resolution=a.resolution, z_dim=a.dim, w_dim=a.dim, channel_base=a.channel_base,
                            channel_max=a.channel_max, mapping_layers=a.mapping_layers, conv_clamp=256, num_fp16_res=4)
    write_official_style_pickle(G, a.out)
    print(f"wrote {a.out}: {a.resolution} px, num_ws {G.num_ws}, {sum(p.numel() for p in G.parameters()) / 1e6:.1f} M parameters")


if __name__ == "__main__":
    main()
