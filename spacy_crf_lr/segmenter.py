"""The `crf_segmenter` component: Chinese word segmentation as BMES tagging of characters."""

from bisect import bisect_right
from functools import lru_cache
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import numpy
from spacy.attrs import IS_SPACE, SPACY
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry
from thinc.api import Config, Model

from .bakeoff import score_lines
from .pipe import PROBS_KEY, CRFPipe, Predictions
from .sighan import read_word_list

BMES = ("B", "M", "E", "S")
WORD_STARTS = frozenset("BS")  # a word starts at B or S ...
WORD_ENDS = frozenset("ES")  # ... and after E or S

DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy_crf_lr.CRFTagger.v1"

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 128
depth = 4
embed_size = 5000
window_size = 1
maxout_pieces = 3
subword_features = false
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]


def char_tags(example: Example) -> List[Optional[str]]:
    """BMES tag of each token of example.predicted from the reference words, by
    character offsets; None for a token that straddles a word boundary."""
    words = example.reference
    starts = [t.idx for t in words]
    tags: List[Optional[str]] = []
    for token in example.predicted:
        start, end = token.idx, token.idx + len(token)
        w = bisect_right(starts, start) - 1
        if w < 0 or end > words[w].idx + len(words[w]) or token.is_space:
            tags.append("S" if token.is_space else None)
            continue
        word_start, word_end = words[w].idx, words[w].idx + len(words[w])
        tags.append(
            ("S" if end == word_end else "B") if start == word_start else ("E" if end == word_end else "M")
        )
    return tags


def word_starts(doc: Doc, tags: Sequence[str]) -> List[int]:
    """Indices of the tokens that start a word. Whitespace never joins a word:
    a space token stands alone, and no word runs past a token's trailing space."""
    if not len(doc):
        return []
    flags = doc.to_array([IS_SPACE, SPACY]).astype(bool)
    apart = flags[:, 0] | flags[:, 1]  # a space token, or a token followed by a space
    tags = numpy.asarray(tags)
    starts = numpy.isin(tags, list(WORD_STARTS))
    starts[1:] |= flags[1:, 0] | apart[:-1] | numpy.isin(tags[:-1], list(WORD_ENDS))
    starts[0] = True
    return numpy.flatnonzero(starts).tolist()


@lru_cache(maxsize=4)
def _load_words(path: str) -> frozenset:
    return frozenset(read_word_list(path))


def make_segmentation_score(words: Optional[str]) -> Callable:
    """Scorer for token_p/r/f (word spans) and, with a training word list, OOV and IV recall."""

    def score(examples: Iterable[Example], **kwargs) -> Dict[str, Optional[float]]:
        vocab = _load_words(words) if words else None
        result = score_lines(
            [[t.text for t in eg.reference] for eg in examples],
            [[t.text for t in eg.predicted] for eg in examples],
            vocab,
        )
        scores = {"token_p": result.precision, "token_r": result.recall, "token_f": result.f}
        if vocab is not None:
            scores.update(token_oov_recall=result.oov_recall, token_iv_recall=result.iv_recall)
        return scores

    return score


@registry.scorers("spacy_crf_lr.segmentation_scorer.v1")
def make_segmentation_scorer(words: Optional[str] = None) -> Callable:
    """token_p/r/f as the bakeoff counts them; OOV/IV recall when `words` names a word list."""
    return make_segmentation_score(words)


@Language.factory(
    "crf_segmenter",
    assigns=["token.text", "token._.crf_prob"],
    default_config={
        "model": DEFAULT_MODEL,
        "scheme": "BMES",
        "decoder": "crf",
        "scorer": {"@scorers": "spacy_crf_lr.segmentation_scorer.v1", "words": None},
    },
    default_score_weights={"token_f": 1.0, "token_p": 0.0, "token_r": 0.0},
)
def make_crf_segmenter(
    nlp: Language, name: str, model: Model, scheme: Optional[str], decoder: str, scorer: Optional[Callable]
) -> "CRFSegmenter":
    """Word segmenter for character-tokenized docs (spacy.blank("zh"), segmenter "char").
    scheme: BMES (constrained) or null (unconstrained); decoder: crf or softmax."""
    return CRFSegmenter(nlp.vocab, model, name, scheme=scheme, decoder=decoder, scorer=scorer)


class CRFSegmenter(CRFPipe):
    """Tags characters B/M/E/S and merges them into words. Each word's
    `token._.crf_prob` is the lowest probability of its characters' tags."""

    def __init__(self, vocab, model, name="crf_segmenter", *, scheme="BMES", decoder="crf", scorer=None):
        super().__init__(vocab, model, name, scheme=scheme, decoder=decoder, scorer=scorer)

    def gold_tags(self, example: Example) -> List[Optional[str]]:
        return char_tags(example)

    def initialize(self, get_examples, *, nlp=None, labels=None) -> None:
        """Initialize with the BMES labels (other labels are refused)."""
        if labels is not None and tuple(labels) != BMES:
            raise ValueError(f"crf_segmenter labels are always {list(BMES)}, got {list(labels)}.")
        super().initialize(get_examples, nlp=nlp, labels=BMES)

    def set_annotations(self, docs: Iterable[Doc], predictions: Predictions) -> None:
        labels = numpy.array(self.labels)
        for doc, tag_ids, probs in zip(docs, *predictions):
            starts = word_starts(doc, labels[tag_ids])
            doc.user_data[PROBS_KEY] = numpy.minimum.reduceat(probs, starts).tolist() if starts else []
            with doc.retokenize() as retokenizer:
                for start, end in zip(starts, starts[1:] + [len(doc)]):
                    if end - start > 1:
                        retokenizer.merge(doc[start:end])
