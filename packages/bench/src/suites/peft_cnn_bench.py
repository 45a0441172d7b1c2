"""Times the vision bench's CNN workload in Hugging Face PEFT on PyTorch (CPU), for the ours/PEFT column.

Same network as packages/vision/src/experiment/mnist-cnn.ts: conv1 (3x3, 1->32, ReLU) -> 2x2 max-pool ->
conv2 (3x3, 32->64, ReLU) -> 2x2 max-pool -> fc1 (1600->128, ReLU) -> head (128->10); cross-entropy,
Adam(1e-3), batch 64 of 28x28x1 inputs. LoRA: r=8, lora_alpha=16 on conv1, conv2, fc1, head (PEFT
semantics, as the tfjs run). Prints one JSON line with the median milliseconds per training step.

  /tmp/peftenv/bin/python peft_cnn_bench.py [--batch 64] [--steps 30] [--threads 2]
"""
import argparse, json, os, statistics, sys, time

import peft
import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model

# The network is the root benchmark's (packages/bench/src/peft_worker.py), so both time the same model.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "src"))
from peft_worker import Cnn  # noqa: E402


def time_steps(model, batch, steps, warmup=3):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    times = []
    for i in range(warmup + steps):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), sum(p.numel() for p in params)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--r", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    full_ms, full_params = time_steps(Cnn(), a.batch, a.steps)
    lora = get_peft_model(Cnn(), LoraConfig(r=a.r, lora_alpha=2 * a.r, target_modules=["conv1", "conv2", "fc1", "head"]))
    lora_ms, lora_params = time_steps(lora, a.batch, a.steps)
    print(json.dumps(dict(torch=torch.__version__, peft=peft.__version__, threads=a.threads, batch=a.batch, steps=a.steps,
                          r=a.r, lora_ms=lora_ms, full_ms=full_ms, lora_trainable=lora_params, full_trainable=full_params)))


if __name__ == "__main__":
    main()
