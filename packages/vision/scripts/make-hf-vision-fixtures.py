#!/usr/bin/env python3
"""Hugging Face parity fixtures for @tfjs-lora/vision's 'hf-vision' format (fixtures/hf/).

Tiny random-weight ViT configs (image 16x16, patch 8, hidden 32, 2 layers, 4 heads, 3 channels) written by
transformers' save_pretrained, each in fixtures/hf/<name>/:
  config.json + model.safetensors   the base model (checkpoint keys as in transformers 4: vit.encoder.layer.N...)
  adapter/                          a PEFT LoRA adapter made under transformers 5 (init_lora_weights=False, so B
                                    is not zero) on q_proj, v_proj and mlp.fc2; its keys use transformers 5's
                                    module names (vit.layers.N.attention.q_proj, vit.layers.N.mlp.fc2)
  adapter-v4/                       the same adapter with its keys renamed to transformers 4's module names
                                    (vit.encoder.layer.N.attention.attention.query, ...output.dense), as the
                                    adapters on the Hub (made under transformers 4) are. Renamed here, by the
                                    inverse of transformers 5's checkpoint conversion for ViTModel.
  reference.safetensors             pixel_values in NHWC [batch, height, width, channels] (tfjs's layout; PyTorch
                                    takes NCHW, transposed here), logits (base), logits_lora (PeftModel,
                                    unmerged), logits_merged (merge_and_unload), float32
ViTModel's outputs are last_hidden_state (as `logits*`) and pooler_output (`logits*_pooler`).
Variants: vit-cls-bf16 and vit-f16 store weights as BF16 / F16 (reference computed from the rounded weights).
ResNet: resnet-cls (ResNetForImageClassification, bottleneck layers, 2 stages, 32x32 images; adapter on every
"convolution", no renaming: transformers 5 kept ResNet's module names) and resnet-basic (basic layers, no adapter).

Run offline, from packages/vision:  /tmp/peftenv/bin/python scripts/make-hf-vision-fixtures.py
"""
import json, os, re, shutil, sys

sys.modules["torchvision"] = None  # a half-installed torchvision breaks transformers' lazy imports; not needed
import torch
import transformers
import peft
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import ResNetConfig, ResNetForImageClassification, ViTConfig, ViTForImageClassification, ViTModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hf")
B = 2

# transformers 5 module name -> transformers 4 module name (inverse of conversion_mapping.py's "ViTModel").
V5_TO_V4 = [
    (r"(^|\.)layers\.(\d+)\.attention\.q_proj(\.|$)", r"\1encoder.layer.\2.attention.attention.query\3"),
    (r"(^|\.)layers\.(\d+)\.attention\.k_proj(\.|$)", r"\1encoder.layer.\2.attention.attention.key\3"),
    (r"(^|\.)layers\.(\d+)\.attention\.v_proj(\.|$)", r"\1encoder.layer.\2.attention.attention.value\3"),
    (r"(^|\.)layers\.(\d+)\.attention\.o_proj(\.|$)", r"\1encoder.layer.\2.attention.output.dense\3"),
    (r"(^|\.)layers\.(\d+)\.mlp\.fc1(\.|$)", r"\1encoder.layer.\2.intermediate.dense\3"),
    (r"(^|\.)layers\.(\d+)\.mlp\.fc2(\.|$)", r"\1encoder.layer.\2.output.dense\3"),
    (r"(^|\.)layers\.(\d+)\.", r"\1encoder.layer.\2."),
]


def to_v4(key):
    for pattern, repl in V5_TO_V4:
        new = re.sub(pattern, repl, key)
        if new != key:
            return new
    return key


def vit_config(**kw):
    return ViTConfig(image_size=16, patch_size=8, num_channels=3, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=64, **kw)


def randomize(model, seed):
    """Every parameter re-drawn so outputs are of order 1: LayerNorm 1 ± 0.2, biases N(0, 0.1), else N(0, 1/fan_in)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layernorm" in name or "normalization" in name:
                p.copy_((1 + 0.2 * torch.randn(p.shape, generator=g)) if name.endswith("weight") else 0.1 * torch.randn(p.shape, generator=g))
            elif "cls_token" in name or "position_embeddings" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / (p[0].numel()) ** 0.5)


def randomize_batchnorm(model, seed):
    """BatchNorm running statistics re-drawn too (eval() uses them): mean N(0, 0.1), var 1 + U(0, 0.5)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(1 + 0.5 * torch.rand(b.shape, generator=g))


def run(model, pixels):
    with torch.no_grad():
        out = model(pixel_values=pixels)
    if getattr(out, "logits", None) is not None:
        return {"": out.logits}
    res = {"": out.last_hidden_state}
    if getattr(out, "pooler_output", None) is not None:
        res["_pooler"] = out.pooler_output
    return res


def write_reference(path, pixels, **outs):
    tensors = {"pixel_values": pixels.permute(0, 2, 3, 1).contiguous()}  # NCHW -> NHWC
    for k, o in outs.items():
        tensors.update({k + suffix: v.detach().float().contiguous() for suffix, v in o.items()})
    save_file(tensors, path, metadata={"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__})


def rename_adapter(src, dst):
    """A copy of the adapter folder src with transformers 4's module names (keys and target_modules)."""
    os.makedirs(dst)
    sd = load_file(os.path.join(src, "adapter_model.safetensors"))
    save_file({to_v4(k): v for k, v in sd.items()}, os.path.join(dst, "adapter_model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(src, "adapter_config.json")) as f:
        cfg = json.load(f)
    cfg["target_modules"] = r".*encoder\.layer\.\d+\.(attention\.attention\.query|attention\.attention\.value|output\.dense)"
    with open(os.path.join(dst, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    return sorted(to_v4(k) for k in sd)


def make(name, model, seed, adapter=True, dtype=None, size=16, targets=("q_proj", "v_proj", "fc2"), rename=True):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for entry in os.listdir(d):  # js-adapter*/ are written by scripts/train-js-vit-adapter.ts: kept
        if not entry.startswith("js-adapter"):
            p = os.path.join(d, entry)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    model.eval()
    randomize(model, seed)
    randomize_batchnorm(model, seed)
    if dtype is not None:  # store rounded weights; the reference is computed from the rounded values
        model.to(dtype)
        model.save_pretrained(d)
        model.to(torch.float32)
    else:
        model.save_pretrained(d)
    g = torch.Generator().manual_seed(seed + 1)
    pixels = torch.randn(B, 3, size, size, generator=g)
    logits = run(model, pixels)
    if not adapter:
        write_reference(os.path.join(d, "reference.safetensors"), pixels, logits=logits)
        print(f"{name}: {tuple(logits[''].shape)}")
        return
    torch.manual_seed(seed + 2)
    heads = ["classifier"] if isinstance(model, ViTForImageClassification) else None
    config = LoraConfig(r=4, lora_alpha=8, target_modules=list(targets), init_lora_weights=False, modules_to_save=heads)
    pm = get_peft_model(model, config)
    pm.eval()
    with torch.no_grad():  # a modules_to_save head that differs from the base head
        for n, p in pm.named_parameters():
            if "modules_to_save" in n:
                p.add_(0.3 * torch.randn(p.shape))
    lora = run(pm, pixels)
    pm.save_pretrained(os.path.join(d, "adapter"))
    os.remove(os.path.join(d, "adapter", "README.md"))  # a model card template, not needed
    keys = sorted(load_file(os.path.join(d, "adapter", "adapter_model.safetensors")))
    v4 = rename_adapter(os.path.join(d, "adapter"), os.path.join(d, "adapter-v4")) if rename else keys
    merged = run(pm.merge_and_unload(), pixels)
    write_reference(os.path.join(d, "reference.safetensors"), pixels, logits=logits, logits_lora=lora, logits_merged=merged)
    print(f"{name}: {tuple(logits[''].shape)} |max| {logits[''].abs().max():.3f}, lora changes it by {(lora[''] - logits['']).abs().max():.3f}")
    print(f"  adapter keys (transformers {transformers.__version__}): {keys[:3]} ...")
    print(f"  renamed to transformers 4's: {v4[:3]} ...")


def main():
    os.makedirs(ROOT, exist_ok=True)
    make("vit-cls", ViTForImageClassification(vit_config(num_labels=3)), 10)
    make("vit", ViTModel(vit_config()), 20)
    make("vit-cls-bf16", ViTForImageClassification(vit_config(num_labels=3)), 30, adapter=False, dtype=torch.bfloat16)
    make("vit-f16", ViTModel(vit_config(), add_pooling_layer=False), 40, adapter=False, dtype=torch.float16)
    resnet = dict(num_channels=3, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 2], num_labels=3)
    make("resnet-cls", ResNetForImageClassification(ResNetConfig(layer_type="bottleneck", **resnet)), 50, size=32, targets=("convolution",), rename=False)
    make("resnet-basic", ResNetForImageClassification(ResNetConfig(layer_type="basic", **resnet)), 60, adapter=False, size=24)


if __name__ == "__main__":
    main()
