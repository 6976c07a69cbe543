"""Preview the renderer: a 4x4 grid of random faces and one row per parameter sweep.

    /usr/bin/python3 tools/dataset/preview.py [out_dir]   # default tools/.cache/preview
"""

import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faces  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".cache", "preview")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
img = faces.to_uint8(faces.render(faces.sample_theta(rng, 16)))
Image.fromarray(img.reshape(4, 4, 128, 128, 3).transpose(0, 2, 1, 3, 4).reshape(512, 512, 3)).save(
    os.path.join(out, "dataset-grid.png")
)
rows = []
for name in ["head_yaw", "head_roll", "eye_open", "gaze_x", "mouth_open", "smile", "hair_length", "fringe"]:
    th = np.zeros((6, faces.P), np.float32)
    th[:, faces.PARAM_NAMES.index(name)] = np.linspace(-1, 1, 6)
    rows.append(np.concatenate(list(faces.to_uint8(faces.render(th))), 1))
Image.fromarray(np.concatenate(rows, 0)).save(os.path.join(out, "dataset-sweeps.png"))
print("wrote", out)
