#!/usr/bin/python3
"""Exports a LatentDiffusion model to ONNX in Stable Diffusion 1.5's folder layout.

  /usr/bin/python3 tools/diffusion/export.py embedded [--checkpoint tools/.cache/diffusion/latest.pt]
      -> packages/backends-diffusion/models/sd-embedded/
  (the tiny random-weight test model and its golden data: tools/diffusion/make_tiny.py)

Folder (as optimum / diffusers' ONNX conversion writes SD 1.5):
  unet/model.onnx + unet/model.onnx_data   sample [B,4,h,w], timestep [B] float32 (or [1]),
                                           encoder_hidden_states [B,77,D] -> out_sample [B,4,h,w]
  vae_encoder/model.onnx                   sample [B,3,H,W] in [-1,1] -> latent_parameters [B,8,h,w]
  vae_decoder/model.onnx                   latent_sample [B,4,h,w] (unscaled) -> sample [B,3,H,W]
  text_encoder/model.onnx                  input_ids [B,77] int32 -> last_hidden_state, pooler_output
  tokenizer/, scheduler/scheduler_config.json, model_index.json, */config.json
  model.json                               this project's description (feature tensor, K/V tensors, defaults)

Every graph: opset 17, torch 1.13 tracer, constant folding, dynamic batch/height/width axes as in
real exports. The script checks the op types against the set @stabledrag/onnx-autograd handles
and that every tensor named in model.json exists.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import networks as N  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = os.path.join(ROOT, "packages", "backends-diffusion", "models")
OPSET = 17

# Op types the exports may contain: the differentiable set of @stabledrag/onnx-autograd plus the
# integer shape-chain ops torch emits for dynamic shapes (never on a gradient path).
ALLOWED_OPS = {
    "Add", "Cast", "Concat", "Constant", "ConstantOfShape", "Conv", "Cos", "Div", "Equal", "Erf", "Exp",
    "Expand", "Gather", "Identity", "InstanceNormalization", "LayerNormalization", "MatMul", "Mul",
    "Pad", "Reshape", "Resize", "Shape", "Sigmoid", "Sin", "Slice", "Softmax", "Split", "Sqrt", "Sub",
    "Transpose", "Unsqueeze", "Where", "ArgMax", "Range", "Gemm", "Squeeze", "Flatten",
}

SCHEDULER = {
    "_class_name": "DDIMScheduler",
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "steps_offset": 1,
    "set_alpha_to_one": False,
    "clip_sample": False,
    "prediction_type": "epsilon",
    "trained_betas": None,
}

# DragDiffusion's defaults (see shared reference diffusion.md); StableDrag's additions in `stabledrag`.
DRAG_DEFAULTS = {
    "inferenceSteps": 50,
    "inversionStrength": 0.7,
    "dragStepIndex": 15,
    "guidanceScale": 1.0,
    "prompt": "",
    "latentLr": 0.01,
    "dragSteps": 80,
    "rM": 1,
    "rP": 3,
    "maskLambda": 0.1,
    "featureScale": 0.5,
    "lora": {"rank": 16, "lr": 5e-4, "weightDecay": 1e-2, "steps": 80, "batch": 4,
             "targets": ["to_q", "to_k", "to_v", "to_out.0"]},
    "stabledrag": {"trackingLambda": 0.3, "confidenceTau": 0.4, "dragSteps": 60},
}


class VaeEncoderExport(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.encoder, self.quant_conv = vae.encoder, vae.quant_conv

    def forward(self, sample):
        return self.quant_conv(self.encoder(sample))


class VaeDecoderExport(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.post_quant_conv, self.decoder = vae.post_quant_conv, vae.decoder

    def forward(self, latent_sample):
        return self.decoder(self.post_quant_conv(latent_sample))


class TextEncoderExport(nn.Module):
    def __init__(self, te):
        super().__init__()
        self.text_model = te.text_model

    def forward(self, input_ids):
        return self.text_model(input_ids.long())


def _export(module, args, path, inputs, outputs, dynamic, external: bool):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, tmp, input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                          opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(tmp)
    os.remove(tmp)
    data = os.path.join(os.path.dirname(path), "model.onnx_data")
    if os.path.exists(data):
        os.remove(data)
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx_data", size_threshold=0)
    else:
        onnx.save_model(model, path)
    bad = sorted({n.op_type for n in model.graph.node} - ALLOWED_OPS)
    if bad:
        raise SystemExit(f"{path}: op types outside the differentiable set: {bad}")
    return model


def self_attention_layers(unet: N.UNet2DConditionModel) -> list[str]:
    """Module paths of the self-attentions (attn1), in execution order: down, mid, up."""
    names = []
    order = [f"down_blocks.{i}" for i in range(len(unet.down_blocks))] + ["mid_block"] + \
            [f"up_blocks.{i}" for i in range(len(unet.up_blocks))]
    mods = dict(unet.named_modules())
    for prefix in order:
        blk = mods[prefix]
        if getattr(blk, "attentions", None) is None:
            continue
        for j in range(len(blk.attentions)):
            names.append(f"{prefix}.attentions.{j}.transformer_blocks.0.attn1")
    return names


def export_folder(model: N.LatentDiffusion, out_dir: str, *, name: str, scaling_factor: float, extra: dict) -> dict:
    cfg = model.cfg
    R, L = cfg["resolution"], cfg["latent_channels"]
    factor = 2 ** (len(cfg["vae"]["channels"]) - 1)
    h = R // factor
    T, D = cfg["text"]["max_length"], cfg["text"]["dim"]
    model = model.float().eval()
    te = model.text_encoder
    ids = te.empty_prompt_ids()
    with torch.no_grad():
        ehs, _ = te(ids)

    unet = _export(model.unet, (torch.randn(1, L, h, h), torch.tensor([681.0]), ehs),
                   os.path.join(out_dir, "unet", "model.onnx"),
                   ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
                   {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "steps"},
                    "encoder_hidden_states": {0: "batch", 1: "sequence"},
                    "out_sample": {0: "batch", 2: "height", 3: "width"}}, external=True)
    _export(VaeEncoderExport(model.vae), (torch.randn(1, 3, R, R),), os.path.join(out_dir, "vae_encoder", "model.onnx"),
            ["sample"], ["latent_parameters"],
            {"sample": {0: "batch", 2: "height", 3: "width"}, "latent_parameters": {0: "batch", 2: "height", 3: "width"}},
            external=False)
    _export(VaeDecoderExport(model.vae), (torch.randn(1, L, h, h),), os.path.join(out_dir, "vae_decoder", "model.onnx"),
            ["latent_sample"], ["sample"],
            {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "height", 3: "width"}},
            external=False)
    _export(TextEncoderExport(te), (ids.to(torch.int32),), os.path.join(out_dir, "text_encoder", "model.onnx"),
            ["input_ids"], ["last_hidden_state", "pooler_output"],
            {"input_ids": {0: "batch", 1: "sequence"}, "last_hidden_state": {0: "batch", 1: "sequence"},
             "pooler_output": {0: "batch"}}, external=False)

    # Names the backend needs, checked against the exported graph.
    produced = {o for n in unet.graph.node for o in n.output}
    feature = "/up_blocks.2/upsamplers.0/conv/Conv_output_0"
    layers = []
    for path in self_attention_layers(model.unet):
        base = "/" + path.replace(".attentions.", "/attentions.").replace(".transformer_blocks.0.", "/transformer_blocks.0/")
        entry = {"module": path,
                 "q": f"{base}/to_q/MatMul_output_0", "k": f"{base}/to_k/MatMul_output_0", "v": f"{base}/to_v/MatMul_output_0",
                 "nodes": {p: f"{base}/{p}/MatMul" for p in ("to_q", "to_k", "to_v", "to_out.0")}}
        layers.append(entry)
    for tname in [feature] + [e[k] for e in layers for k in ("q", "k", "v")]:
        if tname not in produced:
            raise SystemExit(f"tensor {tname} not found in the exported UNet")
    node_names = {n.name for n in unet.graph.node}
    for e in layers:
        for n in e["nodes"].values():
            if n not in node_names:
                raise SystemExit(f"node {n} not found in the exported UNet")
    # MasaCtrl in DragDiffusion: self-attention layers from `up_blocks[2]` on (SD 1.5: layer 10 of 16).
    up_layers = [i for i, e in enumerate(layers) if e["module"].startswith(("up_blocks.2.", "up_blocks.3."))]
    why = ("the self-attentions of up_blocks.2, the decoder level at half the latent resolution: DragDiffusion's "
           "layer 10 of 16 selects SD's up_blocks[2] and [3]") if all(
        layers[i]["module"].startswith("up_blocks.2.") for i in up_layers) else \
        "the self-attentions of up_blocks.2 and up_blocks.3: DragDiffusion's layer 10 of 16 (SD 1.5's block pattern)"

    u, v = cfg["unet"], cfg["vae"]
    nblocks = len(u["channels"])
    down_types = ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in u["attention"]]
    up_types = ["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in u["attention"][::-1]]
    feat_c = u["channels"][::-1][2]
    _write_json(os.path.join(out_dir, "unet", "config.json"), {
        "_class_name": "UNet2DConditionModel", "sample_size": h, "in_channels": L, "out_channels": L,
        "block_out_channels": u["channels"], "layers_per_block": u["layers_per_block"],
        "down_block_types": down_types, "up_block_types": up_types, "attention_head_dim": u["heads"],
        "cross_attention_dim": u["cross_attention_dim"], "norm_num_groups": u["groups"],
        "flip_sin_to_cos": True, "freq_shift": 0, "use_linear_projection": False})
    vae_cfg = {"_class_name": "AutoencoderKL", "sample_size": R, "in_channels": 3, "out_channels": 3,
               "latent_channels": L, "block_out_channels": v["channels"], "layers_per_block": v["layers_per_block"],
               "down_block_types": ["DownEncoderBlock2D"] * len(v["channels"]),
               "up_block_types": ["UpDecoderBlock2D"] * len(v["channels"]),
               "norm_num_groups": v["groups"], "scaling_factor": scaling_factor}
    _write_json(os.path.join(out_dir, "vae_encoder", "config.json"), vae_cfg)
    _write_json(os.path.join(out_dir, "vae_decoder", "config.json"), vae_cfg)
    _write_json(os.path.join(out_dir, "text_encoder", "config.json"), {
        "_class_name": "CLIPTextModel", "hidden_size": D, "max_position_embeddings": T,
        "vocab_size": len(te.vocab), "num_hidden_layers": 0,
        "bos_token_id": te.vocab[N.BOS], "eos_token_id": te.vocab[N.EOS], "pad_token_id": te.vocab[N.EOS]})
    _write_tokenizer(os.path.join(out_dir, "tokenizer"), te.vocab, T)
    _write_json(os.path.join(out_dir, "scheduler", "scheduler_config.json"), SCHEDULER)
    _write_json(os.path.join(out_dir, "model_index.json"), {
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.14.0",
        "feature_extractor": [None, None], "safety_checker": [None, None], "requires_safety_checker": False,
        "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "vae_encoder": ["diffusers", "OnnxRuntimeModel"]})

    desc = {
        "format": "stabledrag-diffusion",
        "formatVersion": 1,
        "name": name,
        "resolution": R,
        "latent": {"channels": L, "height": h, "width": h},
        "vaeScaleFactor": factor,
        "vaeScalingFactor": scaling_factor,
        "textEmbedding": {"sequenceLength": T, "dim": D, "prompt": ""},
        "files": {"unet": "unet/model.onnx", "vaeEncoder": "vae_encoder/model.onnx",
                  "vaeDecoder": "vae_decoder/model.onnx", "textEncoder": "text_encoder/model.onnx"},
        "unet": {"timestep": {"type": "float32", "shape": [1]}, "blocks": nblocks},
        "features": {"tensor": feature, "block": "up_blocks.2", "channels": feat_c, "height": h, "width": h,
                     "resizeTo": R // 2},
        "selfAttention": layers,
        "mutualSelfAttention": {"startStep": 0, "layers": up_layers, "why": why},
        "scheduler": {k: SCHEDULER[k] for k in ("beta_start", "beta_end", "beta_schedule", "num_train_timesteps", "steps_offset",
                                                 "set_alpha_to_one", "clip_sample", "prediction_type")},
        "defaults": DRAG_DEFAULTS,
    }
    desc.update(extra)
    _write_json(os.path.join(out_dir, "model.json"), desc)
    return desc


def _write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def _write_tokenizer(d: str, vocab: dict, max_length: int) -> None:
    """A character-level CLIP BPE tokenizer: the vocabulary below and no merges."""
    _write_json(os.path.join(d, "vocab.json"), vocab)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    _write_json(os.path.join(d, "tokenizer_config.json"), {
        "tokenizer_class": "CLIPTokenizer", "model_max_length": max_length, "do_lower_case": True,
        "bos_token": N.BOS, "eos_token": N.EOS, "pad_token": N.EOS, "unk_token": N.EOS})
    _write_json(os.path.join(d, "special_tokens_map.json"), {
        "bos_token": N.BOS, "eos_token": N.EOS, "pad_token": N.EOS, "unk_token": N.EOS})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", choices=["embedded"])
    ap.add_argument("--checkpoint", default=os.path.join(ROOT, "tools", ".cache", "diffusion", "latest.pt"))
    ap.add_argument("--out", default=os.path.join(MODELS, "sd-embedded"))
    ap.add_argument("--decoder", help="a fine-tuned VAE decoder (finetune_decoder.py's decoder.pt); its EMA weights replace the checkpoint's")
    args = ap.parse_args()
    if not os.path.exists(args.checkpoint):
        raise SystemExit(f"no checkpoint at {args.checkpoint}: train first (tools/diffusion/run_training.sh)")
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = N.LatentDiffusion(ck["config"])
    model.load_state_dict(ck["ema"] if "ema" in ck else ck["model"])
    decoder = None
    if args.decoder:
        decoder = torch.load(args.decoder, map_location="cpu")
        torch.nn.ModuleDict({"post_quant_conv": model.vae.post_quant_conv, "decoder": model.vae.decoder}).load_state_dict(decoder["ema"])
    desc = export_folder(model, args.out, name="sd-embedded", scaling_factor=float(ck["scaling_factor"]),
                         extra={"license": "MIT (weights trained by this project on its own renders)",
                                "trainedOn": ck.get("renderer", "tools/dataset/faces.py"),
                                "training": {"steps": ck.get("step"), "stage": ck.get("stage"),
                                             **({"decoderFinetuneSteps": decoder["state"]["step"]} if decoder else {})}})
    print(json.dumps({k: desc[k] for k in ("resolution", "latent", "vaeScalingFactor", "features")}, indent=1))


if __name__ == "__main__":
    main()
