#!/usr/bin/env python3
"""The Python side of tfjs-lora's interop checks (results are committed; the tests do not need Python).

Run from packages/core after `npx tsx scripts/write-interop-files.ts`:
  /tmp/peftenv/bin/python scripts/python-interop.py

1. safetensors, Python → tfjs: writes test-support/interop/py-written.safetensors (every dtype tfjs-lora
   reads, written by Python's safetensors) and py-written.json (the expected values as float32 bit
   patterns / integers, and torch's float32 → F16/BF16 roundings of the same source values).
2. safetensors, tfjs → Python: reads js-written.safetensors (written by tfjs-lora), records per tensor
   dtype, shape and the SHA-256 of its bytes as torch sees them, whether torch's own F16/BF16 rounding of
   the F32 source equals the bits tfjs-lora wrote, and whether safetensors re-serialises the loaded
   tensors into the very same bytes (js-written.check.json).
3. PEFT, tfjs → PyTorch: loads the two adapters trained and saved by tfjs-lora (tfjs-trained/adapter and
   its sub-folder other/) into the same MLP in PyTorch with PeftModel.from_pretrained / load_adapter,
   and writes PEFT's outputs per adapter and its merge_and_unload weights (peft-results.safetensors),
   plus whether PEFT's own save_pretrained of the loaded adapters writes the same bytes (peft-results.json).
"""
import hashlib, json, os, sys, tempfile
import numpy as np
import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load as st_load, save as st_save, load_file, save_file
from peft import PeftModel

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "test-support", "interop")


def sha(t):
    return hashlib.sha256(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def bits(t):  # float32 bit patterns as unsigned ints
    return [int(v) for v in t.float().contiguous().reshape(-1).view(torch.int32).numpy().astype(np.uint32)]


def python_to_js():
    rng = np.random.default_rng(7)
    src = np.concatenate([np.array([0, -0.0, 1, -1.5, 65504, 65520, 2 ** -24, 2 ** -25, 1 + 2 ** -11, 1 + 2 ** -8,
                                    np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45, np.inf, -np.inf, np.nan], np.float32),
                          (rng.standard_normal(200) * np.exp2(rng.integers(-30, 20, 200))).astype(np.float32)])
    f32 = torch.from_numpy(src)
    tensors = {
        "f32": f32, "f16": f32.to(torch.float16), "bf16": f32.to(torch.bfloat16),
        "i64": torch.tensor([-(2 ** 31), -1, 0, 1, 2 ** 31 - 1], dtype=torch.int64),
        "i32": torch.tensor([[-(2 ** 31), 5], [7, 2 ** 31 - 1]], dtype=torch.int32),
        "u8": torch.arange(256, dtype=torch.uint8), "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(3, 0), "scalar": torch.tensor(4.25), "ünï.name": torch.tensor([1.0, 2.0]),
    }
    save_file(tensors, os.path.join(DIR, "py-written.safetensors"), metadata={"format": "pt"})
    expected = {}
    for k, t in tensors.items():
        entry = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
        if t.is_floating_point():
            entry["float32_bits"] = bits(t)  # widened to float32 as tfjs-lora reads F16/BF16
        else:
            entry["values"] = [int(v) for v in t.reshape(-1).tolist()]
        expected[k] = entry
    expected["torch_rounding"] = {"source_bits": bits(f32),
                                  "f16_bits": [int(v) & 0xFFFF for v in f32.to(torch.float16).view(torch.int16).tolist()],
                                  "bf16_bits": [int(v) & 0xFFFF for v in f32.to(torch.bfloat16).view(torch.int16).tolist()]}
    with open(os.path.join(DIR, "py-written.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")


def js_to_python():
    path = os.path.join(DIR, "js-written.safetensors")
    raw = open(path, "rb").read()
    tensors = st_load(raw)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
    src = tensors["f32.values"]
    # bit-exact except NaN payloads (torch's vectorised BF16 cast writes 0xFFFF for NaN, its scalar cast 0x7FC0)
    nan = src.isnan()

    def same_rounding(dtype, ours):
        theirs = src.to(dtype)
        return torch.equal(theirs.view(torch.int16)[~nan], ours.view(torch.int16)[~nan]) and bool(ours[nan].isnan().all())
    f16_ok = same_rounding(torch.float16, tensors["f16.values"])
    bf16_ok = same_rounding(torch.bfloat16, tensors["bf16.values"])
    check = {
        "metadata": metadata,
        "tensors": {k: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "sha256": sha(t)} for k, t in tensors.items()},
        "reserialized_identical": st_save(tensors, metadata=metadata) == raw,
        "f16_matches_torch_rounding": bool(f16_ok), "bf16_matches_torch_rounding": bool(bf16_ok),
        "i64_ids": tensors["i64.ids"].tolist(),
    }
    with open(os.path.join(DIR, "js-written.check.json"), "w") as f:
        json.dump(check, f, indent=1)
        f.write("\n")
    return check


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.head = nn.Linear(6, 12), nn.Linear(12, 8), nn.Linear(8, 3)

    def forward(self, x):
        return self.head(torch.tanh(self.fc2(torch.relu(self.fc1(x)))))


def norm(v):
    return sorted(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else v


def peft_side():
    d = os.path.join(DIR, "tfjs-trained")
    base = Mlp()
    base.load_state_dict(load_file(os.path.join(d, "base.safetensors")))
    io = load_file(os.path.join(d, "io.safetensors"))
    model = PeftModel.from_pretrained(base, os.path.join(d, "adapter"))
    model.load_adapter(os.path.join(d, "adapter", "other"), adapter_name="other")
    model.eval()
    x = io["input"]
    out = {}
    with torch.no_grad():
        model.set_adapter("default")
        out["output.default"] = model(x)
        model.set_adapter("other")
        out["output.other"] = model(x)
        with model.disable_adapter():
            out["output.base"] = model(x)
        model.set_adapter("default")
    results = {"max_abs_diff_vs_tfjs": {k: float((v - io[k]).abs().max()) for k, v in out.items()}}
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        saved = {}
        for rel in ["", "other"]:
            ours = open(os.path.join(d, "adapter", rel, "adapter_model.safetensors"), "rb").read()
            theirs = open(os.path.join(tmp, rel, "adapter_model.safetensors"), "rb").read()
            our_cfg = json.load(open(os.path.join(d, "adapter", rel, "adapter_config.json")))
            their_cfg = json.load(open(os.path.join(tmp, rel, "adapter_config.json")))
            saved[rel or "default"] = {
                "weights_identical": ours == theirs,
                # PEFT keeps target_modules as a set, so its saved order varies: compare lists as sets
                "config_fields_differing": sorted(k for k in our_cfg if norm(our_cfg[k]) != norm(their_cfg.get(k))),
            }
        results["peft_resave"] = saved
        results["peft_layout"] = sorted(os.path.relpath(os.path.join(r, f), tmp) for r, _, fs in os.walk(tmp) for f in fs if not f.endswith(".md"))
    merged = model.merge_and_unload()
    for name in ["fc1", "fc2", "head"]:
        out[f"merged.{name}.weight"] = getattr(merged, name).weight.detach()
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(d, "peft-results.safetensors"), metadata={"format": "pt"})
    results["generated_by"] = f"scripts/python-interop.py with torch {torch.__version__}"
    with open(os.path.join(d, "peft-results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    return results


if __name__ == "__main__":
    python_to_js()
    print(json.dumps({k: v for k, v in js_to_python().items() if k != "tensors"}), file=sys.stderr)
    print(json.dumps(peft_side(), indent=1), file=sys.stderr)
