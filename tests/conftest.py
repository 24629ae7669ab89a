"""Shared fixtures: a tiny tagged corpus, a tiny BERT built on disk, and a runner for CLIs."""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from random_bert import save_random_bert

ROOT = Path(__file__).resolve().parents[1]
PKU_DIR = ROOT.parent / "shared" / "data" / "pku"
WORD_TAGS = {
    "the": "DET",
    "a": "DET",
    "cat": "NOUN",
    "dog": "NOUN",
    "bird": "NOUN",
    "runs": "VERB",
    "sees": "VERB",
    "big": "ADJ",
    "red": "ADJ",
    "quickly": "ADV",
}


def tagged_sentences(n: int, seed: int = 0):
    """Sentences of the toy language as (words, tags)."""
    rng = random.Random(seed)
    words = sorted(WORD_TAGS)
    for _ in range(n):
        sentence = [rng.choice(words) for _ in range(rng.randint(3, 10))]
        yield sentence, [WORD_TAGS[w] for w in sentence]


def write_docbin(path: Path, sentences) -> Path:
    import spacy
    from spacy.tokens import Doc, DocBin

    vocab = spacy.blank("en").vocab
    DocBin(docs=[Doc(vocab, words=w, tags=t) for w, t in sentences]).to_disk(path)
    return path


def require_pku(name: str) -> Path:
    """Path of a file of ../shared/data/pku, skipping the test when it is absent."""
    path = PKU_DIR / name
    if not path.is_file():
        pytest.skip(f"PKU data not found: {path}")
    return path


def run(args, *, cwd=ROOT, env=None, timeout=900):
    """Run a command, failing the test with its output if it fails."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    proc = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{args} exited {proc.returncode}\nSTDOUT:\n{proc.stdout[-4000:]}\nSTDERR:\n{proc.stderr[-4000:]}")
    return proc


def python(*args, **kwargs):
    return run([sys.executable, *args], **kwargs)


@pytest.fixture(scope="session")
def tagged_corpus(tmp_path_factory):
    """(train.spacy, dev.spacy) of the toy tagging language."""
    root = tmp_path_factory.mktemp("corpus")
    sentences = list(tagged_sentences(240))
    return write_docbin(root / "train.spacy", sentences[:200]), write_docbin(root / "dev.spacy", sentences[200:])


def build_tiny_bert(path: Path, tokens) -> Path:
    """A randomly initialised 2-layer BERT and a WordPiece tokenizer over `tokens`, saved to path."""
    return save_random_bert(
        path,
        tokens,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """Directory of a tiny BERT whose vocabulary covers the toy language and CJK characters."""
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)] + list("，。、；：？！“”（）《》0123456789")
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), list(WORD_TAGS) + chars)


TOY_WORDS = ["中国", "人民", "银行", "的", "发展", "很", "快", "。", "我们", "今天", "学习", "历史", "，", "AB"]


def tiny_char_tok2vec(embed: str, **settings) -> dict:
    """A tiny Tok2Vec config: the CharEmbed architecture `embed` (width 16, 200 rows; more `settings`) and one
    Maxout window layer."""
    return {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {"@architectures": embed, "width": 16, "rows": 200, "bigram_rows": 200, **settings},
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": 16,
            "depth": 1,
            "window_size": 1,
            "maxout_pieces": 2,
        },
    }


def assert_windows_segment_as_whole(nlp, text: str, monkeypatch) -> None:
    """The crf_segmenter of nlp gives `text` the same words, and the same probabilities up to float32 rounding,
    whether it scores the doc whole or in windows of 97 tokens (BLAS may round a product differently for another
    number of rows)."""
    import spacy_crf_lr.pipeline.base as base

    segmenter = nlp.get_pipe("crf_segmenter")
    whole = segmenter(nlp.make_doc(text))
    monkeypatch.setattr(base, "WINDOW", 97)
    windowed = segmenter(nlp.make_doc(text))
    assert [t.text for t in windowed] == [t.text for t in whole]
    assert [t._.crf_prob for t in windowed] == pytest.approx([t._.crf_prob for t in whole], rel=1e-5)


@pytest.fixture(scope="session")
def tiny_segmenter(tmp_path_factory) -> Path:
    """Directory of a crf_segmenter trained for a few steps on a toy vocabulary (quality is not the point)."""
    import spacy

    from spacy_crf_lr.cws.corpus import make_example

    rng = random.Random(0)
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": tiny_char_tok2vec("spacy_crf_lr.CharEmbed.v1")}})
    examples = [make_example(nlp, [rng.choice(TOY_WORDS) for _ in range(rng.randint(3, 10))]) for _ in range(80)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(2):
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], sgd=optimizer)
    path = tmp_path_factory.mktemp("tiny_segmenter") / "model"
    nlp.to_disk(path)
    return path
