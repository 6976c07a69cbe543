"""A micro random-weight model in Stable Diffusion 1.5's ONNX folder layout, for development only.

The committed test model is `models/sd15-layout-tiny/` (made by tools/); this one is smaller still
and is written to an ignored folder so the backend's own tests of layout variants (older
`latent_sample` VAE encoders, float timesteps) have a model to run on. Module names follow
diffusers' UNet2DConditionModel, so torch 1.13 names the nodes as in real exports
(`/up_blocks.2/upsamplers.0/conv/Conv_output_0`, `.../attn1/to_k/MatMul_output_0`).

Run: /usr/bin/python3 packages/backends-diffusion/scripts/make_dev_model.py [out_dir]
Default out_dir: packages/backends-diffusion/out/dev-sd-micro
"""
import json
import math
import os
import sys

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
CH = (8, 16, 16, 16)
GROUPS = 4
TEXT_DIM = 32
HEAD_DIM = 8
RES = 128  # image side; latent 16


class Attention(nn.Module):
    def __init__(self, dim, ctx_dim=None):
        super().__init__()
        ctx_dim = ctx_dim or dim
        self.heads = max(1, dim // HEAD_DIM)
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(ctx_dim, dim, bias=False)
        self.to_v = nn.Linear(ctx_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, c = x.shape
        h = self.heads
        q, k, v = self.to_q(x), self.to_k(ctx), self.to_v(ctx)
        split = lambda t: t.reshape(b, -1, h, c // h).permute(0, 2, 1, 3)
        q, k, v = split(q), split(k), split(v)
        w = torch.softmax(q @ k.transpose(-1, -2) * (c // h) ** -0.5, dim=-1)
        o = (w @ v).permute(0, 2, 1, 3).reshape(b, n, c)
        return self.to_out[1](self.to_out[0](o))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        a, gate = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * 4), nn.Dropout(0.0), nn.Linear(dim * 4, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm1, self.attn1 = nn.LayerNorm(dim), Attention(dim)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attention(dim, TEXT_DIM)
        self.norm3, self.ff = nn.LayerNorm(dim), FeedForward(dim)

    def forward(self, x, ctx):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), ctx) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, dim, eps=1e-6)
        self.proj_in = nn.Conv2d(dim, dim, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(dim)])
        self.proj_out = nn.Conv2d(dim, dim, 1)

    def forward(self, x, ctx):
        b, c, hh, ww = x.shape
        h = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, hh * ww, c)
        for blk in self.transformer_blocks:
            h = blk(h, ctx)
        return self.proj_out(h.reshape(b, hh, ww, c).permute(0, 3, 1, 2)) + x


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(GROUPS, cin, eps=1e-5), nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(GROUPS, cout, eps=1e-5), nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Down(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    """Down or up block; cross-attention when `attn`. Up blocks take skip tensors."""

    def __init__(self, cins, cout, temb, attn, sampler):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c, cout, temb) for c in cins])
        self.attentions = nn.ModuleList([Transformer2DModel(cout) for _ in cins]) if attn else None
        self.sampler_kind = sampler
        if sampler == "down":
            self.downsamplers = nn.ModuleList([Down(cout)])
        if sampler == "up":
            self.upsamplers = nn.ModuleList([Up(cout)])

    def forward(self, x, temb, ctx, skips=None):
        outs = []
        for i, r in enumerate(self.resnets):
            if skips is not None:
                x = torch.cat([x, skips.pop()], dim=1)
            x = r(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, ctx)
            outs.append(x)
        if self.sampler_kind == "down":
            x = self.downsamplers[0](x)
            outs.append(x)
        if self.sampler_kind == "up":
            x = self.upsamplers[0](x)
        return x, outs


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.linear_1, self.linear_2 = nn.Linear(cin, cout), nn.Linear(cout, cout)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        temb = CH[0] * 4
        self.conv_in = nn.Conv2d(4, CH[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(CH[0], temb)
        self.down_blocks = nn.ModuleList([
            Block([CH[0]], CH[0], temb, True, "down"),
            Block([CH[0]], CH[1], temb, True, "down"),
            Block([CH[1]], CH[2], temb, True, "down"),
            Block([CH[2]], CH[3], temb, False, None),
        ])
        self.mid_block = nn.Module()
        self.mid_block.resnets = nn.ModuleList([ResnetBlock2D(CH[3], CH[3], temb), ResnetBlock2D(CH[3], CH[3], temb)])
        self.mid_block.attentions = nn.ModuleList([Transformer2DModel(CH[3])])
        # Skip channels, as diffusers stacks them: conv_in, then each resnet and downsampler output.
        skips = [CH[0], CH[0], CH[0], CH[1], CH[1], CH[2], CH[2], CH[3]]
        rev = list(reversed(CH))
        ups, prev = [], CH[3]
        for i, cout in enumerate(rev):
            cins = []
            for _ in range(2):
                cins.append(prev + skips.pop())
                prev = cout
            ups.append(Block(cins, cout, temb, i > 0, "up" if i < 3 else None))
        self.up_blocks = nn.ModuleList(ups)
        self.conv_norm_out = nn.GroupNorm(GROUPS, CH[0], eps=1e-5)
        self.conv_out = nn.Conv2d(CH[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        half = CH[0] // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = timestep.float()[:, None] * freqs[None]
        temb = self.time_embedding(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))
        x = self.conv_in(sample)
        skips = [x]
        for b in self.down_blocks:
            x, outs = b(x, temb, encoder_hidden_states)
            skips += outs
        x = self.mid_block.resnets[0](x, temb)
        x = self.mid_block.attentions[0](x, encoder_hidden_states)
        x = self.mid_block.resnets[1](x, temb)
        for b in self.up_blocks:
            x, _ = b(x, temb, encoder_hidden_states, skips)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class VaeEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.ModuleList([nn.Conv2d(8, 8, 3, stride=2, padding=1) for _ in range(3)])
        self.conv_norm_out = nn.GroupNorm(GROUPS, 8)
        self.conv_out = nn.Conv2d(8, 8, 3, padding=1)
        self.quant_conv = nn.Conv2d(8, 8, 1)

    def forward(self, sample):
        x = self.conv_in(sample)
        for d in self.down:
            x = F.silu(d(x))
        return self.quant_conv(self.conv_out(F.silu(self.conv_norm_out(x))))


class VaeDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.post_quant_conv = nn.Conv2d(4, 4, 1)
        self.conv_in = nn.Conv2d(4, 16, 3, padding=1)
        self.up = nn.ModuleList([nn.Conv2d(16, 16, 3, padding=1) for _ in range(3)])
        self.conv_norm_out = nn.GroupNorm(GROUPS, 16)
        self.conv_out = nn.Conv2d(16, 3, 3, padding=1)

    def forward(self, latent_sample):
        x = self.conv_in(self.post_quant_conv(latent_sample))
        for u in self.up:
            x = F.silu(u(F.interpolate(x, scale_factor=2.0, mode="nearest")))
        return torch.tanh(self.conv_out(F.silu(self.conv_norm_out(x))))


class TextEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(49408, TEXT_DIM)
        self.position_embedding = nn.Parameter(torch.randn(77, TEXT_DIM) * 0.02)
        self.final_layer_norm = nn.LayerNorm(TEXT_DIM)

    def forward(self, input_ids):
        h = self.final_layer_norm(self.token_embedding(input_ids) + self.position_embedding[None])
        pooled = h[torch.arange(h.shape[0]), input_ids.argmax(dim=-1)]
        return h, pooled


def export(module, args, names_in, names_out, path, external):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=names_in, output_names=names_out, opset_version=17, do_constant_folding=True)
    if external:
        m = onnx.load(path)
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location="weights.pb", size_threshold=1024)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out", "dev-sd-micro")
    out = os.path.normpath(out)
    lat = RES // 8
    with torch.no_grad():
        unet = UNet().eval()
        # Random weights give a near-zero-gain net; a larger conv_out makes eps matter in tests.
        export(unet, (torch.randn(1, 4, lat, lat), torch.tensor([681], dtype=torch.int64), torch.randn(1, 77, TEXT_DIM)),
               ["sample", "timestep", "encoder_hidden_states"], ["out_sample"], os.path.join(out, "unet", "model.onnx"), True)
        export(VaeEncoder().eval(), (torch.randn(1, 3, RES, RES),), ["sample"], ["latent_parameters"], os.path.join(out, "vae_encoder", "model.onnx"), False)
        export(VaeDecoder().eval(), (torch.randn(1, 4, lat, lat),), ["latent_sample"], ["sample"], os.path.join(out, "vae_decoder", "model.onnx"), False)
        export(TextEncoder().eval(), (torch.zeros(1, 77, dtype=torch.int64),), ["input_ids"], ["last_hidden_state", "pooler_output"],
               os.path.join(out, "text_encoder", "model.onnx"), True)
    os.makedirs(os.path.join(out, "scheduler"), exist_ok=True)
    with open(os.path.join(out, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump({"_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
                   "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "clip_sample": False}, f, indent=2)
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump({"_class_name": "OnnxStableDiffusionPipeline", "unet": ["diffusers", "OnnxRuntimeModel"],
                   "vae_encoder": ["diffusers", "OnnxRuntimeModel"], "vae_decoder": ["diffusers", "OnnxRuntimeModel"],
                   "text_encoder": ["diffusers", "OnnxRuntimeModel"], "scheduler": ["diffusers", "PNDMScheduler"]}, f, indent=2)
    print("wrote", out)


if __name__ == "__main__":
    main()
