"""The `crf_tagger` component: learning, CRF-ness, serialization, bad input."""

import random

import numpy
import pytest
import spacy
from conftest import python
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import registry

TINY_CNN = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "pretrained_vectors": None,
    "width": 32,
    "depth": 1,
    "embed_size": 300,
    "window_size": 1,
    "maxout_pieces": 2,
    "subword_features": False,
}


def alternating(nlp, n_words: int, start: str = "X") -> Example:
    """A run of one repeated word whose tags alternate: only the previous tag tells the next."""
    other = "Y" if start == "X" else "X"
    tags = [start if i % 2 == 0 else other for i in range(n_words)]
    words = ["a"] * n_words
    return Example(nlp.make_doc(" ".join(words)), Doc(nlp.vocab, words=words, tags=tags))


def train(nlp, examples, steps: int, *, learn_rate=0.01, crf_lr=0.1):
    optimizer = registry.resolve(
        {"o": {"@optimizers": "spacy_crf_lr.Adam.v1", "learn_rate": learn_rate, "crf_lr": crf_lr}}
    )["o"]
    nlp.initialize(lambda: examples, sgd=optimizer)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer, losses={})
    return nlp


def token_accuracy(nlp, examples) -> float:
    pairs = [(pred.tag_, gold.tag_) for eg in examples for pred, gold in zip(nlp(eg.reference.text), eg.reference)]
    return sum(p == g for p, g in pairs) / len(pairs)


def test_crf_learns_what_the_window_cannot_see_and_softmax_does_not():
    rng = random.Random(0)
    nlp_crf, nlp_softmax = spacy.blank("en"), spacy.blank("en")
    nlp_crf.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    nlp_softmax.add_pipe("tagger", config={"model": {"tok2vec": TINY_CNN}})
    train_set = [alternating(nlp_crf, rng.randint(10, 30)) for _ in range(40)]
    test_set = [alternating(nlp_crf, rng.randint(30, 60)) for _ in range(10)]
    train(nlp_crf, train_set, 40)
    train(nlp_softmax, train_set, 40, crf_lr=None)
    assert token_accuracy(nlp_crf, test_set) >= 0.99
    assert token_accuracy(nlp_softmax, test_set) < 0.75


def test_labels_probs_and_transitions():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    train(nlp, [alternating(nlp, 12) for _ in range(10)], 30)
    assert tagger.labels == ("X", "Y")
    doc = nlp("a a a a")
    assert [t.tag_ for t in doc] == ["X", "Y", "X", "Y"]
    assert all(0.5 < t._.crf_prob <= 1.0 for t in doc)
    assert tagger.transitions.shape == (2, 2)
    assert isinstance(tagger.transitions, numpy.ndarray)
    # X→Y and Y→X must be the preferred moves (rows = from-label)
    assert tagger.transitions[0, 1] > tagger.transitions[0, 0]
    assert tagger.transitions[1, 0] > tagger.transitions[1, 1]


def test_overwrite_setting():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    train(nlp, [alternating(nlp, n) for n in range(5, 15)], 20)
    predicted = [t.tag_ for t in nlp("a a a")]
    doc = nlp.make_doc("a a a")
    doc[1].tag_ = "KEEP"
    assert [t.tag_ for t in tagger(doc)] == [predicted[0], "KEEP", predicted[2]]
    tagger.cfg["overwrite"] = True
    doc = nlp.make_doc("a a a")
    doc[1].tag_ = "KEEP"
    assert [t.tag_ for t in tagger(doc)] == predicted == ["X", "Y", "X"]


def test_unannotated_docs_are_skipped_in_training():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    annotated = [alternating(nlp, 8) for _ in range(5)]
    train(nlp, annotated, 2)
    bare = Example(nlp.make_doc("a a"), nlp.make_doc("a a"))
    tagger = nlp.get_pipe("crf_tagger")
    scores = tagger.model.predict([bare.predicted])
    loss, d_scores = tagger.get_loss([bare], scores)
    assert loss == 0.0 and not d_scores.emissions.any() and not d_scores.transitions.any()
    losses = nlp.update(annotated + [bare], losses={})
    assert losses["crf_tagger"] > 0


def test_empty_and_whitespace_docs_pass_through():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "scheme": "BIO"})
    examples = [Example(nlp.make_doc("a b c"), Doc(nlp.vocab, words=["a", "b", "c"], tags=["B-X", "I-X", "O"]))]
    train(nlp, examples, 5)
    texts = ["", "   ", "\n\n", "a b c", " a  b\tc \n"]
    docs = list(nlp.pipe(texts, batch_size=2))
    assert [d.text for d in docs] == texts
    assert len(docs[0]) == 0
    assert all(t.tag_ for d in docs for t in d)


def test_unknown_scheme_is_an_error():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="'BIOES'.*'BMES', 'BIO', 'BILUO'"):
        nlp.add_pipe("crf_tagger", config={"scheme": "BIOES"})


def test_labels_outside_the_scheme_are_an_error():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"scheme": "BMES"})
    with pytest.raises(ValueError, match="'Q'.*BMES"):
        tagger.add_label("Q")


def test_gold_tags_breaking_the_scheme_name_doc_and_position():
    nlp = spacy.blank("zh")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "scheme": "BMES"})
    good = Example(nlp.make_doc("一二三"), Doc(nlp.vocab, words=list("一二三"), tags=["B", "E", "S"]))
    bad = Example(nlp.make_doc("四五六"), Doc(nlp.vocab, words=list("四五六"), tags=["B", "S", "S"]))
    tagger.initialize(lambda: [good], nlp=nlp, labels=["B", "M", "E", "S"])
    with pytest.raises(ValueError, match=r"doc 1 .*'四五六'.*BMES.*position 1: 'S' cannot follow 'B'"):
        nlp.update([good, bad])
    starts_inside = Example(nlp.make_doc("七八"), Doc(nlp.vocab, words=["七", "八"], tags=["M", "E"]))
    with pytest.raises(ValueError, match=r"doc 0 .*position 0: a sequence cannot start with 'M'"):
        nlp.update([starts_inside])


def test_unknown_gold_label_is_an_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    train(nlp, [alternating(nlp, 4)], 1)
    odd = Example(nlp.make_doc("a a"), Doc(nlp.vocab, words=["a", "a"], tags=["X", "Z"]))
    with pytest.raises(ValueError, match="'Z'.*known labels are \\['X', 'Y'\\]"):
        nlp.update([odd])


def test_counts_initialisation_prefers_seen_bigrams():
    nlp = spacy.blank("en")
    config = {"model": {"tok2vec": TINY_CNN, "init_transitions": "counts"}}
    tagger = nlp.add_pipe("crf_tagger", config=config)
    examples = [alternating(nlp, 10) for _ in range(5)]
    nlp.initialize(lambda: examples)
    trans = tagger.transitions
    assert trans[0, 1] > trans[0, 0] and trans[1, 0] > trans[1, 1]
    crf = tagger.model.get_ref("crf")
    assert crf.ops.to_numpy(crf.get_param("start")).argmax() == 0  # all sequences start with X


def test_serialization_round_trip_in_a_fresh_process(tmp_path):
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "scheme": "BMES"})
    words = ["中国", "人民", "的", "银行", "了"]
    tags = ["B", "E", "B", "E", "S", "B", "E", "S"]
    text = "".join(words)
    examples = [Example(nlp.make_doc(text), Doc(nlp.vocab, words=list(text), tags=tags))] * 4
    train(nlp, examples, 10)
    probe = "中国的银行人民了的中国"
    expected = [(t.tag_, round(t._.crf_prob, 5)) for t in nlp(probe)]
    nlp.to_disk(tmp_path / "model")
    copy = spacy.blank("zh")
    copy.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "scheme": "BMES"})
    copy.get_pipe("crf_tagger").from_bytes(nlp.get_pipe("crf_tagger").to_bytes())
    assert [(t.tag_, round(t._.crf_prob, 5)) for t in copy(probe)] == expected
    script = (
        "import spacy, sys\n"
        f"nlp = spacy.load({str(tmp_path / 'model')!r})\n"
        "p = nlp.get_pipe('crf_tagger')\n"
        f"print(p.labels, p.cfg['scheme'], [(t.tag_, round(t._.crf_prob, 5)) for t in nlp({probe!r})])\n"
    )
    out = python("-c", script).stdout.strip()
    assert out == f"{nlp.get_pipe('crf_tagger').labels} BMES {expected}"


def test_softmax_decoder_shares_the_head_and_decodes_by_argmax():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "decoder": "softmax"})
    examples = [alternating(nlp, 8) for _ in range(5)]
    train(nlp, examples, 5)
    # the transition scores are never trained by the softmax loss
    assert not tagger.transitions.any()
    scores = tagger.model.predict([nlp.make_doc("a a a")])
    ids, _ = tagger.predict([nlp.make_doc("a a a")])
    assert list(ids[0]) == list(scores.emissions[0].argmax(axis=1))


def test_unknown_decoder_is_an_error():
    with pytest.raises(ValueError, match="'beam'.*'crf', 'softmax'"):
        spacy.blank("en").add_pipe("crf_tagger", config={"decoder": "beam"})


def test_unknown_crf_device_is_an_error():
    with pytest.raises(ValueError, match="'gpu'.*'cpu', 'model'"):
        spacy.blank("en").add_pipe("crf_tagger", config={"crf_device": "gpu"})


def test_crf_device_model_gives_the_same_loss_and_tags():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    examples = [alternating(nlp, 8) for _ in range(5)]
    train(nlp, examples, 3)
    scores = tagger.model.predict([eg.predicted for eg in examples])
    results = {}
    for crf_device in ("cpu", "model"):
        tagger.cfg["crf_device"] = crf_device
        loss, d_scores = tagger.get_loss(examples, scores)
        results[crf_device] = (
            loss,
            d_scores.emissions,
            d_scores.transitions,
            tagger.predict([eg.predicted for eg in examples])[0],
        )
    (loss_cpu, d_em_cpu, d_tr_cpu, tags_cpu), (loss_model, d_em_model, d_tr_model, tags_model) = results.values()
    assert loss_cpu == pytest.approx(loss_model) and loss_cpu > 0
    numpy.testing.assert_allclose(d_em_cpu, d_em_model)
    numpy.testing.assert_allclose(d_tr_cpu, d_tr_model)
    assert all((a == b).all() for a, b in zip(tags_cpu, tags_model))


def test_probabilities_can_be_switched_off():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "probabilities": False})
    examples = [alternating(nlp, 8) for _ in range(5)]
    train(nlp, examples, 3)
    doc = nlp("a a a")
    assert all(token.tag_ for token in doc) and all(token._.crf_prob is None for token in doc)


def test_probabilities_must_be_a_boolean():
    with pytest.raises(ValueError, match="probabilities.*'no'"):
        spacy.blank("en").add_pipe("crf_tagger", config={"probabilities": "no"})


def test_settings_are_checked_when_the_component_is_built_directly():
    from spacy.util import registry as spacy_registry

    from spacy_crf_lr.pipeline.tagger import CRFTagger

    config = {"m": {"@architectures": "spacy_crf_lr.CRFTagger.v1", "tok2vec": TINY_CNN}}
    model = spacy_registry.resolve(config)["m"]
    vocab = spacy.blank("en").vocab
    with pytest.raises(ValueError, match="Unknown probabilities 'no': allowed are True, False"):
        CRFTagger(vocab, model, probabilities="no")
    with pytest.raises(ValueError, match="Unknown decoder 'beam': allowed are 'crf', 'softmax'"):
        CRFTagger(vocab, model, decoder="beam")
    with pytest.raises(ValueError, match="Unknown tag scheme 'BIOES'"):
        CRFTagger(vocab, model, scheme="BIOES")


def test_segmenter_scheme_is_bmes_or_null():
    with pytest.raises(ValueError, match="'BIO'.*'BMES'"):
        spacy.blank("zh").add_pipe("crf_segmenter", config={"scheme": "BIO"})


def test_softmax_decoder_never_moves_the_crf_scores():
    """The softmax loss gives the CRF's scores no gradient: counts-initialised scores stay as they were,
    even under weight decay."""
    nlp = spacy.blank("en")
    config = {"model": {"tok2vec": TINY_CNN, "init_transitions": "counts"}, "decoder": "softmax"}
    tagger = nlp.add_pipe("crf_tagger", config=config)
    examples = [alternating(nlp, 8) for _ in range(5)]
    optimizer = registry.resolve(
        {"o": {"@optimizers": "spacy_crf_lr.Adam.v1", "learn_rate": 0.01, "crf_lr": 0.1, "L2": 0.1}}
    )["o"]
    nlp.initialize(lambda: examples, sgd=optimizer)
    before = tagger.crf_scores()
    assert before[0].any()
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    for old, new in zip(before, tagger.crf_scores()):
        numpy.testing.assert_array_equal(old, new)


def test_labels_cannot_be_added_after_initialize():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    train(nlp, [alternating(nlp, 6)], 1)
    with pytest.raises(ValueError, match="Cannot add label 'Z'.*already initialized with the labels \\['X', 'Y'\\]"):
        tagger.add_label("Z")
    assert tagger.add_label("X") == 0


def test_the_crf_layer_learns_labels_and_scheme_from_the_component_once():
    """The component's cfg is the one home of labels and scheme: the layer gets them at initialize and load."""
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "scheme": "BIO"})
    crf = tagger.model.get_ref("crf")
    tagger.add_label("B-X")
    assert crf.attrs["labels"] == ()  # not yet: the layer is told at initialize
    words, tags = ["a", "b", "c"], ["B-X", "I-X", "O"]
    examples = [Example(nlp.make_doc(" ".join(words)), Doc(nlp.vocab, words=words, tags=tags))]
    nlp.initialize(lambda: examples)
    assert crf.attrs["labels"] == tagger.labels == ("B-X", "I-X", "O") and crf.attrs["scheme"] == "BIO"
    loaded = spacy.blank("en")
    loaded.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}, "scheme": "BIO"})
    loaded.from_bytes(nlp.to_bytes())
    assert loaded.get_pipe("crf_tagger").model.get_ref("crf").attrs["labels"] == ("B-X", "I-X", "O")
