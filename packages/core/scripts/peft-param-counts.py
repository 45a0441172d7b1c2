#!/usr/bin/env python3
"""Writes PEFT's get_nb_trainable_parameters() for small MLPs to test-support/peft-param-counts.json.

The tfjs-lora test (src/param-counts.test.ts) builds the same architecture in TensorFlow.js, applies the
same config, and must report the same numbers. Run offline (the PEFT venv: see packages/test-support/README.md):
  /tmp/peftenv/bin/python scripts/peft-param-counts.py
"""
import json, os
import torch.nn as nn
from peft import LoraConfig, get_peft_model


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.head = nn.Linear(12, 24), nn.Linear(24, 20), nn.Linear(20, 5)

    def forward(self, x):
        return self.head(self.fc2(self.fc1(x)).relu())


CASES = {
    "lora_fc1_fc2": dict(r=4, lora_alpha=8, target_modules=["fc1", "fc2"]),
    "bias_all": dict(r=4, target_modules=["fc1"], bias="all"),
    "bias_lora_only": dict(r=4, target_modules=["fc1"], bias="lora_only"),
    "modules_to_save": dict(r=2, target_modules=["fc1", "fc2"], modules_to_save=["head"]),
    "dora": dict(r=4, target_modules=["fc1", "fc2"], use_dora=True),
    "rank_pattern": dict(r=4, target_modules=["fc1", "fc2"], rank_pattern={"fc2": 2}),
}

out = {}
for name, cfg in CASES.items():
    m = get_peft_model(Mlp(), LoraConfig(**cfg))
    t, a = m.get_nb_trainable_parameters()
    out[name] = {"config": cfg, "trainable": t, "total": a}
# two adapters: the second one added (inactive) counts in total only
m = get_peft_model(Mlp(), LoraConfig(r=4, target_modules=["fc1"]))
m.add_adapter("other", LoraConfig(r=2, target_modules=["fc2"]))
t, a = m.get_nb_trainable_parameters()
out["two_adapters"] = {"config": {"default": dict(r=4, target_modules=["fc1"]), "other": dict(r=2, target_modules=["fc2"])}, "trainable": t, "total": a}
path = os.path.join(os.path.dirname(__file__), "..", "test-support", "peft-param-counts.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps({k: (v["trainable"], v["total"]) for k, v in out.items()}))
