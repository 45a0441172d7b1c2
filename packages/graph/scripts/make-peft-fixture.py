"""Writes fixtures/peft-conv: a PEFT LoRA adapter on a small PyTorch CNN, its base weights, an input and
the outputs PyTorch computes, for src/peft-fixture.test.ts (the graph's PEFT layouts against PEFT itself).

Model: conv1 Conv2d(3, 4, 3, stride 2, padding 1) + ReLU -> conv2 Conv2d(4, 5, 1, bias=False) -> mean over
H, W -> head Linear(5, 2). LoRA r=2, lora_alpha=3 on conv1, conv2, head with init_lora_weights=False (B is
random, so the update is not zero). Saves:
  adapter/            adapter_config.json + adapter_model.safetensors (save_pretrained)
  base.safetensors    the base model's weights (PyTorch layout) and x (NCHW)
  expected.safetensors  y_lora (adapted) and y_base (adapters disabled)

  /tmp/peftenv/bin/python scripts/make-peft-fixture.py
"""
import importlib.util, os

# A torchvision wheel built for another torch breaks `import peft` (transformers probes it): hide it.
_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, package=None: None if name.split(".")[0] == "torchvision" else _find_spec(name, package)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "peft-conv")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 5, 1, bias=False)
        self.head = nn.Linear(5, 2)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        return self.head(self.conv2(h).mean(dim=(2, 3)))


def main():
    torch.manual_seed(0)
    base = Net()
    os.makedirs(OUT, exist_ok=True)
    x = torch.randn(2, 3, 8, 8)
    save_file({**{k: v.contiguous() for k, v in base.state_dict().items()}, "x": x}, os.path.join(OUT, "base.safetensors"))
    model = get_peft_model(base, LoraConfig(r=2, lora_alpha=3, target_modules=["conv1", "conv2", "head"], init_lora_weights=False))
    model.eval()
    with torch.no_grad():
        y_lora = model(x)
        with model.disable_adapter():
            y_base = model(x)
    model.save_pretrained(os.path.join(OUT, "adapter"))
    os.remove(os.path.join(OUT, "adapter", "README.md"))  # the model card save_pretrained writes
    save_file({"y_lora": y_lora.contiguous(), "y_base": y_base.contiguous()}, os.path.join(OUT, "expected.safetensors"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
