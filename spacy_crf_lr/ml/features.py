"""Character features for segmentation: normalised character, its Unicode class,
and the character bigrams to its left and right, embedded by hashing."""

import unicodedata
from functools import lru_cache
from typing import Callable, List, Tuple, cast

import numpy
from spacy.attrs import ORTH
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Maxout, Model, add, chain, concatenate, with_array
from thinc.types import Floats2d, Ints2d

BOUNDARY = numpy.uint64(0x9E3779B97F4A7C15)  # key of the position before / after a doc
_MIX = numpy.uint64(0x100000001B3)
CHAR_KEY_CACHE_SIZE = 1 << 16  # distinct token texts whose keys are kept; more are recomputed, never stored


@lru_cache(maxsize=CHAR_KEY_CACHE_SIZE)
def char_keys(text: str) -> Tuple[int, int]:
    """(norm, class) keys of a token: NFKC + lower-case text, so that full-width
    "１９９８" and ASCII "1998" look alike, and the Unicode category of its first character."""
    norm = unicodedata.normalize("NFKC", text).lower()
    category = unicodedata.category(norm[0]) if norm else "Zs"
    return hash_string(norm), hash_string(category)


def hash_string(text: str) -> int:
    """A 64-bit FNV-1a hash: stable across processes, unlike hash()."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf8"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def CharFeatures(bigrams: bool) -> Model[List[Doc], List[Ints2d]]:
    """Docs → per token uint64 keys [norm, class(, left bigram, right bigram)]."""
    return Model("char_features", _features_forward, attrs={"bigrams": bigrams})


def _features_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Ints2d], Callable]:
    output = []
    for doc in docs:
        orths = doc.to_array([ORTH]).reshape(-1)
        unique, inverse = numpy.unique(orths, return_inverse=True)
        strings = doc.vocab.strings
        keys = numpy.array([char_keys(strings[orth]) for orth in unique.tolist()], "uint64").reshape(-1, 2)
        keys = keys[inverse.reshape(-1)]
        columns = [keys[:, 0], keys[:, 1]]
        if model.attrs["bigrams"]:
            norms = keys[:, 0]
            before = numpy.concatenate([[BOUNDARY], norms[:-1]]).astype("uint64")
            after = numpy.concatenate([norms[1:], [BOUNDARY]]).astype("uint64")
            columns += [before * _MIX ^ norms, norms * _MIX ^ after]
        keys_2d = cast(Ints2d, numpy.stack(columns, axis=1).astype("uint64"))
        output.append(model.ops.asarray2i(keys_2d, dtype="uint64"))
    return output, lambda d_output: []


@registry.architectures("spacy_crf_lr.CharEmbed.v1")
def CharEmbed(
    width: int, rows: int = 10000, bigram_rows: int = 100000, bigrams: bool = True, mix: bool = True
) -> Model[List[Doc], List[Floats2d]]:
    """Hash embeddings of the character features, concatenated and mixed by a Maxout layer to
    `width` (mix = true), or summed (mix = false: cheaper, the encoder does the mixing)."""
    n_columns = 4 if bigrams else 2
    row_counts = [rows, 64, bigram_rows, bigram_rows][:n_columns]
    tables: List[Model[Ints2d, Floats2d]] = [
        HashEmbed(width, n_rows, column=i, seed=7 + i) for i, n_rows in enumerate(row_counts)
    ]
    embed: Model[Ints2d, Floats2d]
    if mix:
        embed = chain(concatenate(*tables), Maxout(width, width * n_columns, nP=3, normalize=True, dropout=0.0))
    else:
        embed = add(*tables)
    model: Model[List[Doc], List[Floats2d]] = chain(
        CharFeatures(bigrams),
        # thinc types with_array as same-type in and out; this one maps keys to vectors
        with_array(embed),  # type: ignore[misc]
    )
    model.set_dim("nO", width)
    return model
