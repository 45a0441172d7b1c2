#!/usr/bin/env python3
"""Independent reference values for the two real PEFT adapters in ../shared/fixtures/peft-real.

For each adapter, builds a randomly initialised Hugging Face model of the same architecture (the real base
weights are not needed: LoRA's ΔW depends only on the adapter), loads the adapter with PEFT's own
PeftModel.from_pretrained, and records for every LoRA module what PEFT computes: r, alpha, scaling,
the shapes of lora_A/lora_B, PEFT's get_delta_weight() (its Frobenius norm in float64, and a few entries
in the orientation PEFT adds to the base weight: nn.Linear [out,in], GPT-2 Conv1D [in,out]), plus the
modules_to_save copies PEFT loaded. src/peft/real-adapters.test.ts checks tfjs-lora against this JSON.

Run once, offline (see ../../../shared/docs/PLATFORM.md for /tmp/peftenv):
  /tmp/peftenv/bin/python scripts/peft-real-reference.py
"""
import json, os, sys
import numpy as np
import torch
from peft import PeftModel
from transformers import DistilBertConfig, DistilBertForSequenceClassification, GPT2Config, GPT2ForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("TFJS_LORA_FIXTURES", os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures"))
OUT = os.path.join(HERE, "..", "test-support", "peft-real-reference.json")
torch.manual_seed(0)


def base_model(name):
    if name == "distilbert-emotion-q_v":
        return DistilBertForSequenceClassification(DistilBertConfig(vocab_size=16, max_position_embeddings=16, num_labels=6))
    if name == "gpt2-seqcls-c_attn":
        return GPT2ForSequenceClassification(GPT2Config(vocab_size=16, n_positions=16, num_labels=6, pad_token_id=0))
    raise SystemExit(f"unknown adapter {name}")


def describe(name):
    model = PeftModel.from_pretrained(base_model(name), os.path.join(FIXTURES, "peft-real", name))
    rng = np.random.default_rng(0)
    modules = []
    for path, m in model.base_model.model.named_modules():
        if not hasattr(m, "lora_A") or "default" not in m.lora_A:
            continue
        a, b = m.lora_A["default"].weight, m.lora_B["default"].weight
        delta = m.get_delta_weight("default").detach().double().numpy()
        idx = [(0, 0), (delta.shape[0] - 1, delta.shape[1] - 1)] + [tuple(int(v) for v in (rng.integers(delta.shape[0]), rng.integers(delta.shape[1]))) for _ in range(4)]
        modules.append({
            "path": path,
            "fan_in_fan_out": bool(m.fan_in_fan_out),
            "lora_A": list(a.shape), "lora_B": list(b.shape),
            "r": int(m.r["default"]), "alpha": float(m.lora_alpha["default"]), "scaling": float(m.scaling["default"]),
            "params": int(a.numel() + b.numel()),
            "delta_norm": float(np.linalg.norm(delta)),
            "delta_orientation": "[in,out]" if m.fan_in_fan_out else "[out,in]",
            "delta_samples": [[i, j, float(delta[i, j])] for i, j in idx],
        })
    saved = []
    for path, m in model.base_model.model.named_modules():
        if type(m).__name__ == "ModulesToSaveWrapper" and "default" in m.modules_to_save:
            w = m.modules_to_save["default"].weight.detach().double().numpy()
            saved.append({"path": path, "weight": list(w.shape), "weight_norm": float(np.linalg.norm(w)),
                          "weight_00": float(w[0, 0]),
                          "has_bias": m.modules_to_save["default"].bias is not None})
    cfg = model.peft_config["default"]
    return {"modules": modules, "modules_to_save": saved, "use_rslora": cfg.use_rslora, "fan_in_fan_out": cfg.fan_in_fan_out}


if __name__ == "__main__":
    import peft, transformers
    result = {"generated_by": f"scripts/peft-real-reference.py with peft {peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}"}
    for name in ["distilbert-emotion-q_v", "gpt2-seqcls-c_attn"]:
        result[name] = describe(name)
        print(name, len(result[name]["modules"]), "modules", [s["path"] for s in result[name]["modules_to_save"]], file=sys.stderr)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(OUT), file=sys.stderr)
