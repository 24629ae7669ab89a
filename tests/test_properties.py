"""Properties on random Unicode text: the segmenter keeps the text, and `score` accepts what `segment` writes."""

import tempfile
from pathlib import Path

import pytest
import spacy
from conftest import TOY_WORDS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spacy_crf_lr.cli import main
from spacy_crf_lr.cws.bakeoff import score_files
from spacy_crf_lr.cws.sighan import read_lines
from spacy_crf_lr.cws.whitespace import SEPARATORS, is_separator, split_words

SPECIAL = [
    *SEPARATORS,  # every kind of whitespace, CR and LF included
    "\ufeff",  # BOM
    "\u200b",  # zero width space: not whitespace
    "\u0301",  # combining acute accent
    "e\u0301",
    "😀",
    "👍🏽",  # emoji with a skin tone modifier
    "👩\u200d💻",  # ZWJ sequence
    "\x00",
    *TOY_WORDS,
]
TEXT = st.lists(st.one_of(st.sampled_from(SPECIAL), st.characters(exclude_categories=("Cs",))), max_size=40).map(
    "".join
)
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def nlp(tiny_segmenter):
    return spacy.load(tiny_segmenter)


def check_doc(doc, text: str) -> None:
    """The doc keeps the text; each token is all whitespace or none; probabilities are in [0, 1]."""
    assert doc.text == text
    for token in doc:
        assert is_separator(token.text) or split_words(token.text) == [token.text]
        assert 0.0 <= token._.crf_prob <= 1.0


def test_separators_are_exactly_python_whitespace():
    import sys

    assert set(SEPARATORS) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


@SETTINGS
@given(text=TEXT)
def test_nlp_keeps_the_text(nlp, text):
    check_doc(nlp(text), text)


@SETTINGS
@given(texts=st.lists(TEXT, max_size=6))
def test_pipe_keeps_the_texts(nlp, texts):
    docs = list(nlp.pipe(texts, batch_size=2))
    assert len(docs) == len(texts)
    for doc, text in zip(docs, texts):
        check_doc(doc, text)


@SETTINGS
@given(text=TEXT)
@example(text="\ufeff")
@example(text="中国\r人民")
@example(text="\r")
@example(text="\ufeff\n\ufeff中国\xa0人民\r\n\u2029")
def test_score_accepts_what_segment_writes(tiny_segmenter, text):
    with tempfile.TemporaryDirectory() as folder:
        source, output = Path(folder, "in.txt"), Path(folder, "out.txt")
        source.write_bytes(text.encode("utf-8"))
        if "\r" in text.replace("\r\n", "\n"):  # a CR-only line end: refused, the output never written
            assert main(["segment", str(tiny_segmenter), str(source), str(output), "--quiet"]) == 2
            assert not output.exists()
            return
        assert main(["segment", str(tiny_segmenter), str(source), str(output), "--quiet"]) == 0
        assert len(read_lines(output)) == len(read_lines(source))
        assert output.read_bytes().startswith(b"\xef\xbb\xbf") == text.startswith("\ufeff")
        if any(split_words(line) for line in read_lines(source)):
            score = score_files(source, output)
            assert 0.0 <= score.f <= 1.0
        else:
            with pytest.raises(ValueError, match="no words to score"):
                score_files(source, output)
