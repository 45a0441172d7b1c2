#!/usr/bin/env python3
"""Writes the repository's PEFT fixtures (packages/test-support/fixtures/) with Hugging Face PEFT itself.

Everything is seeded (PyTorch seeds, and PYTHONHASHSEED=0, set by the script itself): rerunning with the same PEFT / transformers / PyTorch versions rewrites the same bytes
(`git status` stays clean). The tests read these files through @tfjs-lora/test-support
(`peftCasePath(name)`, `peftRealPath(name)`); no test needs a folder outside the repository.

peft-cases/<case>/   tiny PyTorch models wrapped with peft.get_peft_model, every LoRA tensor randomised
                     (so B is not zero), saved with save_pretrained. Each folder holds:
  case.json                          architecture (layer name, kind, shapes, conv geometry), the LoRA
                                     config and the layout conventions below
  base.safetensors                   base weights in PyTorch layout (state_dict names)
  adapter/adapter_config.json        written by PEFT
  adapter/adapter_model.safetensors  written by PEFT (PEFT key names, PyTorch layout)
  io.safetensors                     input, upstream gradient, and the expected:
                                       output            forward with the adapter active
                                       output_base       forward with the adapter disabled
                                       grad.<peft key>   d(sum(output * upstream))/d(lora tensor), adapter
                                                         name removed (a DoRA magnitude keeps `.weight`)
                                       merged.<name>     weights after merge_and_unload()
  Cases: linear, linear_rslora, mlp_patterns (rank_pattern / alpha_pattern), conv2d, embedding (int64 ids),
  dora_linear (use_dora), dora_conv2d (use_dora on a Conv2d: PEFT stores the magnitude as [1, out, 1, 1]).
  PyTorch layouts: Linear weight [out, in]; Conv2d weight [out, in, kh, kw], inputs NCHW; Embedding weight
  [num, dim]. A TensorFlow.js Dense kernel is [in, out], a Conv2D kernel [kh, kw, in, out], images NHWC:
  tests convert, they do not change this data.

peft-real/<name>/    adapters of real architectures and sizes, written by PEFT from transformers' randomly
                     initialised models (the published adapters these stand in for were trained by PEFT users;
                     LoRA's files depend only on the architecture and the PEFT config):
  gpt2-seqcls-c_attn/      GPT2ForSequenceClassification (12 blocks, width 768, 6 labels), r=8 alpha=8 on
                           `c_attn` (GPT-2's Conv1D: fan_in_fan_out=True), task SEQ_CLS (PEFT saves `score`)
  distilbert-emotion-q_v/  DistilBertForSequenceClassification (6 layers, width 768, 6 labels), r=8 alpha=16
                           dropout 0.1 on q_lin/v_lin, modules_to_save pre_classifier/classifier, task SEQ_CLS
  LoRA A keeps PEFT's kaiming init, B and the saved heads are perturbed as training would (seeded).
peft-real-reference.json   what PEFT computes after loading each peft-real adapter with
                           PeftModel.from_pretrained into a fresh model: r, alpha, scaling, shapes, parameters,
                           ‖get_delta_weight()‖ (float64) and a few of its entries, and the modules_to_save heads.

Run offline (this project's machines name a local package index in pip's configuration; PyPI itself is not
reachable). From the repository root:
  python3 -m venv --system-site-packages /tmp/peftenv
  /tmp/peftenv/bin/pip install -q --index-url "$(pip config get global.extra-index-url | cut -d' ' -f1)" \
      peft safetensors transformers
  /tmp/peftenv/bin/python packages/test-support/scripts/generate-fixtures.py
Optional argument: the output folder (default packages/test-support/fixtures). Written with peft 0.21.0,
transformers 5.18.0, torch 2.13.0+cpu.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "fixtures")


class Linear1(nn.Module):
    def __init__(s, i=16, o=32, bias=True):
        super().__init__(); s.fc = nn.Linear(i, o, bias=bias)
    def forward(s, x): return s.fc(x)


class Mlp(nn.Module):
    def __init__(s):
        super().__init__()
        s.fc1 = nn.Linear(12, 24); s.fc2 = nn.Linear(24, 20); s.out = nn.Linear(20, 5)
    def forward(s, x): return s.out(torch.relu(s.fc2(torch.relu(s.fc1(x)))))


class Conv(nn.Module):
    def __init__(s, cin=3, cout=8, k=3, stride=1, padding=1):
        super().__init__(); s.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding)
    def forward(s, x): return s.conv(x)


class Emb(nn.Module):
    def __init__(s, n=50, d=16):
        super().__init__(); s.emb = nn.Embedding(n, d)
    def forward(s, x): return s.emb(x)


def layers_of(model):
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            out.append(dict(name=name, kind="linear", in_features=m.in_features,
                            out_features=m.out_features, bias=m.bias is not None))
        elif isinstance(m, nn.Conv2d):
            out.append(dict(name=name, kind="conv2d", in_channels=m.in_channels,
                            out_channels=m.out_channels, kernel_size=list(m.kernel_size),
                            stride=list(m.stride), padding=list(m.padding), bias=m.bias is not None))
        elif isinstance(m, nn.Embedding):
            out.append(dict(name=name, kind="embedding", num_embeddings=m.num_embeddings,
                            embedding_dim=m.embedding_dim))
    return out


CASES = {
    "linear": (lambda: Linear1(), dict(r=4, lora_alpha=8, target_modules=["fc"]),
               lambda g: torch.randn(5, 16, generator=g)),
    "linear_rslora": (lambda: Linear1(16, 24), dict(r=8, lora_alpha=16, use_rslora=True, target_modules=["fc"]),
                      lambda g: torch.randn(3, 16, generator=g)),
    "mlp_patterns": (lambda: Mlp(), dict(r=4, lora_alpha=4, target_modules=["fc1", "fc2"],
                                         rank_pattern={"fc2": 2}, alpha_pattern={"fc1": 12}),
                     lambda g: torch.randn(6, 12, generator=g)),
    "conv2d": (lambda: Conv(), dict(r=4, lora_alpha=8, target_modules=["conv"]),
               lambda g: torch.randn(2, 3, 7, 7, generator=g)),
    "embedding": (lambda: Emb(), dict(r=4, lora_alpha=8, target_modules=["emb"]),
                  lambda g: torch.randint(0, 50, (3, 5), generator=g)),
    "dora_linear": (lambda: Linear1(16, 12), dict(r=4, lora_alpha=8, use_dora=True, target_modules=["fc"]),
                    lambda g: torch.randn(4, 16, generator=g)),
    "dora_conv2d": (lambda: Conv(3, 5), dict(r=4, lora_alpha=8, use_dora=True, target_modules=["conv"]),
                    lambda g: torch.randn(2, 3, 6, 6, generator=g)),
}


def build_case(name, out_root, seed=1234):
    make_model, cfg, make_input = CASES[name]
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    model = make_model()
    base_state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    layers = layers_of(model)
    pm = get_peft_model(model, LoraConfig(**cfg))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    pm.eval()
    x = make_input(g)
    out = pm(x)
    up = torch.randn(out.shape, generator=g)
    lora_params = {n: p for n, p in pm.named_parameters() if "lora_" in n}
    grads = torch.autograd.grad((out * up).sum(), list(lora_params.values()))
    with pm.disable_adapter():
        out_base = pm(x)
    d = os.path.join(out_root, "peft-cases", name)
    os.makedirs(d, exist_ok=True)
    save_adapter(pm, os.path.join(d, "adapter"))
    merged = pm.merge_and_unload()
    io = {"input": x.contiguous(), "upstream": up.contiguous(), "output": out.detach().contiguous(),
          "output_base": out_base.detach().contiguous()}
    for (n, _), gr in zip(lora_params.items(), grads):
        io["grad." + n.replace(".default", "")] = gr.contiguous()
    for k, v in merged.state_dict().items():
        io["merged." + k] = v.detach().contiguous()
    save_file(base_state, os.path.join(d, "base.safetensors"))
    save_file(io, os.path.join(d, "io.safetensors"))
    write_json(os.path.join(d, "case.json"),
               dict(case=name, layers=layers, lora_config=cfg, input_dtype=str(x.dtype),
                    layouts=dict(linear="[out,in]", conv2d="[out,in,kh,kw], NCHW input", embedding="[num,dim]"),
                    grad_keys="PEFT adapter key names (adapter name removed)"))
    return d


def save_adapter(pm, d):
    pm.save_pretrained(d)
    readme = os.path.join(d, "README.md")  # a model card template, not data
    if os.path.exists(readme):
        os.remove(readme)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


# ---- peft-real: real architectures and sizes, random weights ----

def real_base(name):
    from transformers import DistilBertConfig, DistilBertForSequenceClassification, GPT2Config, GPT2ForSequenceClassification
    # Full width and depth; a small vocabulary and context (embeddings are neither adapted nor saved).
    if name == "distilbert-emotion-q_v":
        return DistilBertForSequenceClassification(DistilBertConfig(vocab_size=16, max_position_embeddings=16, num_labels=6))
    if name == "gpt2-seqcls-c_attn":
        return GPT2ForSequenceClassification(GPT2Config(vocab_size=16, n_positions=16, num_labels=6, pad_token_id=0))
    raise SystemExit(f"unknown adapter {name}")


REAL = {
    "gpt2-seqcls-c_attn": dict(task_type="SEQ_CLS", r=8, lora_alpha=8, lora_dropout=0.0, target_modules=["c_attn"],
                               fan_in_fan_out=True),
    "distilbert-emotion-q_v": dict(task_type="SEQ_CLS", r=8, lora_alpha=16, lora_dropout=0.1,
                                   target_modules=["q_lin", "v_lin"], modules_to_save=["pre_classifier", "classifier"]),
}


def build_real(name, out_root, seed=4321):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    pm = get_peft_model(real_base(name), LoraConfig(**REAL[name]))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if ".lora_B." in n or ".modules_to_save." in n:  # B starts at zero; heads start as the base copy
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
    d = os.path.join(out_root, "peft-real", name)
    os.makedirs(d, exist_ok=True)
    save_adapter(pm, d)
    return d


def describe_real(name, out_root):
    """PEFT's own view of a saved peft-real adapter, loaded into a fresh model of the architecture."""
    torch.manual_seed(0)
    model = PeftModel.from_pretrained(real_base(name), os.path.join(out_root, "peft-real", name))
    rng = np.random.default_rng(0)
    modules = []
    for path, m in model.base_model.model.named_modules():
        if not hasattr(m, "lora_A") or "default" not in m.lora_A:
            continue
        a, b = m.lora_A["default"].weight, m.lora_B["default"].weight
        delta = m.get_delta_weight("default").detach().double().numpy()
        idx = [(0, 0), (delta.shape[0] - 1, delta.shape[1] - 1)] + [
            tuple(int(v) for v in (rng.integers(delta.shape[0]), rng.integers(delta.shape[1]))) for _ in range(4)]
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
    return {"modules": modules, "modules_to_save": saved, "use_rslora": cfg.use_rslora,
            "fan_in_fan_out": cfg.fan_in_fan_out}


def main():
    # PEFT stores target_modules as a set: its order in adapter_config.json follows Python's string hashing.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    import peft
    import transformers
    out_root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    torch.use_deterministic_algorithms(True)
    for name in CASES:
        print("wrote", os.path.relpath(build_case(name, out_root)))
    reference = {"generated_by": f"generate-fixtures.py with peft {peft.__version__}, "
                                 f"transformers {transformers.__version__}, torch {torch.__version__}"}
    for name in REAL:
        print("wrote", os.path.relpath(build_real(name, out_root)))
        reference[name] = describe_real(name, out_root)
    path = os.path.join(out_root, "peft-real-reference.json")
    with open(path, "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    main()
