"""What crf_segmenter keeps: entities, span groups and per-component label probabilities stay on their
characters, and no word starts inside an extended grapheme cluster."""

import pytest
import spacy
from conftest import assert_windows_segment_as_whole
from spacy.tokens import Doc
from spacy.training import Example
from test_segmenter import trained  # noqa: F401  (the module's trained segmenter fixture)

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.cws.words import MERGES_PER_BLOCK, char_tags, cluster_continuations, word_starts
from spacy_crf_lr.pipeline.probs import crf_prob

CLUSTERS = ["e\u0301", "👨\u200d👩\u200d👧", "❤\ufe0f", "👍🏽", "🇨🇳", "🇯🇵", "각"]


def annotated(nlp, text_words, ents, groups):
    """A character doc of the joined words with entities and span groups given as word index ranges."""
    doc = nlp.make_doc("".join(text_words))
    offsets = [sum(len(w) for w in text_words[:i]) for i in range(len(text_words) + 1)]
    doc.ents = [doc.char_span(offsets[a], offsets[b], label=label) for a, b, label in ents]
    for key, spans in groups.items():
        doc.spans[key] = [doc.char_span(offsets[a], offsets[b], label=label) for a, b, label in spans]
    return doc


@pytest.mark.parametrize("tagged", [False, True])
def test_entities_and_span_groups_stay_on_their_characters(trained, tagged):  # noqa: F811
    words = ["中国", "人民", "银行", "的", "发展", "很", "快", "。"] * (MERGES_PER_BLOCK // 2)
    n = len(words)
    ents = [(0, 3, "ORG"), (n - 8, n - 5, "ORG"), (n - 4, n - 3, "X")]
    groups = {"sc": [(4, 5, "A"), (n - 8, n - 6, "B"), (0, 3, "C")], "other": [(n - 1, n, "P")]}
    doc = annotated(trained, words, ents, groups)
    if tagged:
        doc[0].tag_ = "X"  # a token annotation: merged in place
    expected_ents = [(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents]
    expected_groups = {k: [(s.start_char, s.end_char, s.label_, s.text) for s in g] for k, g in doc.spans.items()}
    out = trained.get_pipe("crf_segmenter")(doc)
    assert (out is doc) == tagged
    assert [t.text for t in out] == words
    assert [(e.start_char, e.end_char, e.label_, e.text) for e in out.ents] == expected_ents
    assert {k: [(s.start_char, s.end_char, s.label_, s.text) for s in g] for k, g in out.spans.items()} == (
        expected_groups
    )
    assert [t.ent_iob_ for t in out[:4]] == ["B", "I", "I", "O"]


def test_a_span_edge_inside_a_word_is_refused(trained):  # noqa: F811
    doc = trained.make_doc("中国人民银行的发展")
    doc.spans["sc"] = [doc.char_span(1, 3, label="CUT")]  # 国人: inside 中国 and 人民
    with pytest.raises(ValueError, match=r"'国人' \(characters 1-3, label 'CUT'\) of doc.spans\['sc'\]"):
        trained.get_pipe("crf_segmenter")(doc)
    assert [t.text for t in doc] == list("中国人民银行的发展")  # left as it was


def test_crf_prob_follows_the_characters_when_tokens_are_merged_or_split(trained):  # noqa: F811
    doc = trained("中国人民银行的发展很快。")
    before = {(t.idx, t.text): t._.crf_prob for t in doc}
    assert all(0.0 < p <= 1.0 for p in before.values())
    with doc.retokenize() as retokenizer:
        retokenizer.merge(doc[0:2])  # 中国人民
    with doc.retokenize() as retokenizer:
        retokenizer.split(doc[1], ["银", "行"], heads=[(doc[1], 1), doc[0]])
    assert doc[0].text == "中国人民" and doc[0]._.crf_prob is None  # no value for characters it did not label
    assert doc[1]._.crf_prob is None and doc[2]._.crf_prob is None
    assert {(t.idx, t.text): t._.crf_prob for t in doc[3:]} == {k: v for k, v in before.items() if k[0] >= 6}


def test_each_crf_component_keeps_its_own_probabilities(trained):  # noqa: F811
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", source=trained)
    tagger = nlp.add_pipe("crf_tagger")
    segmented = [nlp.get_pipe("crf_segmenter")(nlp.make_doc(t)) for t in ["中国人民银行", "我们今天学习历史"]]
    examples = [Example.from_dict(doc, {"tags": ["N" if len(t) > 1 else "V" for t in doc]}) for doc in segmented]
    tagger.initialize(lambda: examples, nlp=nlp)
    doc = nlp("中国人民银行的发展")
    for token in doc:
        probs = token._.crf_probs
        assert list(probs) == ["crf_segmenter", "crf_tagger"]
        assert token._.crf_prob == probs["crf_tagger"] == crf_prob(token, "crf_tagger")
        assert crf_prob(token, "crf_segmenter") == probs["crf_segmenter"] and probs["crf_segmenter"] > 0
    alone = trained("中国人民银行的发展")
    assert [t._.crf_prob for t in alone] == [t._.crf_probs["crf_segmenter"] for t in doc]
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert [t._.crf_probs for t in restored] == [t._.crf_probs for t in doc]


def test_no_word_starts_inside_a_grapheme_cluster():
    nlp = spacy.blank("zh")
    text = "中" + "".join(CLUSTERS) + "国 x\u0301"
    doc = nlp.make_doc(text)
    starts = word_starts(doc, ["S"] * len(doc))
    words = [doc[a:b].text for a, b in zip(starts, starts[1:] + [len(doc)])]
    assert words == ["中", *CLUSTERS, "国", "x\u0301"]
    assert cluster_continuations("中国。abc").size == 0


def test_gold_word_boundaries_inside_a_cluster_are_dropped_from_the_tags():
    nlp = spacy.blank("zh")
    example = make_example(nlp, ["中国", "e", "\u0301", "👍", "🏽人"])
    assert char_tags(example) == ["B", "E", "B", "E", "B", "M", "E"]


def test_segmenter_output_keeps_clusters_whole(trained):  # noqa: F811
    text = "中国人民" + "".join(CLUSTERS) + "银行e\u0301的发展"
    doc = trained(text)
    assert doc.text == text
    inside = set(cluster_continuations(text).tolist())
    assert not any(token.idx in inside for token in doc)


def test_a_long_doc_in_windows_is_segmented_as_a_whole(trained, monkeypatch):  # noqa: F811
    from spacy_crf_lr.pipeline.windows import context_width

    segmenter = trained.get_pipe("crf_segmenter")
    assert context_width(segmenter.model) == 3  # bigram features ±1, two window-1 CNN layers
    text = "".join(["中国人民银行的发展很快。", "我们今天学习历史 ", "\n"][i % 3] for i in range(400))
    assert_windows_segment_as_whole(trained, text, monkeypatch)


def test_unknown_layers_are_never_cut_into_windows():
    from thinc.api import Linear, Model, chain

    from spacy_crf_lr.pipeline.windows import context_width

    assert context_width(chain(Model("lstm", lambda model, X, is_train: (X, None)), Linear())) is None
