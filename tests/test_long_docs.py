"""Long docs: windows that cost their own length (not the doc's), and lines over spaCy's max length."""

import pytest
import spacy
from conftest import TOY_WORDS
from spacy.attrs import NORM
from spacy.ml.featureextractor import FeatureExtractor
from spacy.tokens import Doc

from spacy_crf_lr.cli import main
from spacy_crf_lr.pipeline.windows import token_columns, window_doc
from spacy_crf_lr.run.parallel import segment_lines


class CountingDoc(Doc):
    """A Doc that counts the rows its to_array calls return (Span.as_doc copies the whole doc with one)."""

    rows = 0

    def to_array(self, attrs):
        array = super().to_array(attrs)
        CountingDoc.rows += len(array)
        return array


@pytest.fixture(scope="module")
def char_tokenizer_segmenter(tiny_segmenter, tmp_path_factory):
    """The tiny segmenter in a pipeline whose tokenizer is spacy_crf_lr.CharTokenizer.v1, saved."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": "spacy_crf_lr.CharTokenizer.v1"}}})
    nlp.add_pipe("crf_segmenter", source=spacy.load(tiny_segmenter))
    path = tmp_path_factory.mktemp("char_tokenizer") / "model"
    nlp.to_disk(path)
    return path


def test_windows_read_the_doc_once_not_once_per_window(tiny_segmenter, monkeypatch):
    import spacy_crf_lr.pipeline.base as base

    nlp = spacy.load(tiny_segmenter)
    segmenter = nlp.get_pipe("crf_segmenter")
    plain = nlp.make_doc("".join(TOY_WORDS) * 60)
    doc = CountingDoc(nlp.vocab, words=[t.text for t in plain], spaces=[bool(t.whitespace_) for t in plain])
    whole = segmenter.predict([doc])
    monkeypatch.setattr(base, "WINDOW", len(doc) // 20)  # 20 windows or more
    CountingDoc.rows = 0
    windowed = segmenter.predict([doc])
    assert CountingDoc.rows <= len(doc)  # copied once (Span.as_doc per window: 20 × len(doc))
    assert (windowed[0][0] == whole[0][0]).all()


def test_a_window_doc_keeps_the_token_attributes_the_features_read():
    nlp = spacy.blank("en")
    doc = nlp("I don't know, you don't either")  # tokenizer exceptions set a token's NORM ("n't" -> "not")
    columns = token_columns([FeatureExtractor(["NORM", "SHAPE"])])
    window = window_doc(doc, columns, doc.to_array(columns)[2:6])
    assert [t.text_with_ws for t in window] == [t.text_with_ws for t in doc[2:6]]
    assert window.to_array([NORM]).tolist() == doc[2:6].as_doc().to_array([NORM]).tolist()
    assert "not" in [t.norm_ for t in window]


def test_a_line_over_a_million_characters_is_segmented_with_the_char_tokenizer(
    char_tokenizer_segmenter, tmp_path, capsys
):
    """Over spaCy's 1,000,000 characters (its E088): the char tokenizer's pipelines have no limit by default, a
    --max-length below the line refuses it naming the line and the option that lifts the limit."""
    model = str(char_tokenizer_segmenter)
    line = "".join(TOY_WORDS) * (1_200_000 // len("".join(TOY_WORDS)) + 1)
    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text(f"中国\n{line}\n", encoding="utf-8")
    assert main(["segment", model, str(source), str(output), "--quiet"]) == 0
    written = output.read_text(encoding="utf-8").splitlines()
    assert len(written) == 2 and written[1].replace("  ", "") == line
    assert main(["segment", model, str(source), str(output), "--quiet", "--max-length", "1000000"]) == 2
    error = capsys.readouterr().err
    assert f"line 2 has {len(line):,} characters" in error and f"--max-length {len(line)}" in error


def test_the_model_limit_is_kept_for_other_tokenizers_and_named_in_the_error(tiny_segmenter):
    nlp = spacy.load(tiny_segmenter)
    nlp.tokenizer = spacy.blank("zh").tokenizer  # spaCy's own char segmenter (quadratic in a line's length)
    nlp.max_length = 50
    lines = ["中国人民", "中国" * 30]
    try:
        list(segment_lines(nlp, lines))
    except ValueError as error:
        assert "line 2 has 60 characters, more than the model's max length 50" in str(error)
        assert "--max-length 60" in str(error)
    else:
        raise AssertionError("a line over nlp.max_length was segmented")
    assert len(list(segment_lines(nlp, lines, max_length=60))) == 2


def test_decoding_probabilities_keeps_few_chain_sized_arrays():
    """forward_backward without transition counts (decoding) peaks under 3.5 float64 arrays of T×K (8.3 before it
    reused its arrays: 1.3 GB more for one doc of 5M characters)."""
    import tracemalloc

    import numpy
    from thinc.api import NumpyOps

    from spacy_crf_lr.crf.chain_ops import ChainScores, forward_backward

    n_steps, n_tags = 50_000, 4
    emissions = numpy.random.default_rng(0).normal(size=(1, n_steps, n_tags)).astype("f")
    zeros = numpy.zeros((n_tags,), "f")
    scores = ChainScores(emissions, numpy.array([n_steps], "int32"), numpy.zeros((n_tags, n_tags), "f"), zeros, zeros)
    tracemalloc.start()
    try:
        marginals = forward_backward(NumpyOps(), scores, with_transitions=False).marginals
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert marginals.shape == (1, n_steps, n_tags)
    assert peak < 3.5 * n_steps * n_tags * 8
