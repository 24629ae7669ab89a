"""A randomly initialised BERT saved like a hub model, for offline runs (tests, benchmarks)."""

from pathlib import Path
from typing import Iterable

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BERT_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)


def save_random_bert(path: Path, tokens: Iterable[str], *, seed: int = 0, **config) -> Path:
    """Save a BertModel with random weights and a WordPiece tokenizer whose vocabulary is the
    special tokens plus `tokens` to `path` (save_pretrained); `config` overrides BertConfig fields."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = SPECIAL_TOKENS + sorted(set(tokens) - set(SPECIAL_TOKENS))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=False, tokenize_chinese_chars=True)
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    BertModel(BertConfig(vocab_size=len(vocab), **config)).save_pretrained(path)
    return path
