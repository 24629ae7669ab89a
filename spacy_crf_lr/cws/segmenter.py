"""The `crf_segmenter` component: Chinese word segmentation as BMES tagging of characters."""

import warnings
from pathlib import Path
from typing import (
    Callable,
    Collection,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Optional,
    Sequence,
    Tuple,
    Union,
    get_args,
)

import numpy
import srsly
from pydantic import StrictBool
from spacy.attrs import ORTH, SPACY
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch
from thinc.api import Config, Model

from ..ml.chars.fitting import add_lexicon_words, check_lexicon, fit_char_features
from ..pipeline.base import AllowedTags, CRFDevice, CRFPipe, Predictions, check_setting
from ..pipeline.decoders import Decoder
from ..pipeline.probs import set_probs
from ..pipeline.serialization import Part
from .dictionary import UserDictionary, bmes_mask, read_user_words
from .sighan import read_word_list
from .spans import clear_spans, restore_spans, save_spans
from .words import (
    BMES,
    Words,
    char_tags,
    doc_words,
    is_plain,
    merge_words,
    words_doc,
)

# The documented default recipe: the model of configs/cnn_crf.cfg (tests/test_configs.py checks they agree).
DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy_crf_lr.CRFTagger.v1"
nO = null
init_transitions = "zeros"

[model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[model.tok2vec.embed]
@architectures = "spacy_crf_lr.CharEmbed.v2"
width = 64
rows = 10000
bigram_rows = 300000
bigrams = true
mix = false
dictionary_length = 4
unseen_dropout = 0.02
dictionary_dropout = 0.1

[model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 64
depth = 1
window_size = 1
maxout_pieces = 3
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]


UserWordsMode = Literal["force", "features", "both"]


@Language.factory(
    "crf_segmenter",
    assigns=["token.text", "token._.crf_prob"],
    default_config={
        "model": DEFAULT_MODEL,
        "scheme": "BMES",
        "decoder": "crf",
        "crf_device": "cpu",
        "probabilities": True,
        "user_words_mode": "force",
        "scorer": {"@scorers": "spacy_crf_lr.segmentation_scorer.v1"},
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
    user_words_mode: UserWordsMode = "force",
    user_words: Optional[Union[str, Path]] = None,
) -> "CRFSegmenter":
    """Word segmenter for character-tokenized docs (spacy.blank("zh"), segmenter "char").
    scheme: BMES (constrained) or null (unconstrained); decoder: crf or softmax;
    crf_device: cpu (decoding and loss on the CPU) or model (on the model's device);
    probabilities: compute token._.crf_prob (the CRF's forward–backward at prediction);
    user_words_mode: force (each match is one word), features (the words join the model's dictionary
    features: the model weighs them; needs CharEmbed.v2 or v3 with dictionary_length ≥ 2) or both.
    The user dictionary and training word list files are initialize settings (see CRFSegmenter.initialize);
    user_words here is their place before 0.3.0, still read at initialize (with a DeprecationWarning)."""
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
        user_words_mode=user_words_mode,
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
        user_words_mode="force",
    ):
        check_setting("user_words_mode", user_words_mode, get_args(UserWordsMode))
        self.factory_user_words = user_words  # before 0.3.0 the user dictionary file was a factory setting
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
        self.cfg["user_words_mode"] = user_words_mode
        if user_words_mode != "force":
            check_lexicon(model, "user_words_mode " + repr(user_words_mode))
        # The scorer's training word list, read at initialize and saved with the model (file `words`),
        # so that OOV/IV recall need no file outside the model.
        self.known_words: Optional[frozenset] = None

    def gold_tags(self, example: Example) -> List[Optional[str]]:
        return char_tags(example)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
        user_words: Optional[Union[str, Path]] = None,
        words: Optional[Union[str, Path]] = None,
    ) -> None:
        """Initialize with the BMES labels (other labels are refused). The settings of
        [initialize.components.NAME]: user_words, a user dictionary file (one word a line) whose words join the
        user dictionary; words, the training word list (one word a line) for the scorer's OOV/IV recall. Both
        files are read here and their words saved with the component, so the saved config names no file."""
        if labels is not None and tuple(labels) != BMES:
            raise ValueError(f"crf_segmenter labels are always {list(BMES)}, got {list(labels)}.")
        user_words = self._init_file("user_words", user_words, self.factory_user_words, f"[components.{self.name}]")
        scorer_words = getattr(self.scorer, "words_path", None)
        words = self._init_file("words", words, scorer_words, f"[components.{self.name}.scorer]")
        if words is not None and not Path(words).is_file():
            raise ValueError(f"The training word list (words) {str(words)!r} does not exist.")
        new_user_words = read_user_words(user_words) if user_words is not None else []
        super().initialize(get_examples, nlp=nlp, labels=BMES)
        if words is not None:
            self.known_words = frozenset(read_word_list(words))
        self.add_words(new_user_words)

    def _init_file(
        self, setting: str, value: Optional[Union[str, Path]], old_value: Optional[Union[str, Path]], old_place: str
    ) -> Optional[Union[str, Path]]:
        """The file of initialize setting `setting`, or that of its place before 0.3.0 (with a DeprecationWarning)."""
        if not old_value:
            return value
        new_place = f"[initialize.components.{self.name}] {setting}"
        if value is not None:
            raise ValueError(
                f"{setting} is set twice: {value!r} in {new_place} and {old_value!r} in {old_place}; "
                f"set it only in {new_place}."
            )
        warnings.warn(
            f"{setting} in {old_place} is deprecated since 0.3.0: set {new_place} instead (read at initialize "
            "only, so the saved config names no file).",
            DeprecationWarning,
            stacklevel=3,
        )
        return old_value

    def _fit_to_training(self, examples: Iterator[Example]) -> None:
        """Tell the CharEmbed.v2/v3 features the characters and words of the reference tokens."""
        fit_char_features(self.model, (token.text for eg in examples for token in eg.reference))

    def score(self, examples: Iterable[Example], **kwargs) -> Dict:
        """The scorer's scores, with the word list kept in the model (if any) for OOV/IV recall."""
        return super().score(examples, **{"known_words": self.known_words, **kwargs})

    def _parts(self) -> Dict[str, Part]:
        """cfg and model, the training word list `words` (msgpack list) when the model keeps one, and the
        user dictionary `user_words` (msgpack list; absent in models saved before user dictionaries)."""
        words = None if self.known_words is None else sorted(self.known_words)
        return {
            **super()._parts(),
            "words": (lambda: srsly.msgpack_dumps(words), self._read_words),
            "user_words": (lambda: srsly.msgpack_dumps(self.user_words), self._read_user_words),
        }

    def _read_words(self, data: bytes) -> None:
        words: Optional[Collection[str]] = srsly.msgpack_loads(data)
        self.known_words = None if words is None else frozenset(words)

    def _read_user_words(self, data: bytes) -> None:
        self.dictionary = self._new_dictionary()
        self.add_words(srsly.msgpack_loads(data))

    # ----- user dictionary -----

    def _new_dictionary(self, words: Iterable[str] = ()) -> UserDictionary:
        """A user dictionary whose trie holds the ORTH ids of the characters (see `word_matches`)."""
        return UserDictionary(words, key=lambda char: self.vocab.strings[char])

    def add_words(self, words: Iterable[str]) -> int:
        """Add words to the user dictionary (user_words_mode force: each occurrence in the input then comes
        out as one word; features: the model's dictionary features see them); return how many were new. The
        words are saved with the component."""
        words = list(words)
        added = self.dictionary.add(words)
        if self.cfg.get("user_words_mode", "force") != "force":
            add_lexicon_words(self.model, words)
        return added

    @property
    def user_words(self) -> List[str]:
        """The user dictionary's words, sorted."""
        return self.dictionary.words

    def allowed_tags(self, docs: Sequence[Doc]) -> Optional[AllowedTags]:
        """Per doc, the BMES tags that make each user-dictionary match (leftmost-longest) one word."""
        if not len(self.dictionary) or self.cfg.get("user_words_mode", "force") == "features":
            return None
        spans: List[Tuple[int, int]] = []
        offsets, matched = [0], []
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
        spans: List[Tuple[int, int]] = []
        start = 0
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
        return [(doc_words([doc], [labels[ids]])[0].word_texts(), log_prob) for ids, log_prob in self.nbest_ids(doc, k)]

    def words_and_probs(
        self, docs: Sequence[Doc], predictions: Predictions
    ) -> Iterator[Tuple[Words, Optional[numpy.ndarray]]]:
        """Per doc: its text and words, and each word's probability (None when the probabilities were not computed):
        the lowest of its characters'."""
        labels = numpy.array(self.labels)
        tag_ids, probs = predictions
        for words, doc_probs in zip(doc_words(docs, [labels[ids] for ids in tag_ids]), probs):
            word_probs = None
            if doc_probs is not None:
                word_probs = numpy.minimum.reduceat(doc_probs, words.starts) if len(words.starts) else doc_probs[:0]
            yield words, word_probs

    def set_annotations(self, docs: Iterable[Doc], predictions: Predictions) -> None:
        """Merge each doc's characters into words in place (spaCy's retokenizer)."""
        docs = list(docs)
        for doc, (words, probs) in zip(docs, self.words_and_probs(docs, predictions)):
            self._segment_one(doc, words, probs, in_place=True)

    def segment(self, docs: Sequence[Doc], predictions: Predictions) -> List[Doc]:
        """The docs segmented into words: a new Doc of the words for a plain doc (much faster than
        the retokenizer, above all on GPU), the doc merged in place if it carries token annotations.
        Entities and span groups stay on their characters (a span with an edge inside a word is refused)."""
        return [
            self._segment_one(doc, words, probs, in_place=False)
            for doc, (words, probs) in zip(docs, self.words_and_probs(docs, predictions))
        ]

    def _segment_one(self, doc: Doc, words: Words, probs: Optional[numpy.ndarray], in_place: bool) -> Doc:
        """doc made `words`, in place or as a new Doc when allowed; spans and probabilities kept."""
        saved = save_spans(doc, words.begins, words.ends) if len(doc) else None
        if not in_place and len(doc) and is_plain(doc, spans=False):
            doc = words_doc(doc, words)
        else:
            clear_spans(doc)
            merge_words(doc, words.starts)
        restore_spans(doc, saved)
        set_probs(doc, self.name, probs, (words.begins, words.ends))  # the words are now the doc's tokens
        return doc

    def __call__(self, doc: Doc) -> Optional[Doc]:
        """Segment one doc; the result may be a new Doc object (see `segment`), or None if the
        component's error handler (set_error_handler) let an error pass, as in spaCy's own components."""
        return next(self.pipe([doc], batch_size=1), None)

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Segment a stream of docs in batches; the results may be new Doc objects (see `segment`)."""
        error_handler = self.get_error_handler()
        for docs in minibatch(stream, size=batch_size):
            try:
                yield from self.segment(docs, self.predict(docs))
            except Exception as error:
                error_handler(self.name, self, docs, error)
