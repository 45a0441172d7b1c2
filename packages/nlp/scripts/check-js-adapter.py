#!/usr/bin/env python3
"""Loads the adapters trained in JS (fixtures/hf/<name>/js-adapter/, written by scripts/train-js-adapter.ts with
savePeftAdapter) into PEFT on the fixture's base model, and compares PEFT's logits with the logits the JS model
gave (js-adapter/tfjs-logits.safetensors), over the non-padding positions. Writes PEFT's logits to
js-adapter/peft-logits.safetensors (the reference src/hf/hf-train.test.ts checks against) and prints the max
difference; exits 1 when it is above 1e-4.

  /tmp/peftenv/bin/python scripts/check-js-adapter.py
"""
import os, sys

sys.modules["torchvision"] = None  # see make-hf-fixtures.py
import torch
import transformers
import peft
from peft import PeftModel
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hf")
worst = 0.0
for name in sorted(os.listdir(ROOT)):
    adapter = os.path.join(ROOT, name, "js-adapter")
    if not os.path.isdir(adapter):
        continue
    base = transformers.AutoConfig.from_pretrained(os.path.join(ROOT, name))
    cls = getattr(transformers, base.architectures[0])
    model = cls.from_pretrained(os.path.join(ROOT, name)).eval()
    pm = PeftModel.from_pretrained(model, adapter).eval()
    ref = load_file(os.path.join(ROOT, name, "reference.safetensors"))
    kw = {"input_ids": ref["input_ids"].long(), "attention_mask": ref["attention_mask"].long()}
    if "Bert" in base.architectures[0] and "Distil" not in base.architectures[0]:
        kw["token_type_ids"] = ref["token_type_ids"].long()
    with torch.no_grad():
        logits = pm(**kw).logits.float()
    js = load_file(os.path.join(adapter, "tfjs-logits.safetensors"))["logits"]
    diff = (logits - js).abs()
    if diff.dim() == 3:
        diff = diff * ref["attention_mask"].float().unsqueeze(-1)
    d = diff.max().item()
    base_logits = model.__class__.from_pretrained(os.path.join(ROOT, name)).eval()(**kw).logits
    print(f"{name}: PEFT {peft.__version__} vs tfjs-lora logits with the JS-trained adapter: max |diff| {d:.2e} "
          f"(the adapter moves the logits by up to {(logits - base_logits).abs().max().item():.3f})")
    save_file({"logits": logits.contiguous()}, os.path.join(adapter, "peft-logits.safetensors"),
              metadata={"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__})
    worst = max(worst, d)
sys.exit(0 if worst < 1e-4 else 1)
