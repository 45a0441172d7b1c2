"""Times a LoRA training step of torchvision's MobileNetV2 in Hugging Face PEFT on PyTorch (CPU), for the
`graph` bench's MobileNetV2 row.

Same shapes as the nsfwjs GraphModel the tfjs side trains (mobilenet_v2_mid: MobileNetV2 width 1.4, 224x224x3
input, 5 classes): torchvision.models.mobilenet_v2(width_mult=1.4, num_classes=5), random weights (timing
does not depend on them); where torchvision does not import, the same architecture defined below. Batch norm in eval mode (running statistics, as the GraphModel has it folded into
its convolutions), dropout off. LoRA r (default 8), lora_alpha 2r, on every 1x1 convolution (expand and
project, as the tfjs run's targets) and the classifier Linear. Cross-entropy, Adam(1e-3). Prints one JSON
line: median ms per step and the process's peak resident memory (ru_maxrss) before and after training.

  /tmp/peftenv/bin/python peft_mobilenet_bench.py [--batch 4] [--steps 5] [--threads 2] [--r 8]
"""
import argparse, importlib.util, json, resource, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def torchvision_or_none():
    """torchvision when it imports; else None, hidden from transformers' probe so that peft still imports
    (a torchvision wheel built for another torch fails at import: 'operator torchvision::nms does not exist')."""
    try:
        import torchvision

        return torchvision
    except Exception:  # noqa: BLE001 - any import failure means: use the local definition
        find_spec = importlib.util.find_spec
        importlib.util.find_spec = lambda name, package=None: (
            None if name.split(".")[0] == "torchvision" else find_spec(name, package)
        )
        return None


TORCHVISION = torchvision_or_none()
import peft  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402


def divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


def conv_bn(cin, cout, k=3, stride=1, groups=1, relu=True):
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([nn.ReLU6(inplace=True)] if relu else []))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = round(cin * t)
        self.use_res = stride == 1 and cin == cout
        layers = [conv_bn(cin, hidden, 1)] if t != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, cout, 1, relu=False)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision.models.mobilenet_v2's architecture (same layers and shapes), for when torchvision is absent."""

    def __init__(self, width_mult=1.4, num_classes=5):
        super().__init__()
        settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        cin, last = divisible(32 * width_mult), divisible(1280 * max(1.0, width_mult))
        feats = [conv_bn(3, cin, 3, 2)]
        for t, c, n, s in settings:
            cout = divisible(c * width_mult)
            for i in range(n):
                feats.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        feats.append(conv_bn(cin, last, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def pointwise_targets(model):
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    return names + ["classifier.1"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--r", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if TORCHVISION is not None:
        base = TORCHVISION.models.mobilenet_v2(width_mult=1.4, num_classes=5)
    else:
        base = MobileNetV2(width_mult=1.4, num_classes=5)
    targets = pointwise_targets(base)
    model = get_peft_model(base, LoraConfig(r=a.r, lora_alpha=2 * a.r, target_modules=targets))
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(a.batch, 3, 224, 224, generator=g)
    y = torch.arange(a.batch) % 5
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for i in range(1 + a.steps):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= 1:
            times.append((time.perf_counter() - t) * 1000)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(dict(torch=torch.__version__, peft=peft.__version__, torchvision=TORCHVISION.__version__ if TORCHVISION else None,
                          threads=a.threads, batch=a.batch, steps=a.steps, r=a.r, lora_ms=statistics.median(times),
                          targets=len(targets), trainable=sum(p.numel() for p in params),
                          peak_rss_mb=rss_after / 1024, rss_before_mb=rss_before / 1024)))


if __name__ == "__main__":
    main()
