"""Preview faces2: a 4x4 grid of random faces, the average face, and parameter sweeps.

    /usr/bin/python3 tools/dataset/preview2.py [out_dir]   # default tools/.cache/preview2
"""

import os
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faces2  # noqa: E402

R = faces2.RES
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".cache", "preview2")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
th = faces2.sample_theta(rng, 16)
t0 = time.perf_counter()
img = faces2.to_uint8(faces2.render(th))
print(f"16 images in {time.perf_counter() - t0:.3f} s")
Image.fromarray(img.reshape(4, 4, R, R, 3).transpose(0, 2, 1, 3, 4).reshape(4 * R, 4 * R, 3)).save(
    os.path.join(out, "grid.png")
)
SWEEPS = [
    "head_yaw", "eye_l_x", "lid_r", "gaze_x", "brow_l_tilt", "nose_x", "ear_r_out", "mouth_r_y",
    "mouth_l_x", "mouth_open", "lock_l_y", "lock_r_x", "collar_l_y", "hair_strand_phase", "warp_dx_3_2", "warp_dy_4_3",
]
rows = []
for name in SWEEPS:
    th = np.zeros((6, faces2.P), np.float32)
    th[:, faces2.PARAM_NAMES.index(name)] = np.linspace(-1, 1, 6)
    rows.append(np.concatenate(list(faces2.to_uint8(faces2.render(th))), 1))
Image.fromarray(np.concatenate(rows[:8], 0)).save(os.path.join(out, "sweeps-a.png"))
Image.fromarray(np.concatenate(rows[8:], 0)).save(os.path.join(out, "sweeps-b.png"))
print("wrote", out, "sweeps:", SWEEPS)
