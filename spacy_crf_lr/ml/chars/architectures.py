"""The registered character-feature architectures: spacy_crf_lr.CharEmbed.v1, v2 and v3 (docs → vectors)."""

from typing import Dict, List, Union

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Maxout, Model, add, chain, concatenate, with_array
from thinc.types import Floats2d, Ints2d

from .key_embed import KeyEmbed
from .layers import CharFeatures, LexiconFeatures

# CharEmbed.v2 settings measured on dev and not kept (docs/benchmarks.md), with the value that turned them off:
# configs saved by 0.2.0 name them at that value, so it is still accepted; any other is refused.
REMOVED_V2_SETTINGS: Dict[str, Union[bool, int, float]] = {
    "embed_dropout": False,
    "bigram_min_count": 0,
    "bigram_dropout": 0.0,
    "leave_one_out": False,
    "trigram_rows": 0,
}


@registry.architectures("spacy_crf_lr.CharEmbed.v1")
def CharEmbed(
    width: int, rows: int = 10000, bigram_rows: int = 100000, bigrams: bool = True, mix: bool = True
) -> Model[List[Doc], List[Floats2d]]:
    """Hash embeddings of the character features, concatenated and mixed by a Maxout layer to
    `width` (mix = true), or summed (mix = false: cheaper, the encoder does the mixing)."""
    row_counts = [rows, 64, bigram_rows, bigram_rows][: 4 if bigrams else 2]
    return _embed(CharFeatures(bigrams), row_counts, width, mix)


@registry.architectures("spacy_crf_lr.CharEmbed.v2")
def CharEmbedV2(
    width: int,
    rows: int = 10000,
    bigram_rows: int = 100000,
    bigrams: bool = True,
    mix: bool = False,
    dictionary_length: int = 0,
    unseen_dropout: float = 0.0,
    dictionary_dropout: float = 0.0,
    embed_dropout: bool = False,
    bigram_min_count: int = 0,
    bigram_dropout: float = 0.0,
    leave_one_out: bool = False,
    trigram_rows: int = 0,
) -> Model[List[Doc], List[Floats2d]]:
    """CharEmbed.v1's embeddings with two more things learned from the training data: characters never seen
    in training embedded by their script (with `unseen_dropout` to learn those rows), and, if
    dictionary_length ≥ 2, which training words of 2 .. dictionary_length characters start and end at each
    character (the dictionary features of feature-based segmenters such as pkuseg; `dictionary_dropout`: the
    share of them hidden from each training batch). embed_dropout, bigram_min_count, bigram_dropout,
    leave_one_out and trigram_rows were removed in 0.3.0: they are accepted only at their off values, which
    configs saved by 0.2.0 name."""
    removed = {
        "embed_dropout": embed_dropout,
        "bigram_min_count": bigram_min_count,
        "bigram_dropout": bigram_dropout,
        "leave_one_out": leave_one_out,
        "trigram_rows": trigram_rows,
    }
    for setting, value in removed.items():
        off = REMOVED_V2_SETTINGS[setting]
        if value != off:
            raise ValueError(
                f"CharEmbed.v2: {setting} was removed in 0.3.0 (the last release that had it: 0.2.0); "
                f"it may only be {off!r} (off), got {value!r}. Remove the setting from the config."
            )
    _check_lexicon_settings("CharEmbed.v2", dictionary_length, 16, unseen_dropout, dictionary_dropout)
    row_counts = [rows, 256] + ([bigram_rows, bigram_rows] if bigrams else [])
    if dictionary_length:
        row_counts += [4 << (dictionary_length - 1)] * 2  # bit masks of dictionary_length - 1 bits
    features = LexiconFeatures(bigrams, dictionary_length, unseen_dropout, dictionary_dropout)
    return _embed(features, row_counts, width, mix)


@registry.architectures("spacy_crf_lr.CharEmbed.v3")
def CharEmbedV3(
    width: int,
    rows: int = 10000,
    bigram_rows: int = 100000,
    bigrams: bool = True,
    dictionary_length: int = 0,
    unseen_dropout: float = 0.0,
    dictionary_dropout: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """CharEmbed.v2's features summed from one table (KeyEmbed): one gather a batch and 14 rows a character
    instead of 24, as the script takes one hashed row and the dictionary one row of its joint start / end
    masks (so dictionary_length is at most 7: 4^6 rows)."""
    _check_lexicon_settings("CharEmbed.v3", dictionary_length, 7, unseen_dropout, dictionary_dropout)
    tables = [(rows, 4), (1024, 1)] + ([(bigram_rows, 4)] * 2 if bigrams else [])
    if dictionary_length:
        tables.append((1 << (2 * (dictionary_length - 1)), 0))
    features = LexiconFeatures(bigrams, dictionary_length, unseen_dropout, dictionary_dropout, joint_dictionary=True)
    return _per_doc(features, KeyEmbed(width, tables), width)


def _check_lexicon_settings(
    name: str, dictionary_length: int, max_length: int, unseen_dropout: float, dictionary_dropout: float
) -> None:
    """Raise naming the architecture and the bad setting."""
    if dictionary_length == 1 or dictionary_length > max_length:
        raise ValueError(f"{name}: dictionary_length must be 0 (off) or 2 .. {max_length}, got {dictionary_length}")
    for setting, value in {"unseen_dropout": unseen_dropout, "dictionary_dropout": dictionary_dropout}.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name}: {setting} must be in [0, 1), got {value}")


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
    return _per_doc(features, embed, width)


def _per_doc(
    features: Model[List[Doc], List[Ints2d]], embed: Model[Ints2d, Floats2d], width: int
) -> Model[List[Doc], List[Floats2d]]:
    """features → embed applied to each doc's keys, of output width `width`."""
    # thinc types with_array as same-type in and out; this one maps keys to vectors
    model: Model[List[Doc], List[Floats2d]] = chain(features, with_array(embed))  # type: ignore[misc]
    model.set_dim("nO", width)
    return model
