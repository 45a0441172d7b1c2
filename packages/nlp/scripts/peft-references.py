#!/usr/bin/env python3
"""Reference values from Hugging Face PEFT for @tfjs-lora/nlp tests that the PEFT fixtures in @tfjs-lora/test-support do not cover.

Writes test-support/peft-references.json:
  dora_embedding: an nn.Embedding(12, 6) with a DoRA adapter (r=2, alpha=4, every tensor randomised),
    ids [2, 3]: base table, lora_embedding_A [r, num], lora_embedding_B [dim, r], lora_magnitude_vector,
    output with the adapter on and off, the gradients of the three LoRA tensors for
    loss = sum(output * upstream), and the table after merge_and_unload.
  mixed_batch: an Embedding(10, 4) -> Linear(4, 5) model with adapters 'one' (r=2) and 'two' (r=3), all
    tensors randomised, and PEFT's forward with adapter_names=['one', '__base__', 'two', 'one'].

Run offline on this project's machines (the PEFT venv: see packages/test-support/README.md):
  /tmp/peftenv/bin/python scripts/peft-references.py
"""
import json, os
import torch, torch.nn as nn
import peft
from peft import LoraConfig, get_peft_model

torch.manual_seed(0)
out = {"peft_version": peft.__version__, "torch_version": torch.__version__}


def t(x):
    return {"shape": list(x.shape), "data": x.detach().reshape(-1).tolist()}


class Emb(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(12, 6)
    def forward(s, x): return s.emb(x)


m = Emb()
base = m.emb.weight.detach().clone()
pm = get_peft_model(m, LoraConfig(r=2, lora_alpha=4, target_modules=["emb"], use_dora=True))
layer = pm.base_model.model.emb
with torch.no_grad():
    layer.lora_embedding_A["default"].normal_(0, 0.5)
    layer.lora_embedding_B["default"].normal_(0, 0.5)
    layer.lora_magnitude_vector["default"].weight.mul_(torch.rand(6) + 0.5)
ids = torch.tensor([[1, 5, 11], [0, 5, 7]])
upstream = torch.randn(2, 3, 6)
y = pm(ids)
(y * upstream).sum().backward()
with pm.disable_adapter():
    y0 = pm(ids)
ref = {
    "base": t(base), "ids": t(ids), "upstream": t(upstream),
    "lora_embedding_A": t(layer.lora_embedding_A["default"]),
    "lora_embedding_B": t(layer.lora_embedding_B["default"]),
    "lora_magnitude_vector": t(layer.lora_magnitude_vector["default"].weight),
    "output": t(y), "output_base": t(y0),
    "grad.lora_embedding_A": t(layer.lora_embedding_A["default"].grad),
    "grad.lora_embedding_B": t(layer.lora_embedding_B["default"].grad),
    "grad.lora_magnitude_vector": t(layer.lora_magnitude_vector["default"].weight.grad),
}
ref["merged"] = t(pm.merge_and_unload().emb.weight)
out["dora_embedding"] = ref


class Tiny(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(10, 4); s.fc = nn.Linear(4, 5)
    def forward(s, x): return s.fc(s.emb(x))


torch.manual_seed(1)
m = Tiny()
state = {k: v.detach().clone() for k, v in m.state_dict().items()}
pm = get_peft_model(m, LoraConfig(r=2, lora_alpha=4, target_modules=["emb", "fc"]), adapter_name="one")
pm.add_adapter("two", LoraConfig(r=3, lora_alpha=3, target_modules=["emb", "fc"]))
with torch.no_grad():
    for n, p in pm.named_parameters():
        if "lora_" in n:
            p.normal_(0, 0.5)
ids = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 1, 2]])
names = ["one", "__base__", "two", "one"]
pm.eval()
mixed = {"base": {k: t(v) for k, v in state.items()}, "ids": t(ids), "adapter_names": names,
         "output": t(pm(ids, adapter_names=names))}
for n, p in pm.named_parameters():
    if "lora_" in n:
        mixed[n.replace("base_model.model.", "")] = t(p)
out["mixed_batch"] = mixed

path = os.path.join(os.path.dirname(__file__), "..", "test-support", "peft-references.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
