"""The store behind token._.crf_prob: one user_data entry per component (one per token cost ~250 bytes a word
on long docs), the values the segmenter computes, kept through Doc.to_bytes and DocBin."""

import pytest
import spacy
from conftest import TOY_WORDS
from spacy.tokens import Doc, DocBin

from spacy_crf_lr.pipeline.probs import PROB_KEY

TEXTS = ["".join(TOY_WORDS) * 3, "我们今天学习历史，中国人民银行的发展很快。", "的"]


@pytest.fixture(scope="module")
def nlp(tiny_segmenter):
    return spacy.load(tiny_segmenter)


def predicted_words(nlp, texts):
    """Per text, (word, probability) from the segmenter's own predictions for the batch: a word starts at B or S
    or after E or S (the texts hold no whitespace), and its probability is the lowest of its characters'."""
    segmenter = nlp.get_pipe("crf_segmenter")
    out = []
    for text, tag_ids, probs in zip(texts, *segmenter.predict([nlp.make_doc(text) for text in texts])):
        tags = [segmenter.labels[i] for i in tag_ids.tolist()]
        starts = [i for i in range(len(tags)) if i == 0 or tags[i] in "BS" or tags[i - 1] in "ES"]
        bounds = list(zip(starts, starts[1:] + [len(tags)]))
        out.append([(text[a:b], float(min(probs[a:b].tolist()))) for a, b in bounds])
    return out


def test_words_and_probabilities_are_those_of_the_predictions(nlp):
    expected = predicted_words(nlp, TEXTS)  # one batch, as nlp.pipe's (the floats depend on the batch's shape)
    assert [[(t.text, t._.crf_prob) for t in doc] for doc in nlp.pipe(TEXTS)] == expected
    assert [(t.text, t._.crf_prob) for t in nlp(TEXTS[0])] == predicted_words(nlp, TEXTS[:1])[0]
    assert len(expected[0]) > 10 and all(0.0 < p <= 1.0 for words in expected for _, p in words)


def test_a_component_keeps_one_user_data_entry_not_one_per_token(nlp):
    doc = nlp(TEXTS[0])
    keys = [key for key in doc.user_data if isinstance(key, tuple) and key[0] == PROB_KEY]
    assert keys == [(PROB_KEY, "crf_segmenter")]
    starts, ends, probs = doc.user_data[keys[0]]
    assert starts.tolist() == [t.idx for t in doc] and ends.tolist() == [t.idx + len(t) for t in doc]
    assert starts.base is None and probs.base is None  # own arrays: no view keeps a batch's array alive


def test_probabilities_survive_to_bytes_and_docbin_and_follow_later_merges(nlp):
    doc = nlp(TEXTS[1])
    probs = [(t.text, t._.crf_prob, t._.crf_probs) for t in doc]
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert [(t.text, t._.crf_prob, t._.crf_probs) for t in restored] == probs
    docbin = DocBin(store_user_data=True, docs=[doc, nlp(TEXTS[2])])
    (from_bin, single) = DocBin().from_bytes(docbin.to_bytes()).get_docs(nlp.vocab)
    assert [(t.text, t._.crf_prob, t._.crf_probs) for t in from_bin] == probs
    assert [t._.crf_prob for t in single] == [t._.crf_prob for t in nlp(TEXTS[2])]
    with restored.retokenize() as retokenizer:
        retokenizer.merge(restored[0:2])
    assert restored[0]._.crf_prob is None  # other characters than the component labelled
    assert [t._.crf_prob for t in restored[1:]] == [p for _, p, _ in probs[2:]]
