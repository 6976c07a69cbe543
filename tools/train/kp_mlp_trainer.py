"""Trains a generator's nonlinear keypoint head (networks.KeypointMLP, faces2wk2thstxsm) by its own
loss: L1 of the whole head's scene points to the renderer's, on the mapping's w plus isotropic
noise (--kp-noise), so that the head stays as calm off the mapping's w as the ridge-fitted linear
part (tools/README.md, "Where the blobs are placed"). The image loss never reaches its weights;
the linear part is refitted on what the MLP leaves (train.fit_keypoint_head)."""

from __future__ import annotations

import math

import numpy as np
import torch

from landmarks2 import scene_keypoints


class KeypointMLPTrainer:
    def __init__(self, G, rng: np.random.Generator, lr: float, pool: int = 32768):
        """A fixed pool of latents and their scene points (drawn once: ~25 s), and the head's Adam."""
        z = rng.standard_normal((pool, G.z_dim)).astype(np.float32)
        self.z = torch.from_numpy(z)
        self.kp = torch.from_numpy(scene_keypoints(np.asarray(torch.erf(self.z / math.sqrt(2.0))), G.keypoints)).reshape(pool, -1)
        self.base_lr = lr
        self.opt = torch.optim.Adam(G.kp_mlp.parameters(), lr=lr, betas=(0.9, 0.99))

    def set_stats(self, G) -> None:
        """The head's input standardisation from G's mapping (once, before any training of it)."""
        with torch.no_grad():
            w = G.mapping(self.z[:4096])
            G.kp_mlp.mu.copy_(w.mean(0))
            G.kp_mlp.inv_sd.fill_(1.0 / w.std(0).mean().item())

    def step(self, G, noise: float, lr_factor: float = 1.0, batch: int = 256) -> float:
        """One Adam step on the residual of G's linear head; returns the batch's L1 in feature px."""
        idx = torch.randint(0, len(self.z), (batch,))
        with torch.no_grad():
            w = G.mapping(self.z[idx])
            w = w + noise * torch.randn_like(w)
            target = self.kp[idx] - G.kp(w)
        loss = (G.kp_mlp(w) - target).abs().mean()
        for group in self.opt.param_groups:
            group["lr"] = self.base_lr * lr_factor
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)  # the main optimiser never sees these gradients
        return loss.item() * G.feature_res / 2
