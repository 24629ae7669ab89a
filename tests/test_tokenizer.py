"""`spacy_crf_lr.CharTokenizer.v1`: the same Doc as spaCy's zh "char" tokenizer, in linear time."""

import time

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.util import load_config_from_str

from spacy_crf_lr.cws.tokenizer import CharTokenizer

ZH = spacy.blank("zh")
OURS = CharTokenizer(ZH.vocab)
ALPHABET = st.sampled_from(list("中国人 \u3000\t\n\r\xa0ae\u0301,。") + ["  ", "👍🏽"])


def tokens(doc):
    return [(t.text, t.whitespace_) for t in doc]


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_same_tokens_as_spacy_zh_char(text):
    doc = OURS(text)
    assert doc.text == text
    assert tokens(doc) == tokens(ZH.tokenizer(text))


def test_registered_and_usable_in_a_config():
    config = load_config_from_str(
        '[nlp]\nlang = "zh"\npipeline = []\n\n[nlp.tokenizer]\n@tokenizers = "spacy_crf_lr.CharTokenizer.v1"\n'
    )
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    assert isinstance(nlp.tokenizer, CharTokenizer) and [t.text for t in nlp("中国 人")] == ["中", "国", "人"]


def test_linear_time():
    def seconds(n):
        text = ("中国人民 银行，\n" * (n // 8 + 1))[:n]
        start = time.perf_counter()
        OURS(text)
        return time.perf_counter() - start

    seconds(1000)
    small, large = min(seconds(50_000) for _ in range(3)), min(seconds(500_000) for _ in range(3))
    assert large / small < 10 * 2.0, (small, large)


def test_texts_first_seen_in_a_memory_zone_tokenize_after_it():
    """The tokenizer keeps the ORTH id of each token text it saw; a memory zone removes the strings seen in it."""
    nlp = spacy.blank("zh")
    nlp.tokenizer = CharTokenizer(nlp.vocab)
    with nlp.memory_zone():
        assert tokens(nlp.make_doc("ꀀꀁ 中")) == [("ꀀ", ""), ("ꀁ", " "), ("中", "")]
    assert "ꀀ" not in nlp.vocab.strings
    doc = nlp.make_doc("中ꀀ ꀁ")
    assert tokens(doc) == [("中", ""), ("ꀀ", " "), ("ꀁ", "")] and [t.orth_ for t in doc] == ["中", "ꀀ", "ꀁ"]
