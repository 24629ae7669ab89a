"""The `crf_segmenter` component: Chinese word segmentation as BMES tagging of characters."""

from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Literal, Optional, Sequence, Tuple, Union

import numpy
import srsly
from pydantic import StrictBool
from spacy.attrs import ORTH, SPACY
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch
from thinc.api import Config, Model

from ..cws.dictionary import UserDictionary, bmes_mask, read_user_words
from ..cws.words import BMES, char_tags, is_plain, merge_words, word_starts, word_texts, words_doc
from .base import PROBS_KEY, AllowedTags, CRFDevice, CRFPipe, Decoder, Predictions

USER_WORDS_FILE = "user_words.json"  # in the component's directory: the dictionary saved with the model

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


@Language.factory(
    "crf_segmenter",
    assigns=["token.text", "token._.crf_prob"],
    default_config={
        "model": DEFAULT_MODEL,
        "scheme": "BMES",
        "decoder": "crf",
        "crf_device": "cpu",
        "probabilities": True,
        "user_words": None,
        "scorer": {"@scorers": "spacy_crf_lr.segmentation_scorer.v1", "words": None},
    },
    default_score_weights={"token_f": 1.0, "token_p": 0.0, "token_r": 0.0},
)
def make_crf_segmenter(
    nlp: Language,
    name: str,
    model: Model,
    scheme: Optional[Literal["BMES"]],
    decoder: Decoder,
    crf_device: CRFDevice,
    probabilities: StrictBool,
    scorer: Optional[Callable],
    user_words: Optional[Union[str, Path]] = None,
) -> "CRFSegmenter":
    """Word segmenter for character-tokenized docs (spacy.blank("zh"), segmenter "char").
    scheme: BMES (constrained) or null (unconstrained); decoder: crf or softmax;
    crf_device: cpu (decoding and loss on the CPU) or model (on the model's device);
    probabilities: compute token._.crf_prob (the CRF's forward–backward at prediction);
    user_words: user dictionary file (one word a line) read at initialize, or null."""
    return CRFSegmenter(
        nlp.vocab,
        model,
        name,
        scheme=scheme,
        decoder=decoder,
        crf_device=crf_device,
        probabilities=probabilities,
        scorer=scorer,
        user_words=user_words,
    )


class CRFSegmenter(CRFPipe):
    """Tags characters B/M/E/S and merges them into words. Each word's
    `token._.crf_prob` is the lowest probability of its characters' tags."""

    def __init__(
        self,
        vocab,
        model,
        name="crf_segmenter",
        *,
        scheme="BMES",
        decoder="crf",
        crf_device="cpu",
        probabilities=True,
        scorer=None,
        user_words=None,
    ):
        self.user_words_path = None if user_words is None else str(user_words)
        self.dictionary = self._new_dictionary()
        super().__init__(
            vocab,
            model,
            name,
            scheme=scheme,
            decoder=decoder,
            crf_device=crf_device,
            probabilities=probabilities,
            scorer=scorer,
        )

    def gold_tags(self, example: Example) -> List[Optional[str]]:
        return char_tags(example)

    def initialize(self, get_examples, *, nlp=None, labels=None) -> None:
        """Initialize with the BMES labels (other labels are refused) and add the words of the
        `user_words` file, if set, to the user dictionary."""
        if labels is not None and tuple(labels) != BMES:
            raise ValueError(f"crf_segmenter labels are always {list(BMES)}, got {list(labels)}.")
        super().initialize(get_examples, nlp=nlp, labels=BMES)
        if self.user_words_path is not None:
            self.add_words(read_user_words(self.user_words_path))

    # ----- user dictionary -----

    def _new_dictionary(self, words: Iterable[str] = ()) -> UserDictionary:
        """A user dictionary whose trie holds the ORTH ids of the characters (see `word_matches`)."""
        return UserDictionary(words, key=lambda char: self.vocab.strings[char])

    def add_words(self, words: Iterable[str]) -> int:
        """Add words to the user dictionary (each occurrence in the input then comes out as one word);
        return how many were new. The words are saved with the component."""
        return self.dictionary.add(words)

    @property
    def user_words(self) -> List[str]:
        """The user dictionary's words, sorted."""
        return self.dictionary.words

    def allowed_tags(self, docs: Sequence[Doc]) -> Optional[AllowedTags]:
        """Per doc, the BMES tags that make each user-dictionary match (leftmost-longest) one word."""
        if not len(self.dictionary):
            return None
        spans, offsets, matched = [], [0], []
        for doc in docs:  # one mask for the batch's tokens end to end: numpy calls per batch, not per doc
            doc_spans = self.word_matches(doc)
            spans.extend((offsets[-1] + a, offsets[-1] + b) for a, b in doc_spans)
            matched.append(bool(doc_spans))
            offsets.append(offsets[-1] + len(doc))
        mask = bmes_mask(offsets[-1], spans, self.labels)
        return [mask[a:b] if hit else None for a, b, hit in zip(offsets, offsets[1:], matched)]

    def word_matches(self, doc: Doc) -> List[Tuple[int, int]]:
        """Token spans (start, end) of the user-dictionary words in doc, leftmost-longest. The trie walks
        the tokens' ORTH ids (cheap to read, unlike doc.text) and no match runs past whitespace."""
        if not len(doc):
            return []
        orth, trailing = doc.to_array([ORTH, SPACY]).reshape(-1, 2).T
        symbols = orth.tolist()
        if not trailing.any():
            return self.dictionary.find(symbols)
        spans, start = [], 0
        for stop in [*(numpy.flatnonzero(trailing) + 1).tolist(), len(doc)]:  # runs between spaces
            if stop > start:
                spans.extend((start + a, start + b) for a, b in self.dictionary.find(symbols[start:stop]))
            start = stop
        return spans

    # ----- n-best -----

    def nbest(self, doc: Doc, k: int) -> List[Tuple[List[str], float]]:
        """The k best segmentations of a character-tokenized doc (nlp.make_doc(text)), best first, as
        (words, log-probability); k = 1 gives the words of the normal output (with the user dictionary)."""
        labels = numpy.array(self.labels)
        return [
            (word_texts(doc, word_starts(doc, labels[ids]))[0], log_prob) for ids, log_prob in self.nbest_ids(doc, k)
        ]

    # ----- serialization: the user dictionary travels with the model -----

    def to_bytes(self, *, exclude=tuple()):
        msg = srsly.msgpack_loads(super().to_bytes(exclude=exclude))
        if "user_words" not in exclude:
            msg["user_words"] = self.user_words
        return srsly.msgpack_dumps(msg)

    def from_bytes(self, bytes_data, *, exclude=tuple()):
        super().from_bytes(bytes_data, exclude=exclude)
        if "user_words" not in exclude:
            self.dictionary = self._new_dictionary(srsly.msgpack_loads(bytes_data).get("user_words", []))
        return self

    def to_disk(self, path, *, exclude=tuple()):
        super().to_disk(path, exclude=exclude)
        if "user_words" not in exclude:
            srsly.write_json(Path(path) / USER_WORDS_FILE, self.user_words)

    def from_disk(self, path, *, exclude=tuple()):
        super().from_disk(path, exclude=exclude)
        if "user_words" not in exclude:
            words_path = Path(path) / USER_WORDS_FILE  # absent in models saved before user dictionaries
            self.dictionary = self._new_dictionary(srsly.read_json(words_path) if words_path.is_file() else [])
        return self

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
