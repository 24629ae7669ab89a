"""The real `python -m spacy train` CLI with crf_tagger: CNN and a tiny local BERT."""

import json

import pytest
from conftest import ROOT, python

pytestmark = pytest.mark.slow

PROBE = "the big dog sees a red cat"
EXPECTED = ["DET", "ADJ", "NOUN", "VERB", "DET", "ADJ", "NOUN"]


def train_and_tag(tmp_path, tagged_corpus, config: str, *overrides: str):
    train, dev = tagged_corpus
    output = tmp_path / "out"
    python(
        "-m",
        "spacy",
        "train",
        str(ROOT / "configs" / config),
        "--output",
        str(output),
        "--paths.train",
        str(train),
        "--paths.dev",
        str(dev),
        "--training.eval_frequency",
        "20",
        "--training.max_steps",
        "60",
        *overrides,
    )
    script = (
        "import json, spacy\n"
        f"nlp = spacy.load({str(output / 'model-best')!r})\n"
        f"doc = nlp({PROBE!r})\n"
        "print(json.dumps({'tags': [t.tag_ for t in doc], 'probs': [t._.crf_prob for t in doc],"
        " 'pipeline': nlp.pipe_names, 'lr': nlp.get_pipe('crf_tagger').labels}))\n"
    )
    return json.loads(python("-c", script, cwd=tmp_path).stdout.strip().splitlines()[-1])


def test_spacy_train_cnn_then_load_in_a_fresh_process(tmp_path, tagged_corpus):
    result = train_and_tag(tmp_path, tagged_corpus, "tagger_cnn.cfg", "--training.optimizer.crf_lr", "0.05")
    assert result["pipeline"] == ["tok2vec", "crf_tagger"]
    assert sum(p == g for p, g in zip(result["tags"], EXPECTED)) >= 6
    assert all(0 < p <= 1 for p in result["probs"])


def test_spacy_train_tiny_bert_by_path_then_load_in_a_fresh_process(tmp_path, tagged_corpus, tiny_bert):
    result = train_and_tag(
        tmp_path,
        tagged_corpus,
        "tagger_bert.cfg",
        "--vars.transformer",
        str(tiny_bert),
        "--system.gpu_allocator",
        "",
        "--training.optimizer.learn_rate.initial_rate",
        "0.001",
        "--training.optimizer.learn_rate.warmup_steps",
        "5",
        "--training.optimizer.crf_lr",
        "0.05",
        "--training.batcher.size",
        "300",  # the toy corpus is one oversize padded batch at 2000
    )
    assert result["pipeline"] == ["transformer", "crf_tagger"]
    assert len(result["tags"]) == len(EXPECTED)
    assert set(result["tags"]) <= set(EXPECTED)
