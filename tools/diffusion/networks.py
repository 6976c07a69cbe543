"""A latent diffusion model laid out like Stable Diffusion 1.5, written in plain torch.

Debian packages no diffusers, so the three networks are written here, with diffusers' module
names (UNet2DConditionModel, AutoencoderKL, CLIPTextModel) so that torch 1.13's ONNX export names
nodes as a real SD 1.5 export does, e.g. `/up_blocks.2/attentions.0/transformer_blocks.0/attn1/
to_k/MatMul`. Only the sizes differ; they come from a config dict (see CONFIGS).

Conventions kept from SD 1.5 (so the same backend code runs a real export):
- UNet: sinusoidal timestep embedding with cos first (`flip_sin_to_cos`), an MLP to 4x the first
  channel count; ResnetBlock2D = GroupNorm, SiLU, conv, + time projection, GroupNorm, SiLU, conv;
  Transformer2DModel = GroupNorm, 1x1 proj_in, [self-attention, cross-attention, GEGLU MLP] each
  pre-LayerNorm with a residual, 1x1 proj_out, residual; skips concatenated in the up path;
  nearest x2 upsampling then a 3x3 conv; stride-2 3x3 conv to downsample.
- Attention is MatMul -> Mul(scale) -> Softmax -> MatMul (no fused ops), heads folded into the
  batch axis as diffusers' `head_to_batch_dim` does.
- VAE: encoder -> quant_conv gives mean and log-variance (8 channels); decoder is post_quant_conv
  then the decoder; one self-attention in each mid block; downsampling pads (0,1,0,1) then a
  stride-2 conv without padding, as SD's VAE does.
- Text encoder: CLIP-like names and I/O (`input_ids` -> `last_hidden_state`, `pooler_output`
  taken at the end-of-text token, which has the largest id). The embedded model's "text encoder"
  is only token + position embeddings and a LayerNorm: the model is trained unconditionally on the
  empty prompt, so it is, in effect, a fixed learned embedding behind SD's interface.

Written for this project (torch 1.13).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# Configurations. `unet.blocks` lists the levels from the latent resolution down: channels and
# whether the level has attention (down block CrossAttnDownBlock2D / up block CrossAttnUpBlock2D).
# ---------------------------------------------------------------------------------------------

CONFIGS: dict[str, dict] = {
    # Random weights, for tests: 64x64 RGB -> 16x16x4 latent, ~0.5 MB in all.
    "tiny": {
        "resolution": 64,
        "latent_channels": 4,
        "unet": {"channels": [8, 16, 16, 16], "attention": [False, True, True, False],
                 "layers_per_block": 1, "heads": 2, "groups": 4, "cross_attention_dim": 16},
        "vae": {"channels": [8, 8, 16], "layers_per_block": 1, "groups": 4},
        "text": {"dim": 16, "max_length": 77},
    },
    # Random weights, for tests of SD 1.5's block pattern: VAE factor 8 (128x128 RGB -> 16x16x4),
    # attention at the three finest UNet levels (so up_blocks.3 has attention at the latent
    # resolution). One resnet per level (SD has two: 16 self-attention layers; here 10) keeps the
    # folder under 2 MB, most of which is graph structure. ~1.9 MB in all.
    "tiny-sd15": {
        "resolution": 128,
        "latent_channels": 4,
        "unet": {"channels": [8, 16, 16, 16], "attention": [True, True, True, False],
                 "layers_per_block": 1, "heads": 2, "groups": 4, "cross_attention_dim": 16},
        "vae": {"channels": [8, 8, 16, 16], "layers_per_block": 1, "groups": 4},
        "text": {"dim": 16, "max_length": 77},
    },
    # The embedded model: 128x128 RGB -> 32x32x4 latent (VAE factor 4), attention at 16^2 and 8^2.
    "embedded": {
        "resolution": 128,
        "latent_channels": 4,
        "unet": {"channels": [64, 128, 128, 128], "attention": [False, True, True, False],
                 "layers_per_block": 1, "heads": 4, "groups": 32, "cross_attention_dim": 128},
        "vae": {"channels": [32, 64, 64], "layers_per_block": 1, "groups": 16},
        "text": {"dim": 128, "max_length": 77},
    },
}


def silu(x: torch.Tensor) -> torch.Tensor:
    # Written out so the export is Sigmoid * x on every torch version (as SD exports show).
    return x * torch.sigmoid(x)


class SiLU(nn.Module):
    def forward(self, x):
        return silu(x)


# ---------------------------------------------------------------------------------------------
# Shared blocks
# ---------------------------------------------------------------------------------------------


class ResnetBlock2D(nn.Module):
    def __init__(self, cin: int, cout: int, groups: int, temb: int | None, eps: float = 1e-5):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout) if temb else None
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.conv1(silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(silu(self.norm2(h))))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Downsample2D(nn.Module):
    def __init__(self, c: int, pad_first: bool = False):
        super().__init__()
        # SD's VAE pads (0,1,0,1) and convolves without padding; the UNet pads 1 on every side.
        self.pad_first = pad_first
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=0 if pad_first else 1)

    def forward(self, x):
        if self.pad_first:
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Attention(nn.Module):
    """diffusers' Attention (CrossAttention): to_q/to_k/to_v without bias, to_out = [Linear, Dropout]."""

    def __init__(self, dim: int, heads: int, context_dim: int | None = None, bias: bool = False):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.to_q = nn.Linear(dim, dim, bias=bias)
        self.to_k = nn.Linear(context_dim or dim, dim, bias=bias)
        self.to_v = nn.Linear(context_dim or dim, dim, bias=bias)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def _heads_to_batch(self, x):
        b, n, c = x.shape
        h = self.heads
        return x.reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)

    def _batch_to_heads(self, x):
        bh, n, d = x.shape
        h = self.heads
        return x.reshape(bh // h, h, n, d).permute(0, 2, 1, 3).reshape(bh // h, n, h * d)

    def forward(self, x, context=None):
        ctx = x if context is None else context
        q = self._heads_to_batch(self.to_q(x))
        k = self._heads_to_batch(self.to_k(ctx))
        v = self._heads_to_batch(self.to_v(ctx))
        p = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * self.scale, dim=-1)
        out = self._batch_to_heads(torch.matmul(p, v))
        return self.to_out[1](self.to_out[0](out))


class GEGLU(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, context_dim: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    """SD 1.5's spatial transformer: use_linear_projection = False, i.e. 1x1 convs in and out."""

    def __init__(self, c: int, heads: int, context_dim: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.proj_in = nn.Conv2d(c, c, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(c, heads, context_dim)])
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        y = self.proj_in(self.norm(x))
        y = y.permute(0, 2, 3, 1).reshape(b, h * w, c)
        for blk in self.transformer_blocks:
            y = blk(y, context)
        y = y.reshape(b, h, w, c).permute(0, 3, 1, 2)
        return self.proj_out(y) + x


# ---------------------------------------------------------------------------------------------
# UNet2DConditionModel
# ---------------------------------------------------------------------------------------------


class Timesteps(nn.Module):
    """Sinusoidal embedding, flip_sin_to_cos = True, downscale_freq_shift = 0 (SD 1.5)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        arg = t[:, None].float() * freqs[None, :]
        return torch.cat([torch.cos(arg), torch.sin(arg)], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, cin: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.act = SiLU()
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))


class DownBlock(nn.Module):
    """DownBlock2D, or CrossAttnDownBlock2D when `attention`."""

    def __init__(self, cin, cout, temb, n, attention, add_down, u):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, u["groups"], temb) for i in range(n)])
        self.attentions = (nn.ModuleList([Transformer2DModel(cout, u["heads"], u["cross_attention_dim"], u["groups"]) for _ in range(n)])
                           if attention else None)
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if add_down else None

    def forward(self, x, temb, context):
        skips = []
        for i, r in enumerate(self.resnets):
            x = r(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    """UpBlock2D, or CrossAttnUpBlock2D when `attention`. Channel bookkeeping as diffusers'."""

    def __init__(self, prev_c, cout, skip_cs, temb, attention, add_up, u):
        super().__init__()
        n = len(skip_cs)
        self.resnets = nn.ModuleList([ResnetBlock2D((prev_c if i == 0 else cout) + skip_cs[i], cout, u["groups"], temb) for i in range(n)])
        self.attentions = (nn.ModuleList([Transformer2DModel(cout, u["heads"], u["cross_attention_dim"], u["groups"]) for _ in range(n)])
                           if attention else None)
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if add_up else None

    def forward(self, x, skips, temb, context):
        for i, r in enumerate(self.resnets):
            x = r(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class UNetMidBlock2DCrossAttn(nn.Module):
    def __init__(self, c, temb, u):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, u["groups"], temb), ResnetBlock2D(c, c, u["groups"], temb)])
        self.attentions = nn.ModuleList([Transformer2DModel(c, u["heads"], u["cross_attention_dim"], u["groups"])])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, context)
        return self.resnets[1](x, temb)


class UNet2DConditionModel(nn.Module):
    def __init__(self, u: dict, latent_channels: int = 4):
        super().__init__()
        ch, att, n = u["channels"], u["attention"], u["layers_per_block"]
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(latent_channels, ch[0], 3, padding=1)
        self.time_proj = Timesteps(ch[0])
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        skip_cs = [ch[0]]
        for i, c in enumerate(ch):
            last = i == len(ch) - 1
            self.down_blocks.append(DownBlock(ch[max(i - 1, 0)], c, temb, n, att[i], not last, u))
            skip_cs += [c] * n + ([] if last else [c])
        self.mid_block = UNetMidBlock2DCrossAttn(ch[-1], temb, u)
        self.up_blocks = nn.ModuleList()
        rev, rev_att = ch[::-1], att[::-1]
        prev = ch[-1]
        for i, c in enumerate(rev):
            mine = [skip_cs.pop() for _ in range(n + 1)]
            last = i == len(rev) - 1
            self.up_blocks.append(UpBlock(prev, c, mine, temb, rev_att[i], not last, u))
            prev = c
        self.conv_norm_out = nn.GroupNorm(u["groups"], ch[0], eps=1e-5)
        self.conv_act = SiLU()
        self.conv_out = nn.Conv2d(ch[0], latent_channels, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        t = timestep.reshape(-1).expand(sample.shape[0])  # a [1] timestep serves a batch, as in diffusers
        # The sinusoids are computed in float32 as the float32 ONNX graph does, even for a float64 golden.
        temb = self.time_embedding(self.time_proj(t).to(sample.dtype))
        x = self.conv_in(sample)
        skips = [x]
        for blk in self.down_blocks:
            x, s = blk(x, temb, encoder_hidden_states)
            skips += s
        x = self.mid_block(x, temb, encoder_hidden_states)
        for blk in self.up_blocks:
            x = blk(x, skips, temb, encoder_hidden_states)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


# ---------------------------------------------------------------------------------------------
# AutoencoderKL
# ---------------------------------------------------------------------------------------------


class VaeAttention(nn.Module):
    """The VAE mid-block self-attention: GroupNorm, single head, biased projections, residual."""

    def __init__(self, c: int, groups: int):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.to_q = nn.Linear(c, c)
        self.to_k = nn.Linear(c, c)
        self.to_v = nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c), nn.Dropout(0.0)])
        self.scale = c ** -0.5

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(y), self.to_k(y), self.to_v(y)
        p = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * self.scale, dim=-1)
        y = self.to_out[1](self.to_out[0](torch.matmul(p, v)))
        return y.transpose(1, 2).reshape(b, c, h, w) + x


class UNetMidBlock2D(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, groups, None, 1e-6), ResnetBlock2D(c, c, groups, None, 1e-6)])
        self.attentions = nn.ModuleList([VaeAttention(c, groups)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class EncoderBlock(nn.Module):  # DownEncoderBlock2D
    def __init__(self, cin, cout, n, groups, add_down):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, groups, None, 1e-6) for i in range(n)])
        self.downsamplers = nn.ModuleList([Downsample2D(cout, pad_first=True)]) if add_down else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return self.downsamplers[0](x) if self.downsamplers is not None else x


class DecoderBlock(nn.Module):  # UpDecoderBlock2D
    def __init__(self, cin, cout, n, groups, add_up):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, groups, None, 1e-6) for i in range(n)])
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if add_up else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return self.upsamplers[0](x) if self.upsamplers is not None else x


class Encoder(nn.Module):
    def __init__(self, v: dict, latent_channels: int):
        super().__init__()
        ch, n, g = v["channels"], v["layers_per_block"], v["groups"]
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        self.down_blocks = nn.ModuleList(
            [EncoderBlock(ch[max(i - 1, 0)], c, n, g, i < len(ch) - 1) for i, c in enumerate(ch)])
        self.mid_block = UNetMidBlock2D(ch[-1], g)
        self.conv_norm_out = nn.GroupNorm(g, ch[-1], eps=1e-6)
        self.conv_act = SiLU()
        self.conv_out = nn.Conv2d(ch[-1], 2 * latent_channels, 3, padding=1)

    def forward(self, x):
        x = self.conv_in(x)
        for b in self.down_blocks:
            x = b(x)
        return self.conv_out(self.conv_act(self.conv_norm_out(self.mid_block(x))))


class Decoder(nn.Module):
    def __init__(self, v: dict, latent_channels: int):
        super().__init__()
        ch, n, g = v["channels"][::-1], v["layers_per_block"], v["groups"]
        self.conv_in = nn.Conv2d(latent_channels, ch[0], 3, padding=1)
        self.mid_block = UNetMidBlock2D(ch[0], g)
        self.up_blocks = nn.ModuleList(
            [DecoderBlock(ch[max(i - 1, 0)], c, n + 1, g, i < len(ch) - 1) for i, c in enumerate(ch)])
        self.conv_norm_out = nn.GroupNorm(g, ch[-1], eps=1e-6)
        self.conv_act = SiLU()
        self.conv_out = nn.Conv2d(ch[-1], 3, 3, padding=1)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for b in self.up_blocks:
            x = b(x)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


class AutoencoderKL(nn.Module):
    def __init__(self, v: dict, latent_channels: int = 4):
        super().__init__()
        self.encoder = Encoder(v, latent_channels)
        self.decoder = Decoder(v, latent_channels)
        self.quant_conv = nn.Conv2d(2 * latent_channels, 2 * latent_channels, 1)
        self.post_quant_conv = nn.Conv2d(latent_channels, latent_channels, 1)

    def encode(self, x):
        """x in [-1, 1] -> latent_parameters [B, 2L, h, w] (mean, log-variance)."""
        return self.quant_conv(self.encoder(x))

    def decode(self, z):
        """Unscaled latent -> image in about [-1, 1]."""
        return self.decoder(self.post_quant_conv(z))


# ---------------------------------------------------------------------------------------------
# Text encoder
# ---------------------------------------------------------------------------------------------

BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def make_vocab() -> dict[str, int]:
    """Characters (plain and word-final '</w>' forms, as CLIP's BPE spells them) + BOS + EOS.

    Without merges, a CLIP BPE tokenizer with this vocabulary tokenizes character by character.
    EOS gets the largest id, as in CLIP, so pooling at argmax(input_ids) picks it.
    """
    chars = [chr(c) for c in range(33, 127) if not ("A" <= chr(c) <= "Z")]  # CLIP lower-cases
    toks = chars + [c + "</w>" for c in chars] + [BOS, EOS]
    return {t: i for i, t in enumerate(toks)}


class TextEmbeddings(nn.Module):
    def __init__(self, vocab: int, dim: int, max_length: int):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Embedding(max_length, dim)

    def forward(self, ids):
        return self.token_embedding(ids) + self.position_embedding.weight[None, : ids.shape[1]]


class TextTransformer(nn.Module):
    def __init__(self, vocab: int, dim: int, max_length: int):
        super().__init__()
        self.embeddings = TextEmbeddings(vocab, dim, max_length)
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, ids):
        h = self.final_layer_norm(self.embeddings(ids))
        pooled = h[torch.arange(h.shape[0]), ids.argmax(dim=-1)]
        return h, pooled


class CLIPTextModel(nn.Module):
    def __init__(self, t: dict):
        super().__init__()
        self.vocab = make_vocab()
        self.text_model = TextTransformer(len(self.vocab), t["dim"], t["max_length"])
        self.max_length = t["max_length"]

    def forward(self, input_ids):
        return self.text_model(input_ids)

    def empty_prompt_ids(self) -> torch.Tensor:
        """[1, 77]: BOS then EOS padding (SD 1.5's tokenizer pads with EOS)."""
        ids = torch.full((1, self.max_length), self.vocab[EOS], dtype=torch.long)
        ids[0, 0] = self.vocab[BOS]
        return ids


class LatentDiffusion(nn.Module):
    """The three networks together (what is trained and checkpointed)."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        self.unet = UNet2DConditionModel(cfg["unet"], cfg["latent_channels"])
        self.vae = AutoencoderKL(cfg["vae"], cfg["latent_channels"])
        self.text_encoder = CLIPTextModel(cfg["text"])


# ---------------------------------------------------------------------------------------------
# Cost counting (multiply-accumulates of one call; convs, linears and attention matmuls)
# ---------------------------------------------------------------------------------------------


def count_macs(module: nn.Module, *inputs) -> int:
    total = [0]
    hooks = []

    def conv_hook(m, _inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def lin_hook(m, _inp, out):
        total[0] += out.numel() * m.in_features

    def attn_hook(m, inp, out):
        x = inp[0]
        ctx = inp[1] if len(inp) > 1 and inp[1] is not None else x
        if x.dim() == 4:  # VAE attention on [B, C, H, W]
            n, c = x.shape[2] * x.shape[3], x.shape[1]
            total[0] += 2 * x.shape[0] * n * n * c
        else:
            total[0] += 2 * x.shape[0] * x.shape[1] * ctx.shape[1] * x.shape[2]

    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, (Attention, VaeAttention)):
            hooks.append(m.register_forward_hook(attn_hook))
    with torch.no_grad():
        module(*inputs)
    for h in hooks:
        h.remove()
    return total[0]


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())
