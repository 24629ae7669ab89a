"""The `crf_segmenter` component: BMES from alignment, merging, whitespace, scoring, pipe."""

import random

import pytest
import spacy
from conftest import python
from spacy.tokens import Doc
from spacy.training import Example

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.cws.partial import UNKNOWN_SPANS
from spacy_crf_lr.cws.scorer import SegmentationScorer
from spacy_crf_lr.cws.words import MERGES_PER_BLOCK, char_tags, merge_words, word_starts

WORDS = ["中国", "人民", "银行", "的", "发展", "很", "快", "。", "我们", "今天", "学习", "历史"]
TINY_CHAR_CNN = {
    "@architectures": "spacy.Tok2Vec.v2",
    "embed": {"@architectures": "spacy_crf_lr.CharEmbed.v1", "width": 32, "rows": 500, "bigram_rows": 500},
    "encode": {
        "@architectures": "spacy.MaxoutWindowEncoder.v2",
        "width": 32,
        "depth": 2,
        "window_size": 1,
        "maxout_pieces": 2,
    },
}


def sentences(n: int, seed: int = 0):
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(3, 12))] for _ in range(n)]


@pytest.fixture(scope="module")
def trained():
    """A small segmenter trained on the toy vocabulary."""
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": TINY_CHAR_CNN}})
    examples = [make_example(nlp, words) for words in sentences(150)]
    optimizer = nlp.initialize(lambda: examples)
    for epoch in range(12):
        random.Random(epoch).shuffle(examples)
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], sgd=optimizer)
    return nlp


def test_bmes_tags_from_alignment():
    nlp = spacy.blank("zh")
    example = make_example(nlp, ["中国人", "的", "银行"])
    assert char_tags(example) == ["B", "M", "E", "S", "B", "E"]


def test_character_straddling_a_word_boundary_has_no_tag():
    nlp = spacy.blank("zh")
    predicted = Doc(nlp.vocab, words=["中", "国人", "的"], spaces=[False] * 3)
    reference = Doc(nlp.vocab, words=["中国", "人的"], spaces=[False] * 2)
    assert char_tags(Example(predicted, reference)) == ["B", None, "E"]


def per_token_tags(predicted: Doc, reference: Doc, unknown) -> list:
    """char_tags' rule token by token: None in an unknown stretch or across a word boundary, S for a space."""
    spans = [(w.idx, w.idx + len(w)) for w in reference]
    tags = []
    for token in predicted:
        start, end = token.idx, token.idx + len(token)
        if any(a < end and start < b for a, b in unknown):
            tags.append(None)
        elif token.is_space:
            tags.append("S")
        else:
            word = next(((a, b) for a, b in spans if a <= start < b), None)
            if word is None or end > word[1]:
                tags.append(None)
            else:
                tags.append(("S" if end == word[1] else "B") if start == word[0] else ("E" if end == word[1] else "M"))
    return tags


def test_bmes_tags_equal_a_per_token_reading():
    nlp = spacy.blank("zh")
    rng = random.Random(5)
    for _ in range(200):
        words = [rng.choice(WORDS + [" ", "ab", "　"]) for _ in range(rng.randint(0, 8))]
        text = "".join(words)
        reference = Doc(nlp.vocab, words=words or [], spaces=[False] * len(words))
        cut = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(0, 3)))) if len(text) > 1 else []
        pieces = [text[a:b] for a, b in zip([0] + cut, cut + [len(text)])] if text else []
        predicted = Doc(nlp.vocab, words=pieces, spaces=[False] * len(pieces))  # some tokens straddle words
        unknown = []
        if words and rng.random() < 0.3:
            i = rng.randrange(len(words))
            reference.spans[UNKNOWN_SPANS] = [reference[i : i + 1]]
            unknown = [(reference[i].idx, reference[i].idx + len(reference[i]))]
        assert char_tags(Example(predicted, reference)) == per_token_tags(predicted, reference, unknown), (
            words,
            pieces,
        )


def test_whitespace_never_joins_a_word():
    nlp = spacy.blank("zh")
    doc = nlp("中国 人民\u3000银行")  # the ASCII space is 国's trailing whitespace, U+3000 a token
    one_long_word = ["B"] + ["M"] * (len(doc) - 2) + ["E"]
    starts = word_starts(doc, one_long_word)
    assert [doc[a:b].text for a, b in zip(starts, starts[1:] + [len(doc)])] == ["中国", "人民", "\u3000", "银行"]


def test_long_doc_merges_across_retokenizer_blocks():
    nlp = spacy.blank("zh")
    words = [WORDS[i % len(WORDS)] for i in range(3 * MERGES_PER_BLOCK + 7)]
    doc = nlp.make_doc("".join(words))
    starts, offset = [], 0
    for word in words:
        starts.append(offset)
        offset += len(word)
    merge_words(doc, starts)
    assert [t.text for t in doc] == words
    assert doc.text == "".join(words)


def test_segments_and_keeps_the_text(trained):
    texts = ["中国人民银行的发展很快。", "我们今天学习历史", "", "  ", "中国 人民\u3000银行\n的发展", "\n"]
    docs = list(trained.pipe(texts, batch_size=2))
    assert [doc.text for doc in docs] == texts
    assert [t.text for t in docs[0]] == ["中国", "人民", "银行", "的", "发展", "很", "快", "。"]
    for doc in docs:
        for token in doc:
            assert token.is_space or not any(c.isspace() for c in token.text), token.text
            assert 0.0 < token._.crf_prob <= 1.0
    assert [t.text for t in docs[4] if not t.is_space] == ["中国", "人民", "银行", "的", "发展"]


def test_new_words_doc_equals_merging_in_place(trained):
    texts = [
        "中国人民银行的发展很快。",
        "我们今天学习历史",
        "",
        "  ",
        "中国 人民\u3000银行\n的发展 ",
        "\n",
        "我们  历史",
    ]
    segmenter = trained.get_pipe("crf_segmenter")
    docs = [trained.make_doc(text) for text in texts]
    rebuilt = segmenter.segment(docs, segmenter.predict(docs))
    segmenter.set_annotations(docs, segmenter.predict(docs))  # in place
    assert [[(t.text, t.whitespace_, t._.crf_prob) for t in doc] for doc in rebuilt] == [
        [(t.text, t.whitespace_, t._.crf_prob) for t in doc] for doc in docs
    ]
    assert [doc.text for doc in rebuilt] == texts


def test_doc_data_and_pipe_context_are_kept(trained):
    from spacy.tokens import Doc as DocClass

    if not DocClass.has_extension("source"):
        DocClass.set_extension("source", default=None)
    doc = trained.make_doc("中国人民银行的发展很快。")
    doc._.source = "wire"
    doc.cats = {"news": 1.0}
    out = trained.get_pipe("crf_segmenter")(doc)
    assert out._.source == "wire" and out.cats == {"news": 1.0} and out.text == doc.text
    pairs = list(trained.pipe([("我们今天学习历史", 7), ("中国人民银行", 8)], as_tuples=True))
    assert [context for _, context in pairs] == [7, 8]
    assert [t.text for t in pairs[1][0]] == ["中国", "人民", "银行"]


def test_annotated_doc_is_merged_in_place(trained):
    doc = trained.make_doc("中国人民银行的发展")
    doc[0].tag_ = "X"
    out = trained.get_pipe("crf_segmenter")(doc)
    assert out is doc
    assert [t.text for t in doc] == ["中国", "人民", "银行", "的", "发展"] and doc[0].tag_ == "X"


def test_pipe_with_two_processes_matches_one(trained):
    texts = ["".join(words) for words in sentences(40, seed=3)]
    single = [[t.text for t in doc] for doc in trained.pipe(texts, batch_size=8)]
    double = [[t.text for t in doc] for doc in trained.pipe(texts, batch_size=8, n_process=2)]
    assert single == double
    assert sum(len(words) for words in single) < sum(len(text) for text in texts)


def test_evaluate_scores_words_and_oov(trained, tmp_path):
    words_file = tmp_path / "words.txt"
    words_file.write_text("\n".join(WORDS[:6]) + "\n", encoding="utf8")
    examples = [make_example(trained, words) for words in sentences(30, seed=9)]
    scores = SegmentationScorer(str(words_file))([Example(trained(eg.predicted.text), eg.reference) for eg in examples])
    assert scores["token_f"] > 0.9
    assert set(scores) == {"token_p", "token_r", "token_f", "token_oov_recall", "token_iv_recall"} | {
        "spans_words_p",
        "spans_words_r",
        "spans_words_f",
    }
    assert [scores[f"spans_words_{m}"] for m in "prf"] == [scores[f"token_{m}"] for m in "prf"]
    assert 0.0 <= scores["token_oov_recall"] <= 1.0 and scores["token_iv_recall"] > 0.9
    assert trained.evaluate(examples)["token_f"] == pytest.approx(
        SegmentationScorer(None)([Example(trained(eg.predicted.text), eg.reference) for eg in examples])["token_f"]
    )


def test_softmax_decoder_trains_and_segments():
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": TINY_CHAR_CNN}, "decoder": "softmax"})
    examples = [make_example(nlp, words) for words in sentences(100)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(8):
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], sgd=optimizer)
    doc = nlp("中国人民银行的发展很快。")
    assert doc.text == "中国人民银行的发展很快。"
    assert nlp.evaluate(examples)["token_f"] > 0.8


def test_labels_are_always_bmes():
    nlp = spacy.blank("zh")
    segmenter = nlp.add_pipe("crf_segmenter")
    with pytest.raises(ValueError, match=r"always \['B', 'M', 'E', 'S'\].*\['X'\]"):
        segmenter.initialize(lambda: [make_example(nlp, ["中国"])], nlp=nlp, labels=["X"])


def test_segment_command_keeps_one_line_per_input_line(trained, tmp_path):
    trained.to_disk(tmp_path / "model")
    source = tmp_path / "in.txt"
    source.write_bytes("中国人民银行的发展很快。\r\n\r\n我们今天学习历史\r\n".encode())
    python("-m", "spacy_crf_lr", "segment", str(tmp_path / "model"), str(source), str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text(encoding="utf8").split("\n") == [
        "中国  人民  银行  的  发展  很  快  。",
        "",
        "我们  今天  学习  历史",
        "",
    ]


def test_worker_processes_segment_like_one(trained, tmp_path):
    from spacy_crf_lr.run.parallel import segment_lines

    trained.to_disk(tmp_path / "model")
    lines = ["".join(words) for words in sentences(50, seed=4)] + ["", "  中国 人民"]
    one = list(segment_lines(str(tmp_path / "model"), lines, batch_size=8))
    two = list(segment_lines(str(tmp_path / "model"), lines, batch_size=8, n_process=2))
    assert one == two and len(two) == len(lines)
    assert ["".join(words) for words in one] == [line.replace(" ", "") for line in lines]
    # a pipeline that exists only in memory: the workers inherit it, nothing is loaded from disk
    assert list(segment_lines(trained, lines, batch_size=8, n_process=2)) == one
    assert list(segment_lines(tmp_path / "model", lines, batch_size=8, n_process=2)) == one  # a Path: loaded here
    with pytest.raises(ValueError, match="n_process must be a whole number >= 1, got 0"):
        list(segment_lines(str(tmp_path / "model"), lines, n_process=0))


@pytest.mark.parametrize("decoder", ["crf", "softmax"])
def test_without_probabilities_the_words_are_the_same(trained, decoder):
    segmenter = trained.get_pipe("crf_segmenter")
    texts = ["中国人民银行的发展很快。", "我们今天学习历史", ""]
    try:
        segmenter.cfg["decoder"] = decoder
        with_probs = [[(t.text, t._.crf_prob) for t in doc] for doc in trained.pipe(texts)]
        segmenter.cfg["probabilities"] = False
        without = [[(t.text, t._.crf_prob) for t in doc] for doc in trained.pipe(texts)]
    finally:
        segmenter.cfg.update(decoder="crf", probabilities=True)
    assert [[w for w, _ in doc] for doc in without] == [[w for w, _ in doc] for doc in with_probs]
    assert all(p is None for doc in without for _, p in doc)
    assert all(0.0 < p <= 1.0 for doc in with_probs for _, p in doc)


def test_segment_command_refuses_several_processes_on_a_gpu(tmp_path, capsys):
    from spacy_crf_lr.cli import main

    source = tmp_path / "in.txt"
    source.write_text("中国\n", encoding="utf8")
    assert main(["segment", "MODEL", str(source), str(tmp_path / "out.txt"), "--n-process", "2", "--gpu-id", "0"]) == 2
    assert "--n-process 2 runs on the CPU" in capsys.readouterr().err
