"""The `crf_segmenter` component: Chinese word segmentation as BMES tagging of characters."""

from bisect import bisect_right
from functools import lru_cache
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import IDX, IS_SPACE, SPACY
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch, registry
from thinc.api import Config, Model

from .bakeoff import score_lines
from .pipe import PROBS_KEY, CRFPipe, Predictions
from .sighan import read_word_list

BMES = ("B", "M", "E", "S")
WORD_STARTS = frozenset("BS")  # a word starts at B or S ...
WORD_ENDS = frozenset("ES")  # ... and after E or S
MERGES_PER_BLOCK = 256
# Token annotations that a new Doc of the words would lose: docs carrying any are merged in place.
TOKEN_ANNOTATIONS = ("TAG", "POS", "MORPH", "LEMMA", "DEP", "ENT_IOB", "SENT_START")

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


def merge_words(doc: Doc, starts: Sequence[int]) -> None:
    """Merge the tokens of each word (`starts`: index of each word's first token) in place.
    Spans go to the retokenizer in blocks, last block first so that earlier indices stay
    valid: Retokenizer.merge compares each span with a list of the block's earlier ones, so one
    block for a whole long doc would cost time quadratic in its length."""
    spans = [(start, end) for start, end in zip(starts, list(starts[1:]) + [len(doc)]) if end - start > 1]
    for block_end in range(len(spans), 0, -MERGES_PER_BLOCK):
        with doc.retokenize() as retokenizer:
            for start, end in spans[max(0, block_end - MERGES_PER_BLOCK) : block_end]:
                retokenizer.merge(doc[start:end])


def is_plain(doc: Doc) -> bool:
    """True if the doc holds tokens and doc-level data only: no token annotations, spans or tensor."""
    return not doc.spans and not doc.tensor.size and not any(doc.has_annotation(a) for a in TOKEN_ANNOTATIONS)


def words_doc(doc: Doc, starts: Sequence[int]) -> Doc:
    """A new Doc whose tokens are the words of `doc` (`starts`: index of each word's first token),
    with the same text and doc-level data: user_data (extension values, which are keyed by
    character offset), cats, user hooks and the context of nlp.pipe(as_tuples=True)."""
    text = doc.text
    offsets, trailing = doc.to_array([IDX, SPACY]).astype("int64").T
    starts = numpy.asarray(starts, dtype="int64")
    last = numpy.append(starts[1:], len(doc)) - 1  # each word's last token
    ends = numpy.append(offsets[starts[1:]], len(text)) - trailing[last]
    words = [text[a:b] for a, b in zip(offsets[starts].tolist(), ends.tolist())]
    new = Doc(doc.vocab, words=words, spaces=trailing[last].astype(bool).tolist(), user_data=dict(doc.user_data))
    new.cats = dict(doc.cats)
    new.user_hooks.update(doc.user_hooks)
    new.user_token_hooks.update(doc.user_token_hooks)
    new.user_span_hooks.update(doc.user_span_hooks)
    new._context = doc._context
    return new


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
        "crf_device": "cpu",
        "probabilities": True,
        "scorer": {"@scorers": "spacy_crf_lr.segmentation_scorer.v1", "words": None},
    },
    default_score_weights={"token_f": 1.0, "token_p": 0.0, "token_r": 0.0},
)
def make_crf_segmenter(
    nlp: Language,
    name: str,
    model: Model,
    scheme: Optional[str],
    decoder: str,
    crf_device: str,
    probabilities: bool,
    scorer: Optional[Callable],
) -> "CRFSegmenter":
    """Word segmenter for character-tokenized docs (spacy.blank("zh"), segmenter "char").
    scheme: BMES (constrained) or null (unconstrained); decoder: crf or softmax;
    crf_device: cpu (decoding and loss on the CPU) or model (on the model's device);
    probabilities: compute token._.crf_prob (the CRF's forward–backward at prediction)."""
    return CRFSegmenter(
        nlp.vocab, model, name, scheme=scheme, decoder=decoder, crf_device=crf_device, probabilities=probabilities,
        scorer=scorer,
    )


class CRFSegmenter(CRFPipe):
    """Tags characters B/M/E/S and merges them into words. Each word's
    `token._.crf_prob` is the lowest probability of its characters' tags."""

    def __init__(
        self, vocab, model, name="crf_segmenter", *, scheme="BMES", decoder="crf", crf_device="cpu", probabilities=True,
        scorer=None,
    ):
        super().__init__(
            vocab, model, name, scheme=scheme, decoder=decoder, crf_device=crf_device, probabilities=probabilities,
            scorer=scorer,
        )

    def gold_tags(self, example: Example) -> List[Optional[str]]:
        return char_tags(example)

    def initialize(self, get_examples, *, nlp=None, labels=None) -> None:
        """Initialize with the BMES labels (other labels are refused)."""
        if labels is not None and tuple(labels) != BMES:
            raise ValueError(f"crf_segmenter labels are always {list(BMES)}, got {list(labels)}.")
        super().initialize(get_examples, nlp=nlp, labels=BMES)

    def word_starts_and_probs(
        self, docs: Sequence[Doc], predictions: Predictions
    ) -> Iterator[Tuple[List[int], Optional[list]]]:
        """Per doc: the index of each word's first character token, and each word's probability
        (None when the probabilities were not computed)."""
        labels = numpy.array(self.labels)
        for doc, tag_ids, probs in zip(docs, *predictions):
            starts = word_starts(doc, labels[tag_ids])
            if probs is not None:
                probs = numpy.minimum.reduceat(probs, starts).tolist() if starts else []
            yield starts, probs

    def set_annotations(self, docs: Iterable[Doc], predictions: Predictions) -> None:
        """Merge each doc's characters into words in place (spaCy's retokenizer)."""
        docs = list(docs)
        for doc, (starts, probs) in zip(docs, self.word_starts_and_probs(docs, predictions)):
            doc.user_data[PROBS_KEY] = probs
            merge_words(doc, starts)

    def segment(self, docs: Sequence[Doc], predictions: Predictions) -> List[Doc]:
        """The docs segmented into words: a new Doc of the words for a plain doc (much faster than
        the retokenizer, above all on GPU), the doc merged in place if it carries token annotations."""
        segmented = []
        for doc, (starts, probs) in zip(docs, self.word_starts_and_probs(docs, predictions)):
            if len(doc) and is_plain(doc):
                doc = words_doc(doc, starts)
            else:
                merge_words(doc, starts)
            doc.user_data[PROBS_KEY] = probs
            segmented.append(doc)
        return segmented

    def __call__(self, doc: Doc) -> Doc:
        """Segment one doc; the result may be a new Doc object (see `segment`)."""
        return next(self.pipe([doc], batch_size=1), None)

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Segment a stream of docs in batches; the results may be new Doc objects (see `segment`)."""
        error_handler = self.get_error_handler()
        for docs in minibatch(stream, size=batch_size):
            try:
                yield from self.segment(docs, self.predict(docs))
            except Exception as error:
                error_handler(self.name, self, docs, error)
