"""Pretrain a small character-level Chinese BERT (masked LM) on the training part of a SIGHAN
file only (the dev holdout and any test text are never seen), bounded in wall time, and save it
with save_pretrained so that configs/bert_*.cfg can load it by path (--vars.transformer DIR).

    python scripts/pretrain_bert.py TRAIN.utf8 OUTPUT_DIR --minutes 20 --threads 2
"""

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import List

from random_bert import SPECIAL_TOKENS

from spacy_crf_lr.cws.sighan import read_lines, select_lines, split_words


def training_texts(path: Path, holdout: float) -> List[str]:
    """The unsegmented text of each training line, without the last `holdout` share (dev)."""
    lines = read_lines(path)
    return ["".join(split_words(lines[i])) for i in select_lines(len(lines), holdout, "train")]


def chunks(texts: List[str], max_chars: int) -> List[str]:
    """The texts cut into pieces of at most max_chars characters."""
    return [
        text[i : i + max_chars] for text in texts for i in range(0, len(text), max_chars) if text[i : i + max_chars]
    ]


def mask_batch(ids, vocab_size: int, mask_id: int, special_max: int, rate: float, rng):
    """BERT masking: `rate` of the real tokens are targets; 80% -> [MASK], 10% random, 10% kept."""
    import torch

    labels = ids.clone()
    candidates = ids > special_max
    chosen = (torch.rand(ids.shape, generator=rng) < rate) & candidates
    labels[~chosen] = -100
    inputs = ids.clone()
    roll = torch.rand(ids.shape, generator=rng)
    inputs[chosen & (roll < 0.8)] = mask_id
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = torch.randint(special_max + 1, vocab_size, ids.shape, generator=rng)[swap]
    return inputs, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--holdout", type=float, default=0.02, help="last share of lines left out (dev)")
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-time budget of the training loop")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=128, help="characters per sequence (plus [CLS], [SEP])")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--min-count", type=int, default=2, help="characters seen fewer times become [UNK]")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    texts = training_texts(args.train, args.holdout)
    counts = Counter(ch for text in texts for ch in text)
    chars = sorted(ch for ch, n in counts.items() if n >= args.min_count and not ch.isspace())
    vocab = SPECIAL_TOKENS + [ch for ch in chars if ch not in SPECIAL_TOKENS]
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(
        vocab_file=str(args.output / "vocab.txt"), do_lower_case=False, tokenize_chinese_chars=True
    )
    index = {token: i for i, token in enumerate(vocab)}
    unk, cls, sep, pad, mask = (index[t] for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"))
    special_max = len(SPECIAL_TOKENS) - 1
    pieces = chunks(texts, args.max_length)
    encoded = [[cls] + [index.get(ch, unk) for ch in piece if not ch.isspace()] + [sep] for piece in pieces]
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=4 * args.hidden,
        max_position_embeddings=512,
    )
    model = BertForMaskedLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    rng = random.Random(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    model.train()
    started = time.time()
    step, log = 0, []
    while time.time() - started < args.minutes * 60:
        batch = rng.sample(encoded, args.batch_size)
        width = max(len(seq) for seq in batch)
        ids = torch.tensor([seq + [pad] * (width - len(seq)) for seq in batch])
        attention = (ids != pad).long()
        inputs, labels = mask_batch(ids, len(vocab), mask, special_max, 0.15, gen)
        warm = min(1.0, (step + 1) / 200)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * warm
        hidden = model.bert(input_ids=inputs, attention_mask=attention).last_hidden_state
        targets = labels != -100  # the MLM head only on the masked positions (the vocabulary softmax dominates)
        loss = torch.nn.functional.cross_entropy(model.cls(hidden[targets]), labels[targets])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 100 == 0:
            log.append({"step": step, "loss": round(float(loss), 4), "seconds": round(time.time() - started, 1)})
            print(json.dumps(log[-1]), flush=True)
    tokenizer.save_pretrained(args.output)
    model.bert.save_pretrained(args.output)  # the encoder only: spacy-transformers loads an AutoModel
    summary = {
        "train": str(args.train),
        "holdout": args.holdout,
        "n_sequences": len(encoded),
        "vocab_size": len(vocab),
        "steps": step,
        "batch_size": args.batch_size,
        "seconds": round(time.time() - started, 1),
        "final_loss": log[-1]["loss"] if log else None,
        "config": {k: getattr(args, k) for k in ("layers", "hidden", "heads", "max_length", "lr", "threads")},
        "log": log,
    }
    (args.output / "pretraining.json").write_text(json.dumps(summary, indent=1), encoding="utf8")
    print(json.dumps({k: v for k, v in summary.items() if k != "log"}))


if __name__ == "__main__":
    main()
