"""A restricted unpickler for the official StyleGAN .pkl files that never executes their code.

The official pickles store every network object through NVIDIA's `torch_utils.persistence`: an
object is pickled as a call `_reconstruct_persistent_obj(meta)` whose `meta` holds the Python
source of the module that defines the class (`module_src`), the class name and the object's state
(for an nn.Module its `__dict__`: `_parameters`, `_buffers`, `_modules`, plain attributes, and the
constructor's `_init_args` / `_init_kwargs`). Loading them with `pickle.load` would `exec` that
source. Here `find_class` maps the persistence hooks to `PersistentStub` placeholders that only
keep the class name and the state (the source is kept as an unexecuted string), and refuses every
global outside a small allow-list of tensor/container reconstructors. Tensor storages are nested
`torch.save` blobs; they are read with `torch.load(weights_only=True)`, torch's own restricted
unpickler.
"""

from __future__ import annotations

import collections
import io
import pickle
from typing import Any

import torch


class RefusedPickle(Exception):
    """The pickle names something this importer will not load."""


class PersistentStub:
    """Inert stand-in for a persistence-wrapped object: class name and state, nothing runs."""

    def __init__(self, meta: dict):
        if not isinstance(meta, dict) or meta.get("type") != "class":
            raise RefusedPickle("a persistent object of an unknown kind (expected type 'class')")
        self.class_name = str(meta.get("class_name"))
        self.version = meta.get("version")
        src = meta.get("module_src")
        self.module_src = src if isinstance(src, str) else ""  # kept for inspection, never executed
        state = meta.get("state")
        self.state: dict = state if isinstance(state, dict) else {}

    def __setstate__(self, state: Any) -> None:  # BUILD on a stub only stores data
        if isinstance(state, dict):
            self.state.update(state)

    # ---- views of a stubbed nn.Module ----
    @property
    def modules(self) -> dict:
        return dict(self.state.get("_modules") or {})

    @property
    def init_kwargs(self) -> dict:
        return dict(self.state.get("_init_kwargs") or {})

    def flat_state_dict(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Parameters and buffers of this stub and its submodules, named as nn.Module.state_dict()."""
        out: dict[str, torch.Tensor] = {}
        for key in ("_parameters", "_buffers"):
            for name, t in (self.state.get(key) or {}).items():
                if t is not None:
                    out[prefix + name] = t.detach() if isinstance(t, torch.Tensor) else t
        for name, sub in self.modules.items():
            if isinstance(sub, PersistentStub):
                out.update(sub.flat_state_dict(f"{prefix}{name}."))
            elif sub is not None:
                raise RefusedPickle(f"submodule {prefix}{name} is not a persistent object")
        return out

    def find(self, path: str) -> "PersistentStub":
        node = self
        for part in path.split("."):
            node = node.modules[part]
        return node


class EasyDictStub(dict):
    """dnnlib.EasyDict: a dict with attribute access; here just a dict."""


def _load_storage(data: bytes):
    # torch pickles a storage as torch.save bytes; read them with torch's weights-only unpickler
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _codecs_encode(text: str, encoding: str = "utf-8"):
    # protocol-2 pickles write bytes as _codecs.encode(str, 'latin1')
    if encoding not in ("latin1", "latin-1"):
        raise RefusedPickle(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): PersistentStub,
    ("dnnlib.util", "EasyDict"): EasyDictStub,
    ("dnnlib", "EasyDict"): EasyDictStub,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("_codecs", "encode"): _codecs_encode,
    # protocol <= 3 writes sets (nn.Module's _non_persistent_buffers_set) as builtins.set(list)
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "set"): set,  # protocol 2 spells builtins the Python 2 way
    ("__builtin__", "frozenset"): frozenset,
}
if hasattr(torch._utils, "_rebuild_parameter_with_state"):
    _ALLOWED[("torch._utils", "_rebuild_parameter_with_state")] = torch._utils._rebuild_parameter_with_state


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        hit = _ALLOWED.get((module, name))
        if hit is None:
            if module.startswith("dnnlib.tflib"):
                raise RefusedPickle("this is a TensorFlow-era StyleGAN pickle; only the PyTorch pickles (StyleGAN2-ADA-PyTorch, or the StyleGAN2 networks of the StyleGAN3 release) are supported")
            raise RefusedPickle(f"the pickle asks for {module}.{name}, which is not on the importer's allow-list (it may try to run code)")
        return hit

    def persistent_load(self, pid):
        raise RefusedPickle(f"persistent id {pid!r} (the file is not a plain StyleGAN pickle)")


def load_stylegan_pickle(path: str) -> dict:
    """Reads an official-format StyleGAN pickle without executing anything it embeds."""
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head[:2] == b"PK":
            raise RefusedPickle(f"{path} is a zip (torch.save) checkpoint, not a StyleGAN .pkl")
        try:
            data = RestrictedUnpickler(f).load()
        except RefusedPickle:
            raise
        except Exception as e:  # truncated or foreign files
            raise RefusedPickle(f"{path} is not a readable pickle: {type(e).__name__}: {e}") from e
    if not isinstance(data, dict):
        raise RefusedPickle(f"{path} does not hold a dict with 'G_ema' (got {type(data).__name__})")
    return data
