"""How much of a checkpoint's held-out L1 is the renderer's periodic textures: the 32 held-out
renders (train.py's set) are rendered again with one texture's amplitude set to 0 (background
waves, hair strands, shirt stripes, then all three), and the model is scored against each.

    /usr/bin/python3 tools/train/texture_share.py tools/checkpoints/faces2wk2thst/latest.pt

A model that draws the textureless scene scores lower against the textureless render by about
the texture's own L1; one that draws the texture as well scores higher there.
"""

from __future__ import annotations

import os
import sys
import types

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "dataset"))
import faces2  # noqa: E402
import train  # noqa: E402
from networks import Generator  # noqa: E402

# the amplitude literals of faces2.render_scene's three periodic textures
TEXTURES = {
    "background waves": ("1.0 + 0.07 * wave", "1.0 + 0.0 * wave"),
    "hair strands": ("1.0 + 0.13 * strand", "1.0 + 0.0 * strand"),
    "shirt stripes": ("1.0 + 0.12 * (t[\"shirt_stripes\"]", "1.0 + 0.0 * (t[\"shirt_stripes\"]"),
}


def renderer_without(names: list[str]) -> types.ModuleType:
    """faces2 with the named textures' amplitudes at 0 (a patched copy; faces2 itself untouched)."""
    with open(faces2.__file__) as f:
        src = f.read()
    for n in names:
        old, new = TEXTURES[n]
        if src.count(old) != 1:
            sys.exit(f"error: faces2.py no longer has exactly one '{old}'; update TEXTURES in {__file__}")
        src = src.replace(old, new)
    mod = types.ModuleType("faces2_plain")
    mod.__file__ = faces2.__file__
    exec(compile(src, faces2.__file__, "exec"), mod.__dict__)
    return mod


def main() -> None:
    torch.set_num_threads(1)
    ck = torch.load(sys.argv[1])
    z, x = train.held_out_set(faces2, ck["config"])
    G = Generator(**ck["config"]).eval()
    G.load_state_dict(ck["G_ema"])
    with torch.no_grad():
        y = G(torch.from_numpy(z))
    print(f"step {ck['step']} (EMA): held-out L1 {(y - x).abs().mean():.4f}")
    for names in [[n] for n in TEXTURES] + [list(TEXTURES)]:
        xp = train.to_float(train.render_z(z, renderer_without(names), faces2.RES))
        print(
            f"  without {' + '.join(names)}: model vs that render {(y - xp).abs().mean():.4f}, "
            f"the texture's own L1 {(x - xp).abs().mean():.4f}"
        )


if __name__ == "__main__":
    main()
