"""Training on partial labels: crf_tagger with untagged tokens, crf_segmenter with {{unknown}} stretches."""

import random

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from test_crf_tagger import TINY_CNN, train
from test_segmenter import TINY_CHAR_CNN
from thinc.api import fix_random_seed

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.cws.partial import UNKNOWN_SPANS, parse_unknown
from spacy_crf_lr.cws.sighan import split_words
from spacy_crf_lr.cws.words import char_tags

TAGS = ("A", "B", "C", "D")  # the toy grammar: tags cycle A → B → C → D → A ...


def lexicon(n_per_tag: int = 30, seed: int = 0):
    """Opaque random words, each with one tag."""
    rng = random.Random(seed)
    letters = "bcdfghjklmnpqrstvwxz"
    words = {}
    while len(words) < n_per_tag * len(TAGS):
        word = "".join(rng.choice(letters) for _ in range(6))
        words.setdefault(word, TAGS[len(words) % len(TAGS)])
    return words


def cyclic_sentences(words, n: int, seed: int):
    by_tag = {tag: sorted(w for w, t in words.items() if t == tag) for tag in TAGS}
    rng = random.Random(seed)
    for _ in range(n):
        first = rng.randrange(len(TAGS))
        tags = [TAGS[(first + i) % len(TAGS)] for i in range(rng.randint(4, 8))]
        yield [rng.choice(by_tag[tag]) for tag in tags], tags


def example(nlp, words, tags):
    reference = Doc(nlp.vocab, words=words)
    for token, tag in zip(reference, tags):
        if tag is not None:
            token.tag_ = tag
    return Example(nlp.make_doc(" ".join(words)), reference)


def word_accuracy(nlp, words) -> float:
    """Tag accuracy on each vocabulary word alone: what the model learned about the words themselves."""
    return float(numpy.mean([nlp(word)[0].tag_ == tag for word, tag in words.items()]))


def trained_tagger(examples, seed=0):
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    fix_random_seed(seed)
    for tag in TAGS:
        nlp.get_pipe("crf_tagger").add_label(tag)
    return train(nlp, examples, 40)


def test_half_masked_tags_beat_the_fully_tagged_half():
    words = lexicon()
    sentences = list(cyclic_sentences(words, 60, seed=1))
    rng = random.Random(2)
    nlp = spacy.blank("en")
    masked = [example(nlp, w, [t if rng.random() < 0.5 else None for t in tags]) for w, tags in sentences]
    half = [example(nlp, w, tags) for w, tags in sentences[:30]]
    n_masked = sum(tag is not None for eg in masked for tag in [t.tag_ or None for t in eg.reference])
    n_half = sum(len(eg.reference) for eg in half)
    assert abs(n_masked - n_half) < 0.15 * n_half  # about as many known tags in both
    seen = {w: t for w, _ in sentences for w, t in zip(w, [words[x] for x in w])}
    accuracy_masked = word_accuracy(trained_tagger(masked), seen)
    accuracy_half = word_accuracy(trained_tagger(half), seen)
    # measured: 0.966 against 0.889 (the half sees fewer words; the masked tags are filled in by the chain)
    assert accuracy_masked >= accuracy_half + 0.05, (accuracy_masked, accuracy_half)


def test_partially_tagged_doc_has_a_marginal_likelihood_loss():
    words = lexicon()
    sentences = list(cyclic_sentences(words, 20, seed=3))
    nlp = spacy.blank("en")
    full = [example(nlp, w, tags) for w, tags in sentences]
    train_nlp = trained_tagger(full[:10])
    tagger = train_nlp.get_pipe("crf_tagger")
    w, tags = sentences[0]
    partial = example(train_nlp, w, [tags[0]] + [None] * (len(tags) - 1))
    complete = example(train_nlp, w, tags)
    none = example(train_nlp, w, [None] * len(tags))
    losses = []
    for eg in (partial, complete, none):
        scores = tagger.model.predict([eg.predicted])
        loss, d_scores = tagger.get_loss([eg], scores)
        losses.append(loss)
    assert 0.0 < losses[0] < losses[1]  # summing over the agreeing paths: more likely than one path
    assert losses[2] == 0.0


def test_nbest_tags_of_the_tagger():
    words = lexicon()
    sentences = list(cyclic_sentences(words, 40, seed=4))
    nlp = trained_tagger([example(spacy.blank("en"), w, t) for w, t in sentences])
    tagger = nlp.get_pipe("crf_tagger")
    doc = nlp.make_doc(" ".join(sentences[0][0]))
    best = tagger.nbest(doc, 4)
    assert best[0][0] == [t.tag_ for t in nlp(doc.text)]
    assert len(best) == 4 and len({tuple(tags) for tags, _ in best}) == 4
    assert [lp for _, lp in best] == sorted((lp for _, lp in best), reverse=True)
    assert sum(numpy.exp(lp) for _, lp in tagger.nbest(nlp.make_doc("x"), 10)) == pytest.approx(1.0, abs=1e-4)
    assert tagger.nbest(doc, 1) == best[:1]


# ----- crf_segmenter: partially segmented training text -----


def test_unknown_stretch_markers():
    assert parse_unknown(split_words("我们  {{今天天气很好}}  。")) == (["我们", "今天天气很好", "。"], [1])
    for bad in ("{{今天", "今天}}", "{{}}", "a{{b}}"):
        with pytest.raises(ValueError, match="unknown-segmentation marker"):
            parse_unknown([bad])


def test_unknown_stretch_has_no_gold_tags():
    nlp = spacy.blank("zh")
    eg = make_example(nlp, split_words("我们  {{今天天气}}  很好"))
    assert eg.predicted.text == "我们今天天气很好"
    assert [s.text for s in eg.reference.spans[UNKNOWN_SPANS]] == ["今天天气"]
    assert char_tags(eg) == ["B", "E", None, None, None, None, "B", "E"]


def test_segmenter_trains_on_partially_segmented_lines():
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": TINY_CHAR_CNN}})
    rng = random.Random(0)
    vocab = ["中国", "人民", "银行", "的", "发展", "很", "快", "。", "我们", "今天", "学习", "历史"]
    lines = []
    for _ in range(120):
        words = [rng.choice(vocab) for _ in range(rng.randint(4, 10))]
        i = rng.randrange(len(words) - 2)  # an unknown stretch of three words
        lines.append(words[:i] + ["{{" + "".join(words[i : i + 3]) + "}}"] + words[i + 3 :])
    examples = [make_example(nlp, words) for words in lines]
    assert all(None in char_tags(eg) for eg in examples)  # every doc is partial: skipped before
    optimizer = nlp.initialize(lambda: examples)
    for _epoch in range(10):
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], sgd=optimizer)
    assert [t.text for t in nlp("中国人民银行的发展很快。")] == ["中国", "人民", "银行", "的", "发展", "很", "快", "。"]
