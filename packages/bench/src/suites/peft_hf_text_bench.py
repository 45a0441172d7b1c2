"""Times the hf-text bench's workloads in Hugging Face PEFT on PyTorch (CPU): a LoRA training step of a
random-weight GPT-2 (GPT2LMHeadModel, LoRA on c_attn) or DistilBERT classifier (LoRA on q_lin, v_lin), the same
shapes as the tfjs run (packages/bench/src/suites/hf-text.ts). Dropout off (as the tfjs models, which build
none), Adam, batch of random ids with a full attention mask. Prints one JSON line: median ms per step, the
growth of the process's peak RSS over the steps (MiB), trainable and total parameters.

  /tmp/peftenv/bin/python peft_hf_text_bench.py --model gpt2 --layers 12 --hidden 768 --heads 12 --vocab 50257 \
      --seq 128 --batch 8 --r 8 --steps 3 --threads 2
"""
import argparse, json, resource, statistics, sys, time

sys.modules["torchvision"] = None  # a half-installed torchvision breaks transformers' lazy imports; not needed
import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["gpt2", "distilbert"], default="gpt2")
    for name, default in (("layers", 12), ("hidden", 768), ("heads", 12), ("vocab", 50257), ("seq", 128), ("batch", 8), ("r", 8), ("steps", 3), ("threads", 2)):
        ap.add_argument(f"--{name}", type=int, default=default)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model == "gpt2":
        config = transformers.GPT2Config(n_layer=a.layers, n_embd=a.hidden, n_head=a.heads, vocab_size=a.vocab, n_positions=max(1024, a.seq),
                                         resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)
        model = transformers.GPT2LMHeadModel(config)
        targets, task = ["c_attn"], None
    else:
        config = transformers.DistilBertConfig(n_layers=a.layers, dim=a.hidden, n_heads=a.heads, hidden_dim=4 * a.hidden, vocab_size=a.vocab,
                                               max_position_embeddings=max(512, a.seq), dropout=0, attention_dropout=0, seq_classif_dropout=0, num_labels=2)
        model = transformers.DistilBertForSequenceClassification(config)
        targets, task = ["q_lin", "v_lin"], "SEQ_CLS"
    lora = get_peft_model(model, LoraConfig(r=a.r, lora_alpha=2 * a.r, target_modules=targets, lora_dropout=0, task_type=task))
    lora.train()
    params = [p for p in lora.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-4)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq), generator=g)
    mask = torch.ones_like(ids)
    labels = ids if a.model == "gpt2" else torch.arange(a.batch) % 2
    times = []
    before = rss_mib()
    for i in range(1 + a.steps):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = lora(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        if i >= 1:
            times.append((time.perf_counter() - t) * 1000)
    print(json.dumps(dict(torch=torch.__version__, peft=peft.__version__, transformers=transformers.__version__, threads=a.threads,
                          ms=statistics.median(times), steps=a.steps, peak_rss_growth_mib=rss_mib() - before, rss_mib=rss_mib(),
                          trainable=sum(p.numel() for p in params), total=sum(p.numel() for p in lora.parameters()))))


if __name__ == "__main__":
    main()
