#!/usr/bin/env python3
"""Loads the adapters trained in JS (fixtures/hf/vit-cls/js-adapter*/, written by scripts/train-js-vit-adapter.ts
with savePeftAdapter) into PEFT on the fixture's base model, and compares PEFT's logits with the logits the JS
model gave (tfjs-logits.safetensors beside each adapter). Writes PEFT's logits to peft-logits.safetensors (the
reference src/hf/hf-vision-train.test.ts checks against) and prints the max difference; exits 1 when one is above
1e-4.

  js-adapter-v5/  (started from a transformers 5 PEFT adapter; keys vit.layers.N.attention.q_proj) loads as it is.
  js-adapter-t5/  (js-adapter passed through @tfjs-lora/vision's vitAdapterForTransformers5) loads as it is.
  js-adapter/     (made in JS; keys and target_modules in transformers 4's names, vit.encoder.layer.N.attention.
                  attention.query, as adapters on the Hub). PEFT 0.21 under transformers 5.18 does not rename these
                  for ViT: target_modules ["query", "value"] match no module (NoMatchingPeftModuleError), and with
                  transformers 5's target names the transformers 4 keys stay unloaded ("missing adapter keys", B = 0).
                  The script shows that, then loads a copy with keys and target_modules renamed to transformers 5's
                  (the table of make-hf-vision-fixtures.py, inverted). Under transformers 4 the file loads as it is.

  /tmp/peftenv/bin/python scripts/check-js-vit-adapter.py
"""
import json, os, re, shutil, sys, tempfile

sys.modules["torchvision"] = None  # see make-hf-vision-fixtures.py
import torch
import transformers
import peft
from peft import PeftModel
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hf")
folder = os.path.join(ROOT, "vit-cls")

# transformers 4 module name -> transformers 5 (conversion_mapping.py's "ViTModel" renamings, in its order)
V4_TO_V5 = [
    (r"encoder\.layer\.", "layers."),
    (r"attention\.attention\.query", "attention.q_proj"),
    (r"attention\.attention\.key", "attention.k_proj"),
    (r"attention\.attention\.value", "attention.v_proj"),
    (r"attention\.output\.dense", "attention.o_proj"),
    (r"intermediate\.dense", "mlp.fc1"),
    (r"output\.dense", "mlp.fc2"),
]
V5_TARGETS = {"query": "q_proj", "key": "k_proj", "value": "v_proj", "dense": "dense"}


def to_v5(key):
    for pattern, repl in V4_TO_V5:
        key = re.sub(pattern, repl, key)
    return key


def renamed_copy(src):
    dst = tempfile.mkdtemp()
    save_file({to_v5(k): v for k, v in load_file(os.path.join(src, "adapter_model.safetensors")).items()},
              os.path.join(dst, "adapter_model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(src, "adapter_config.json")) as f:
        cfg = json.load(f)
    cfg["target_modules"] = [V5_TARGETS.get(t, t) for t in cfg["target_modules"]]
    with open(os.path.join(dst, "adapter_config.json"), "w") as f:
        json.dump(cfg, f)
    return dst


pixels = load_file(os.path.join(folder, "reference.safetensors"))["pixel_values"].permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
with torch.no_grad():
    base_logits = transformers.ViTForImageClassification.from_pretrained(folder).eval()(pixel_values=pixels).logits


def peft_logits(adapter):
    model = transformers.ViTForImageClassification.from_pretrained(folder).eval()
    pm = PeftModel.from_pretrained(model, adapter).eval()
    b_norm = sum(p.abs().sum().item() for n, p in pm.named_parameters() if "lora_B" in n)
    with torch.no_grad():
        return pm(pixel_values=pixels).logits.float(), b_norm


worst = 0.0
for name in ("js-adapter-v5", "js-adapter-t5", "js-adapter"):
    adapter = os.path.join(folder, name)
    js = load_file(os.path.join(adapter, "tfjs-logits.safetensors"))["logits"]
    try:
        logits, b_norm = peft_logits(adapter)
        direct = f"loads as saved (sum |B| {b_norm:.3f}), max |diff| {(logits - js).abs().max().item():.2e}"
    except Exception as e:  # noqa: BLE001 - reported, then the renamed copy is tried
        logits, direct = None, f"does not load as saved: {type(e).__name__}"
    note = ""
    if logits is None or (logits - js).abs().max().item() >= 1e-4:
        tmp = renamed_copy(adapter)
        logits, b_norm = peft_logits(tmp)
        shutil.rmtree(tmp)
        note = f"; with keys/target_modules renamed to transformers 5's (sum |B| {b_norm:.3f})"
    d = (logits - js).abs().max().item()
    print(f"vit-cls/{name}: PEFT {peft.__version__}, transformers {transformers.__version__}: {direct}{note}: "
          f"max |diff| {d:.2e} (the adapter moves the logits by up to {(logits - base_logits).abs().max().item():.3f})")
    save_file({"logits": logits.contiguous()}, os.path.join(adapter, "peft-logits.safetensors"),
              metadata={"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__})
    worst = max(worst, d)
sys.exit(0 if worst < 1e-4 else 1)
