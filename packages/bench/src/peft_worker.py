"""Benchmark worker: Hugging Face PEFT on PyTorch (CPU), speaking the conductor's line protocol
(src/protocol.ts). The same workloads as src/workloads.ts: MLP 784-512-512-10 and the vision CNN
(conv 3x3 1->32, ReLU, pool 2; conv 3x3 32->64, ReLU, pool 2; fc 1600->128, ReLU; head 128->10),
batch 64, cross-entropy on logits, Adam(1e-3); LoRA r=8, lora_alpha=16 on every layer.

  python peft_worker.py <threads> <workload,...>
"""
import json
import sys
import time

import peft
import torch
import torch.nn as nn
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model

BATCH = 64
RANK = 8
TARGETS = {"mlp": ["hidden1", "hidden2", "head"], "cnn": ["conv1", "conv2", "fc1", "head"]}


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(784, 512)
        self.hidden2 = nn.Linear(512, 512)
        self.head = nn.Linear(512, 10)

    def forward(self, x):
        return self.head(F.relu(self.hidden2(F.relu(self.hidden1(x)))))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(1600, 128)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.head(F.relu(self.fc1(torch.flatten(x, 1))))


class Trainer:
    def __init__(self, workload, variant):
        torch.manual_seed(0)
        model = Mlp() if workload == "mlp" else Cnn()
        if variant == "lora":
            model = get_peft_model(model, LoraConfig(r=RANK, lora_alpha=2 * RANK, target_modules=TARGETS[workload]))
        self.model = model
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.opt = torch.optim.Adam(self.params, lr=1e-3)
        g = torch.Generator().manual_seed(1)
        self.x = torch.rand((BATCH, 784) if workload == "mlp" else (BATCH, 1, 28, 28), generator=g)
        self.y = torch.tensor([(i * 7) % 10 for i in range(BATCH)])

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss.item()


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    threads = int(sys.argv[1])
    workloads = (sys.argv[2] if len(sys.argv) > 2 else "mlp,cnn").split(",")
    torch.set_num_threads(threads)
    trainers = {f"{w}/{v}": Trainer(w, v) for w in workloads for v in ("lora", "full")}
    label = f"PEFT {peft.__version__} on PyTorch {torch.__version__}, {threads} threads"
    send(dict(ready=True, label=label, trainable={k: sum(p.numel() for p in t.params) for k, t in trainers.items()}))
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        trainer = trainers[f"{request['workload']}/{request['variant']}"]
        times, losses = [], []
        for _ in range(request["steps"]):
            t = time.perf_counter()
            losses.append(trainer.step())
            times.append((time.perf_counter() - t) * 1000)
        send(dict(times=times, firstLoss=losses[0], loss=losses[-1]))


if __name__ == "__main__":
    main()
