#!/usr/bin/env python3
"""Hugging Face parity fixtures for @tfjs-lora/nlp's 'hf-text' format (fixtures/hf/).

For tiny random-weight configs of every supported architecture (2 layers, hidden 32, vocab 100) writes
fixtures/hf/<name>/:
  config.json + model.safetensors   save_pretrained of the base model (all weights re-drawn at a scale that
                                    gives logits of order 1, so a 1e-4 tolerance means something)
  adapter/                          a PEFT LoRA adapter made with init_lora_weights=False (B is not zero)
  reference.safetensors             input_ids, attention_mask, token_type_ids (int32; row 1 right-padded),
                                    logits (base), logits_lora (PeftModel, unmerged), logits_merged
                                    (merge_and_unload), as transformers computes them in float32
Variants: gpt2-cls-leftpad (gpt2-cls's weights, row 1 padded on the left), gpt2-lm-sharded (the same weights as gpt2-lm in 3 shards + model.safetensors.index.json),
distilbert-cls-f16 and bert-cls-bf16 (weights stored as F16 / BF16; reference from the rounded weights).
Tokenizers: fixtures/hf/tokenizers/{bpe,wordpiece}.json trained offline with `tokenizers`, and
tokenizer-ids.json (the ids Python's tokenizers gives for corpus lines, incl. unicode).
gpt2-lm-bpe: a GPT2LMHeadModel whose vocabulary is the BPE tokenizer's (400 ids) with that tokenizer.json, and
lm-reference.json: the token ids of a text, transformers' perplexity on nlp's evaluation windows of it and the
greedy continuation `generate` gives for a prompt (language-model helpers and the demo's text task, end to end).
Only that fixture: `--only-lm-bpe` (it needs tokenizers/bpe.json).

Module names: for GPT-2, BERT and DistilBERT, transformers 4 and 5 use the same module paths (unlike ViT),
so adapters made under either name the same layers.

Run offline (the PEFT venv, see packages/test-support/README.md), from packages/nlp:
  /tmp/peftenv/bin/python scripts/make-hf-fixtures.py
"""
import json, os, shutil, sys

sys.modules["torchvision"] = None  # a half-installed torchvision breaks transformers' lazy imports; not needed
import torch
import transformers
import peft
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    DistilBertModel,
    GPT2Config,
    GPT2ForSequenceClassification,
    GPT2LMHeadModel,
)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hf")
VOCAB, HIDDEN, LAYERS, HEADS, INNER, POSITIONS = 100, 32, 2, 4, 64, 32
B, T, PAD = 2, 8, 0


def randomize(model, seed):
    """Every parameter re-drawn: LayerNorm weights 1 ± 0.2, other weights N(0, 1/fan_in)-ish, biases N(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or ".ln_" in name or name.endswith("ln_f.weight"):
                p.copy_((1 + 0.2 * torch.randn(p.shape, generator=g)) if name.endswith("weight") else 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embeddings" in name or "wte" in name or "wpe" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[0] if "c_attn" in name or "c_proj" in name or "c_fc" in name else p.shape[1]
                p.copy_(torch.randn(p.shape, generator=g) / fan_in**0.5)


def inputs(seed, with_types, left=False):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, VOCAB, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    pad = slice(0, 3) if left else slice(T - 3, T)
    mask[1, pad] = 0
    ids[1, pad] = PAD
    types = torch.zeros(B, T, dtype=torch.long)
    if with_types:
        types[:, T // 2 :] = 1
    return ids, mask, types


def run(model, ids, mask, types, with_types):
    kw = dict(input_ids=ids, attention_mask=mask)
    if with_types:
        kw["token_type_ids"] = types
    with torch.no_grad():
        out = model(**kw)
    if getattr(out, "logits", None) is not None:
        return {"": out.logits}
    res = {"": out.last_hidden_state}
    if getattr(out, "pooler_output", None) is not None:
        res["_pooler"] = out.pooler_output
    return res


def write_reference(path, ids, mask, types, **logits):
    tensors = {
        "input_ids": ids.to(torch.int32).contiguous(),
        "attention_mask": mask.to(torch.int32).contiguous(),
        "token_type_ids": types.to(torch.int32).contiguous(),
    }
    for k, outs in logits.items():
        tensors.update({k + suffix: v.detach().float().contiguous() for suffix, v in outs.items()})
    save_file(tensors, path, metadata={"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__})


def make(name, model, seed, targets, with_types=False, task=None, save_kwargs=None, dtype=None, left=False):
    d = os.path.join(ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.eval()
    randomize(model, seed)
    if dtype is not None:  # store rounded weights; the reference is computed from the rounded values
        model.to(dtype)
        model.save_pretrained(d, **(save_kwargs or {}))
        model.to(torch.float32)
    else:
        model.save_pretrained(d, **(save_kwargs or {}))
    ids, mask, types = inputs(seed + 1, with_types, left)
    logits = run(model, ids, mask, types, with_types)
    if targets is None:
        write_reference(os.path.join(d, "reference.safetensors"), ids, mask, types, logits=logits)
        return
    torch.manual_seed(seed + 2)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False, task_type=task)
    pm = get_peft_model(model, config)
    pm.eval()
    with torch.no_grad():  # a modules_to_save head that differs from the base head
        for n, p in pm.named_parameters():
            if "modules_to_save" in n:
                p.add_(0.3 * torch.randn(p.shape))
    lora = run(pm, ids, mask, types, with_types)
    pm.save_pretrained(os.path.join(d, "adapter"))
    merged = run(pm.merge_and_unload(), ids, mask, types, with_types)
    write_reference(os.path.join(d, "reference.safetensors"), ids, mask, types, logits=logits, logits_lora=lora, logits_merged=merged)
    print(f"{name}: logits {tuple(logits[''].shape)} |max| {logits[''].abs().max():.3f}, lora changes them by {(lora[''] - logits['']).abs().max():.3f}")


def gpt2(**kw):
    return GPT2Config(n_layer=LAYERS, n_embd=HIDDEN, n_head=HEADS, vocab_size=VOCAB, n_positions=POSITIONS, n_inner=INNER, bos_token_id=1, eos_token_id=1, **kw)


def bert(**kw):
    return BertConfig(num_hidden_layers=LAYERS, hidden_size=HIDDEN, num_attention_heads=HEADS, intermediate_size=INNER, vocab_size=VOCAB, max_position_embeddings=POSITIONS, type_vocab_size=2, pad_token_id=PAD, **kw)


def distilbert(**kw):
    return DistilBertConfig(n_layers=LAYERS, dim=HIDDEN, n_heads=HEADS, hidden_dim=INNER, vocab_size=VOCAB, max_position_embeddings=POSITIONS, pad_token_id=PAD, **kw)


CORPUS = [
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,",
    "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.",
    "It is a way I have of driving off the spleen and regulating the circulation.",
    "Whenever I find myself growing grim about the mouth; whenever it is a damp, drizzly November in my soul;",
    "The quick brown fox jumps over the lazy dog 1234567890 times!",
    "Mr. O'Neil's e-mail (o.neil@example.com) said: \"don't panic\" -- twice...",
    "  leading spaces, trailing spaces   ",
    "tabs\tand\nnewlines\r\nmixed",
    "Crème brûlée, naïve café, façade, jalapeño, Ångström, Øresund, Łódź",
    "Straße, Größe, ÆØÅ æøå, İstanbul, ıi",
    "Ελληνικά: Καλημέρα κόσμε",
    "Русский: Съешь же ещё этих мягких французских булок",
    "日本語のテキスト、漢字とひらがなとカタカナ。",
    "中文：我能吞下玻璃而不伤身体。",
    "한국어 텍스트: 나는 유리를 먹을 수 있어요",
    "עברית: אני יכול לאכול זכוכית",
    "العربية: أنا قادر على أكل الزجاج",
    "हिन्दी: मैं काँच खा सकता हूँ",
    "emoji: 👍🏽 🎉 👨‍👩‍👧‍👦 🇳🇿 ❤️",
    "combining: e\u0301 a\u0308 n\u0303 (decomposed accents)",
    "zero\u200bwidth\u200cjoiners\u200d and nbsp\u00a0here",
    "math: ∑ x² ≤ ∞, α + β = γ, √2 ≈ 1.414",
    "URL https://huggingface.co/openai-community/gpt2?x=1&y=2#frag",
    "CamelCaseWords and snake_case_words and kebab-case-words",
    "UPPER lower MiXeD",
    "numbers: 3.14159 2,718 1e-12 0x1F 007",
    "punctuation!!! ??? ... ;;; ::: ((( ))) [[[ ]]] {{{ }}}",
    "He said, 'It's 5 o'clock somewhere.'",
    "don't won't can't shouldn't I'm you're we've they'll",
    "The LoRA adapter adds a low-rank update ΔW = (α/r)·B·A to a frozen weight.",
    "tfjs-lora trains adapters in the browser with WebGPU, wasm or the cpu backend.",
    "A PEFT adapter is adapter_config.json plus adapter_model.safetensors.",
    "GPT-2 uses byte-level BPE; BERT uses WordPiece with ## continuation pieces.",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a",
    "",
    " ",
    "ends with space ",
    "multiple     inner     spaces",
    "Ünïcödé ẞ ﬁ ligature ① ② Ⅻ ㎏",
    "mixed scripts: abcабв日本αβγ",
    "The year 2026 had 365 days; 12 months; 52 weeks.",
    "Spam: WIN $1,000,000 NOW!!! Click here >>> http://example.com <<<",
    "Ham: Meeting moved to 3pm, see you in room 4B.",
    "ﾊﾝｶｸ half-width katakana and ＦＵＬＬＷＩＤＴＨ latin",
    "Tiếng Việt: Tôi có thể ăn thủy tinh mà không hại gì.",
    "ไทย: ฉันกินกระจกได้ แต่มันไม่ทำให้ฉันเจ็บ",
    "Emoji in words: hi👋there, code💻time",
    "Quotes: “curly” ‘single’ «guillemets» „low“",
    "Final line with the end.",
]


def make_tokenizers():
    """A byte-level BPE (GPT-2 style) and a WordPiece (BERT style) tokenizer trained on CORPUS, and the ids
    Python's tokenizers gives for every line (with the special tokens their post-processors add)."""
    import tokenizers
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    d = os.path.join(ROOT, "tokenizers")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=True)
    bpe.train_from_iterator(CORPUS * 3, trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=None, clean_text=True, handle_chinese_chars=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.decoder = decoders.WordPiece()
    wp.train_from_iterator(CORPUS * 3, trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    wp.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", wp.token_to_id("[CLS]")), ("[SEP]", wp.token_to_id("[SEP]"))])
    out = {"tokenizers_version": tokenizers.__version__, "lines": CORPUS, "bpe": {}, "wordpiece": {}}
    for name, tok in (("bpe", bpe), ("wordpiece", wp)):
        tok.save(os.path.join(d, f"{name}.json"))
        out[name]["ids"] = [tok.encode(line).ids for line in CORPUS]
        pair = tok.encode(CORPUS[0], CORPUS[4])
        out[name]["pair"] = {"ids": pair.ids, "type_ids": pair.type_ids}
        out[name]["decoded"] = [tok.decode(ids) for ids in out[name]["ids"]]
    # A WordPiece small enough for the bert-cls fixture's 100 ids, and that model's logits on two sentences
    # tokenized in Python: tokenizer and model end to end.
    small = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    small.normalizer = normalizers.BertNormalizer(lowercase=True)
    small.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    small.decoder = decoders.WordPiece()
    ascii_lines = [l for l in CORPUS if l.isascii()]
    small.train_from_iterator(ascii_lines * 3, trainers.WordPieceTrainer(vocab_size=VOCAB, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    small.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", small.token_to_id("[CLS]")), ("[SEP]", small.token_to_id("[SEP]"))])
    small.enable_padding(pad_id=small.token_to_id("[PAD]"), pad_token="[PAD]")
    assert small.get_vocab_size() <= VOCAB, small.get_vocab_size()
    small.save(os.path.join(d, "wordpiece-small.json"))
    sentences = ["call me ishmael.", "the lazy dog"]
    batch = small.encode_batch(sentences)
    model = BertForSequenceClassification.from_pretrained(os.path.join(ROOT, "bert-cls")).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([e.ids for e in batch]), attention_mask=torch.tensor([e.attention_mask for e in batch]),
                       token_type_ids=torch.tensor([e.type_ids for e in batch])).logits
    out["end_to_end"] = {"tokenizer": "wordpiece-small.json", "model": "bert-cls", "sentences": sentences,
                         "input_ids": [e.ids for e in batch], "logits": logits.tolist()}
    with open(os.path.join(d, "tokenizer-ids.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    print(f"tokenizers: bpe {bpe.get_vocab_size()} tokens, wordpiece {wp.get_vocab_size()} tokens, {len(CORPUS)} lines")


LM_TEXT = " ".join(CORPUS[:12])
LM_LENGTH, LM_WINDOWS, LM_PROMPT, LM_NEW = 16, 4, "The quick brown fox", 12


def make_lm_bpe():
    """gpt2-lm-bpe: GPT-2 with the BPE tokenizer's vocabulary, its tokenizer.json, and lm-reference.json."""
    from tokenizers import Tokenizer

    d = os.path.join(ROOT, "gpt2-lm-bpe")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    src = os.path.join(ROOT, "tokenizers", "bpe.json")
    tok = Tokenizer.from_file(src)
    shutil.copy(src, os.path.join(d, "tokenizer.json"))
    cfg = GPT2Config(n_layer=LAYERS, n_embd=HIDDEN, n_head=HEADS, vocab_size=tok.get_vocab_size(), n_positions=64,
                     n_inner=INNER, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(cfg).eval()
    randomize(model, 70)
    model.save_pretrained(d)
    ids = tok.encode(LM_TEXT).ids
    # nlp's evaluationOffsets: at most LM_WINDOWS non-overlapping windows of LM_LENGTH + 1 tokens, evenly spaced.
    available = (len(ids) - 1) // LM_LENGTH
    n = min(LM_WINDOWS, available)
    stride = available // n
    offsets = [i * stride * LM_LENGTH for i in range(n)]
    windows = torch.tensor([ids[o : o + LM_LENGTH + 1] for o in offsets])
    with torch.no_grad():
        loss = model(input_ids=windows, labels=windows).loss.item()  # mean next-token NLL over all windows
        prompt = tok.encode(LM_PROMPT).ids
        out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                             do_sample=False, max_new_tokens=LM_NEW, pad_token_id=0, output_scores=True,
                             return_dict_in_generate=True)
    new = out.sequences[0, len(prompt):].tolist()
    # Greedy steps whose top two logits are close could flip between float32 implementations: refuse them.
    margin = min((s[0].topk(2).values[0] - s[0].topk(2).values[1]).item() for s in out.scores)
    assert margin > 1e-3, margin
    ref = {"text": LM_TEXT, "ids": ids, "length": LM_LENGTH, "windows": LM_WINDOWS, "offsets": offsets,
           "perplexity": float(torch.tensor(loss).exp()), "prompt": LM_PROMPT, "prompt_ids": prompt,
           "greedy_ids": new, "greedy_text": tok.decode(new), "greedy_margin": margin,
           "transformers": transformers.__version__, "torch": torch.__version__}
    with open(os.path.join(d, "lm-reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1)
    print(f"gpt2-lm-bpe: {len(ids)} text tokens, perplexity {ref['perplexity']:.3f}, greedy margin {margin:.4f}")


def main():
    os.makedirs(ROOT, exist_ok=True)
    if "--only-lm-bpe" in sys.argv:
        make_lm_bpe()
        return
    make("gpt2-lm", GPT2LMHeadModel(gpt2()), 10, ["c_attn", "c_proj", "c_fc"])
    make("gpt2-lm-sharded", GPT2LMHeadModel(gpt2()), 10, None, save_kwargs={"max_shard_size": "60KB"})
    make("gpt2-cls", GPT2ForSequenceClassification(gpt2(num_labels=3, pad_token_id=PAD)), 20, ["c_attn"], task="SEQ_CLS")
    make("gpt2-cls-leftpad", GPT2ForSequenceClassification(gpt2(num_labels=3, pad_token_id=PAD)), 20, None, left=True)
    make("distilbert", DistilBertModel(distilbert()), 30, ["q_lin", "v_lin", "lin1"])
    make("distilbert-cls", DistilBertForSequenceClassification(distilbert(num_labels=3)), 40, ["q_lin", "k_lin", "v_lin", "out_lin"], task="SEQ_CLS")
    make("distilbert-cls-f16", DistilBertForSequenceClassification(distilbert(num_labels=3)), 45, None, dtype=torch.float16)
    make("bert", BertModel(bert()), 50, ["query", "value", "dense"], with_types=True)
    make("bert-cls", BertForSequenceClassification(bert(num_labels=2)), 60, ["query", "key", "value"], with_types=True, task="SEQ_CLS")
    make("bert-cls-bf16", BertForSequenceClassification(bert(num_labels=2)), 65, None, with_types=True, dtype=torch.bfloat16)
    if "--no-tokenizers" not in sys.argv:
        make_tokenizers()
    make_lm_bpe()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
