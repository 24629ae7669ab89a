"""The key-producing feature layers: docs → per token uint64 keys of the normalised character, its Unicode class,
the character bigrams to its left and right and (lexicon_features) the training words around it."""

from typing import Callable, List, Tuple, cast

import numpy
from spacy.attrs import ORTH
from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Ints2d

from .keys import BOUNDARY, MIX, char_keys, hash_string
from .lexicon import EMPTY_KEYS, contains, match_masks

UNSEEN = numpy.uint64(hash_string("<unseen>"))


def CharFeatures(bigrams: bool) -> Model[List[Doc], List[Ints2d]]:
    """Docs → per token uint64 keys [norm, class(, left bigram, right bigram)]."""
    return Model("char_features", _features_forward, attrs={"bigrams": bigrams})


def _features_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Ints2d], Callable]:
    keys, starts, ends = _batch_keys(docs)
    columns = [keys[:, 0], keys[:, 1]]
    if model.attrs["bigrams"]:
        columns += _bigrams(keys[:, 0], starts, ends)
    return _split(model, columns, starts), lambda d_output: []


def LexiconFeatures(
    bigrams: bool,
    dictionary_length: int,
    unseen_dropout: float,
    dictionary_dropout: float = 0.0,
    joint_dictionary: bool = False,
) -> Model[List[Doc], List[Ints2d]]:
    """Docs → per token uint64 keys [norm, script(, left bigram, right bigram)(, dictionary starts, dictionary
    ends)]. A character not seen in training (attr "known_chars", set by fitting.fit_char_features) is keyed by
    its script alone, in the bigrams too; in training a share `unseen_dropout` of the characters is treated as
    unseen, so that those keys are learned. The dictionary columns are bit masks of the lengths
    (2 .. dictionary_length) of the training words (attr "words") that start / end at the token; in training each
    batch hides a share `dictionary_dropout` of the words, so that the model also learns words it has no entry
    for. joint_dictionary: one column, starts | ends << (dictionary_length - 1), instead of two."""
    return Model(
        "lexicon_features",
        _lexicon_forward,
        attrs={
            "bigrams": bigrams,
            "dictionary_length": dictionary_length,
            "unseen_dropout": unseen_dropout,
            "dictionary_dropout": dictionary_dropout,
            "joint_dictionary": joint_dictionary,
            "known_chars": EMPTY_KEYS,
            "words": EMPTY_KEYS,
        },
    )


def _lexicon_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Ints2d], Callable]:
    known, words = model.attrs["known_chars"], model.attrs["words"]
    keys, starts, lasts = _batch_keys(docs)
    norms, scripts = keys[:, 0], keys[:, 2]
    unseen = ~contains(known, norms) if len(known) else numpy.zeros(norms.shape, dtype=bool)
    if is_train and model.attrs["unseen_dropout"]:
        unseen |= numpy.random.random_sample(len(norms)) < model.attrs["unseen_dropout"]
    features = numpy.where(unseen, scripts ^ UNSEEN, norms)
    columns = [features, scripts]
    if model.attrs["bigrams"]:
        columns += _bigrams(features, starts, lasts)
    length = model.attrs["dictionary_length"]
    if length >= 2:
        if is_train and model.attrs["dictionary_dropout"]:
            words = words[numpy.random.random_sample(len(words)) >= model.attrs["dictionary_dropout"]]
        doc_ids = numpy.repeat(numpy.arange(len(docs)), lasts - starts + 1)
        word_starts, word_ends = match_masks(norms, words, length, doc_ids)
        if model.attrs["joint_dictionary"]:
            columns.append(word_starts | (word_ends << numpy.uint64(length - 1)))
        else:
            columns += [word_starts, word_ends]
    return _split(model, columns, starts), lambda d_output: []


def lexicon_layers(model: Model) -> List[Model]:
    """The lexicon_features layers of model."""
    return [node for node in model.walk() if node.name == "lexicon_features"]


def dictionary_layers(model: Model) -> List[Model]:
    """The lexicon_features layers of model that have dictionary features."""
    return [layer for layer in lexicon_layers(model) if layer.attrs["dictionary_length"] >= 2]


def _batch_keys(docs: List[Doc]) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """char_keys of every token of the batch, (n_tokens, 3), and each doc's first and last token index."""
    lengths = numpy.array([len(doc) for doc in docs], dtype="int64")
    ends = numpy.cumsum(lengths)
    orths = numpy.concatenate([doc.to_array(ORTH).reshape(-1) for doc in docs] + [numpy.zeros((0,), "uint64")])
    unique, inverse = numpy.unique(orths, return_inverse=True)
    strings = docs[0].vocab.strings if docs else None
    keys = numpy.array([char_keys(strings[orth]) for orth in unique.tolist()], "uint64").reshape(-1, 3)
    return keys[inverse.reshape(-1)], ends - lengths, ends - 1


def _bigrams(norms: numpy.ndarray, starts: numpy.ndarray, lasts: numpy.ndarray) -> List[numpy.ndarray]:
    """Keys of the bigram to the left and to the right of each token (BOUNDARY beyond a doc's edges)."""
    before = numpy.roll(norms, 1)
    after = numpy.roll(norms, -1)
    before[starts[starts < len(norms)]] = BOUNDARY
    after[lasts[lasts >= 0]] = BOUNDARY
    return [before * MIX ^ norms, norms * MIX ^ after]


def _split(model: Model, columns: List[numpy.ndarray], starts: numpy.ndarray) -> List[Ints2d]:
    """The batch's key columns as one (n_tokens, n_columns) array per doc."""
    if not len(starts):
        return []
    keys_2d = numpy.stack(columns, axis=1).astype("uint64")
    return [model.ops.asarray2i(cast(Ints2d, part), dtype="uint64") for part in numpy.split(keys_2d, starts[1:])]
