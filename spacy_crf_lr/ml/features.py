"""Character features for segmentation: normalised character, its Unicode class, the character bigrams to its
left and right and (v2) the training words around it, embedded by hashing."""

from typing import Callable, Iterable, List, Tuple, cast

import numpy
from spacy.attrs import ORTH
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Maxout, Model, add, chain, concatenate, with_array
from thinc.types import Floats2d, Ints2d

from .keys import BOUNDARY, CHAR_KEY_CACHE_SIZE, MIX, char_keys, hash_string
from .lexicon import EMPTY_KEYS, contains, learn_lexicon, match_masks

__all__ = ["CHAR_KEY_CACHE_SIZE", "CharEmbed", "CharEmbedV2", "char_keys", "fit_char_features", "hash_string"]
UNSEEN = numpy.uint64(hash_string("<unseen>"))


def CharFeatures(bigrams: bool) -> Model[List[Doc], List[Ints2d]]:
    """Docs → per token uint64 keys [norm, class(, left bigram, right bigram)]."""
    return Model("char_features", _features_forward, attrs={"bigrams": bigrams})


def _features_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Ints2d], Callable]:
    output = []
    for doc in docs:
        keys = _token_keys(doc)
        columns = [keys[:, 0], keys[:, 1]]
        if model.attrs["bigrams"]:
            norms = keys[:, 0]
            before = numpy.concatenate([[BOUNDARY], norms[:-1]]).astype("uint64")
            after = numpy.concatenate([norms[1:], [BOUNDARY]]).astype("uint64")
            columns += [before * MIX ^ norms, norms * MIX ^ after]
        keys_2d = cast(Ints2d, numpy.stack(columns, axis=1).astype("uint64"))
        output.append(model.ops.asarray2i(keys_2d, dtype="uint64"))
    return output, lambda d_output: []


@registry.architectures("spacy_crf_lr.CharEmbed.v1")
def CharEmbed(
    width: int, rows: int = 10000, bigram_rows: int = 100000, bigrams: bool = True, mix: bool = True
) -> Model[List[Doc], List[Floats2d]]:
    """Hash embeddings of the character features, concatenated and mixed by a Maxout layer to
    `width` (mix = true), or summed (mix = false: cheaper, the encoder does the mixing)."""
    row_counts = [rows, 64, bigram_rows, bigram_rows][: 4 if bigrams else 2]
    return _embed(CharFeatures(bigrams), row_counts, width, mix)


def LexiconFeatures(bigrams: bool, dictionary_length: int, unseen_dropout: float) -> Model[List[Doc], List[Ints2d]]:
    """Docs → per token uint64 keys [norm, script(, left bigram, right bigram)(, dictionary starts, dictionary
    ends)]. A character not seen in training (attr "known_chars", set by fit_char_features) is keyed by its
    script alone, in the bigrams too; in training a share `unseen_dropout` of the characters is treated as
    unseen, so that those keys are learned. The dictionary columns are bit masks of the lengths (2 ..
    dictionary_length) of the training words (attr "words") that start / end at the token."""
    return Model(
        "lexicon_features",
        _lexicon_forward,
        attrs={
            "bigrams": bigrams,
            "dictionary_length": dictionary_length,
            "unseen_dropout": unseen_dropout,
            "known_chars": EMPTY_KEYS,
            "words": EMPTY_KEYS,
        },
    )


def _token_keys(doc: Doc) -> numpy.ndarray:
    """(n_tokens, 3) char_keys of each token of doc."""
    orths = doc.to_array([ORTH]).reshape(-1)
    unique, inverse = numpy.unique(orths, return_inverse=True)
    strings = doc.vocab.strings
    keys = numpy.array([char_keys(strings[orth]) for orth in unique.tolist()], "uint64").reshape(-1, 3)
    return keys[inverse.reshape(-1)]


def _lexicon_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Ints2d], Callable]:
    known, words = model.attrs["known_chars"], model.attrs["words"]
    dropout = model.attrs["unseen_dropout"] if is_train else 0.0
    output = []
    for doc in docs:
        keys = _token_keys(doc)
        norms, scripts = keys[:, 0], keys[:, 2]
        unseen = ~contains(known, norms) if len(known) else numpy.zeros((len(doc),), dtype=bool)
        if dropout:
            unseen |= numpy.random.random_sample(len(doc)) < dropout
        features = numpy.where(unseen, scripts ^ UNSEEN, norms)
        columns = [features, scripts]
        if model.attrs["bigrams"]:
            before = numpy.concatenate([[BOUNDARY], features[:-1]]).astype("uint64")
            after = numpy.concatenate([features[1:], [BOUNDARY]]).astype("uint64")
            columns += [before * MIX ^ features, features * MIX ^ after]
        if model.attrs["dictionary_length"] >= 2:
            columns += list(match_masks(norms, words, model.attrs["dictionary_length"]))
        keys_2d = cast(Ints2d, numpy.stack(columns, axis=1).astype("uint64"))
        output.append(model.ops.asarray2i(keys_2d, dtype="uint64"))
    return output, lambda d_output: []


def fit_char_features(model: Model, words: Iterable[str], *, min_count: int = 2) -> bool:
    """Tell each lexicon_features layer in model the characters and words of the training data (`words`: the
    reference tokens' texts; dictionary words need min_count occurrences). Returns False if model has none."""
    layers = [node for node in model.walk() if node.name == "lexicon_features"]
    if not layers:
        return False
    word_list = list(words)
    for layer in layers:
        chars, word_keys = learn_lexicon(word_list, min_count=min_count, max_length=layer.attrs["dictionary_length"])
        layer.attrs["known_chars"] = chars
        layer.attrs["words"] = word_keys
    return True


@registry.architectures("spacy_crf_lr.CharEmbed.v2")
def CharEmbedV2(
    width: int,
    rows: int = 10000,
    bigram_rows: int = 100000,
    bigrams: bool = True,
    mix: bool = False,
    dictionary_length: int = 0,
    unseen_dropout: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """CharEmbed.v1's embeddings with two more things learned from the training data: characters never seen
    in training embedded by their script (with `unseen_dropout` to learn those rows), and, if
    dictionary_length ≥ 2, which training words of 2 .. dictionary_length characters start and end at each
    character (the dictionary features of feature-based segmenters such as pkuseg)."""
    if dictionary_length == 1 or dictionary_length > 16:
        raise ValueError(f"CharEmbed.v2: dictionary_length must be 0 (off) or 2 .. 16, got {dictionary_length}")
    if not 0.0 <= unseen_dropout < 1.0:
        raise ValueError(f"CharEmbed.v2: unseen_dropout must be in [0, 1), got {unseen_dropout}")
    row_counts = [rows, 256] + ([bigram_rows, bigram_rows] if bigrams else [])
    if dictionary_length:
        row_counts += [4 << (dictionary_length - 1)] * 2  # bit masks of dictionary_length - 1 bits
    return _embed(LexiconFeatures(bigrams, dictionary_length, unseen_dropout), row_counts, width, mix)


def _embed(features: Model[List[Doc], List[Ints2d]], row_counts: List[int], width: int, mix: bool):
    """features → one hash embedding table per key column, concatenated and mixed or summed."""
    tables: List[Model[Ints2d, Floats2d]] = [
        HashEmbed(width, n_rows, column=i, seed=7 + i) for i, n_rows in enumerate(row_counts)
    ]
    embed: Model[Ints2d, Floats2d]
    if mix:
        embed = chain(concatenate(*tables), Maxout(width, width * len(tables), nP=3, normalize=True, dropout=0.0))
    else:
        embed = add(*tables)
    # thinc types with_array as same-type in and out; this one maps keys to vectors
    model: Model[List[Doc], List[Floats2d]] = chain(features, with_array(embed))  # type: ignore[misc]
    model.set_dim("nO", width)
    return model
