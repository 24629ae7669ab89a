"""Character features for segmentation: normalised character, its Unicode class, the character bigrams to its
left and right and (v2) the training words around it, embedded by hashing."""

from typing import Callable, Iterable, List, Tuple, cast

import numpy
from spacy.attrs import ORTH
from spacy.tokens import Doc
from spacy.util import minibatch, registry
from thinc.api import HashEmbed, Maxout, Model, add, chain, concatenate, with_array
from thinc.types import Floats2d, Ints2d

from .key_embed import KeyEmbed
from .keys import BOUNDARY, CHAR_KEY_CACHE_SIZE, MIX, char_keys, hash_string
from .lexicon import EMPTY_KEYS, contains, dictionary_keys, learn_lexicon, match_masks

__all__ = [
    "CHAR_KEY_CACHE_SIZE",
    "CharEmbed",
    "CharEmbedV2",
    "CharEmbedV3",
    "add_lexicon_words",
    "char_keys",
    "check_lexicon",
    "fit_char_features",
    "hash_string",
]
UNSEEN = numpy.uint64(hash_string("<unseen>"))
UNSEEN_BIGRAM = numpy.uint64(hash_string("<unseen bigram>"))
KEY_BATCH = 2000  # docs keyed at a time when counting the training bigrams


def CharFeatures(bigrams: bool) -> Model[List[Doc], List[Ints2d]]:
    """Docs → per token uint64 keys [norm, class(, left bigram, right bigram)]."""
    return Model("char_features", _features_forward, attrs={"bigrams": bigrams})


def _features_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Ints2d], Callable]:
    keys, starts, ends = _batch_keys(docs)
    columns = [keys[:, 0], keys[:, 1]]
    if model.attrs["bigrams"]:
        columns += _bigrams(keys[:, 0], starts, ends)
    return _split(model, columns, starts), lambda d_output: []


def _batch_keys(docs: List[Doc]) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """char_keys of every token of the batch, (n_tokens, 3), and each doc's first and last token index."""
    lengths = numpy.array([len(doc) for doc in docs], dtype="int64")
    ends = numpy.cumsum(lengths)
    orths = numpy.concatenate([doc.to_array(ORTH).reshape(-1) for doc in docs] + [numpy.zeros((0,), "uint64")])
    unique, inverse = numpy.unique(orths, return_inverse=True)
    strings = docs[0].vocab.strings if docs else None
    keys = numpy.array([char_keys(strings[orth]) for orth in unique.tolist()], "uint64").reshape(-1, 3)
    return keys[inverse.reshape(-1)], ends - lengths, ends - 1


def _neighbours(
    norms: numpy.ndarray, starts: numpy.ndarray, lasts: numpy.ndarray
) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The keys of the token before and after each token (BOUNDARY beyond a doc's edges)."""
    before = numpy.roll(norms, 1)
    after = numpy.roll(norms, -1)
    before[starts[starts < len(norms)]] = BOUNDARY
    after[lasts[lasts >= 0]] = BOUNDARY
    return before, after


def _bigrams(norms: numpy.ndarray, starts: numpy.ndarray, lasts: numpy.ndarray) -> List[numpy.ndarray]:
    """Keys of the bigram to the left and to the right of each token."""
    before, after = _neighbours(norms, starts, lasts)
    return [before * MIX ^ norms, norms * MIX ^ after]


def _trigrams(norms: numpy.ndarray, starts: numpy.ndarray, lasts: numpy.ndarray) -> numpy.ndarray:
    """Keys of the trigram centred on each token: the token and its neighbours."""
    before, after = _neighbours(norms, starts, lasts)
    return (before * MIX ^ norms) * MIX ^ after


def _split(model: Model, columns: List[numpy.ndarray], starts: numpy.ndarray) -> List[Ints2d]:
    """The batch's key columns as one (n_tokens, n_columns) array per doc."""
    if not len(starts):
        return []
    keys_2d = numpy.stack(columns, axis=1).astype("uint64")
    return [model.ops.asarray2i(cast(Ints2d, part), dtype="uint64") for part in numpy.split(keys_2d, starts[1:])]


@registry.architectures("spacy_crf_lr.CharEmbed.v1")
def CharEmbed(
    width: int, rows: int = 10000, bigram_rows: int = 100000, bigrams: bool = True, mix: bool = True
) -> Model[List[Doc], List[Floats2d]]:
    """Hash embeddings of the character features, concatenated and mixed by a Maxout layer to
    `width` (mix = true), or summed (mix = false: cheaper, the encoder does the mixing)."""
    row_counts = [rows, 64, bigram_rows, bigram_rows][: 4 if bigrams else 2]
    return _embed(CharFeatures(bigrams), row_counts, width, mix)


def LexiconFeatures(
    bigrams: bool,
    dictionary_length: int,
    unseen_dropout: float,
    dictionary_dropout: float = 0.0,
    joint_dictionary: bool = False,
    bigram_min_count: int = 0,
    bigram_dropout: float = 0.0,
    leave_one_out: bool = False,
    trigrams: bool = False,
) -> Model[List[Doc], List[Ints2d]]:
    """Docs → per token uint64 keys [norm, script(, left bigram, right bigram)(, dictionary starts, dictionary ends)(,
    trigram centred on the token)]. A character not seen in training (attr "known_chars", set by fit_char_features)
    is keyed by its script alone, in the bigrams too; in training a share `unseen_dropout` of the characters is
    treated as unseen, so that those keys are learned. With bigram_min_count ≥ 1, a bigram seen fewer times in the
    training text (attr "known_bigrams") is keyed by its two characters' scripts alone; the training text's rarer
    bigrams teach those keys, and so does `bigram_dropout`: the share of bigrams so keyed in training. The
    dictionary columns are bit masks of the lengths (2 .. dictionary_length) of the training words (attr "words")
    that start / end at the token; in training each batch hides a share `dictionary_dropout` of the words, so that
    the model also learns words it has no entry for. joint_dictionary: one column, starts | ends <<
    (dictionary_length - 1), instead of two. leave_one_out: in training, the characters, words and bigrams counted
    are those the training text would hold without one occurrence (attrs "train_chars", "train_words",
    "train_bigrams": one more occurrence needed), so that a training occurrence of a rare one is keyed as the unseen
    ones of new text are."""
    return Model(
        "lexicon_features",
        _lexicon_forward,
        attrs={
            "bigrams": bigrams,
            "dictionary_length": dictionary_length,
            "unseen_dropout": unseen_dropout,
            "dictionary_dropout": dictionary_dropout,
            "joint_dictionary": joint_dictionary,
            "bigram_min_count": bigram_min_count,
            "bigram_dropout": bigram_dropout,
            "leave_one_out": leave_one_out,
            "trigrams": trigrams,
            "known_chars": EMPTY_KEYS,
            "known_bigrams": EMPTY_KEYS,
            "words": EMPTY_KEYS,
            "train_chars": EMPTY_KEYS,
            "train_bigrams": EMPTY_KEYS,
            "train_words": EMPTY_KEYS,
        },
    )


def _lexicon_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Ints2d], Callable]:
    held_out = is_train and model.attrs["leave_one_out"]
    known = model.attrs["train_chars" if held_out else "known_chars"]
    words = model.attrs["train_words" if held_out else "words"]
    keys, starts, lasts = _batch_keys(docs)
    norms, scripts = keys[:, 0], keys[:, 2]
    unseen = ~contains(known, norms) if len(known) else numpy.zeros(norms.shape, dtype=bool)
    if is_train and model.attrs["unseen_dropout"]:
        unseen |= numpy.random.random_sample(len(norms)) < model.attrs["unseen_dropout"]
    features = numpy.where(unseen, scripts ^ UNSEEN, norms)
    columns = [features, scripts]
    if model.attrs["bigrams"]:
        known_bigrams = model.attrs["train_bigrams" if held_out else "known_bigrams"]
        columns += _known_bigrams(model, known_bigrams, features, scripts, starts, lasts, is_train)
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
    if model.attrs["trigrams"]:
        columns.append(_trigrams(features, starts, lasts))
    return _split(model, columns, starts), lambda d_output: []


def _known_bigrams(
    model: Model,
    known: numpy.ndarray,
    features: numpy.ndarray,
    scripts: numpy.ndarray,
    starts: numpy.ndarray,
    lasts: numpy.ndarray,
    is_train: bool,
) -> List[numpy.ndarray]:
    """The bigram columns, a bigram not in `known` (when that is not empty) or, in training, a share
    bigram_dropout of them keyed by its scripts."""
    bigrams = _bigrams(features, starts, lasts)
    dropout = model.attrs["bigram_dropout"] if is_train else 0.0
    if not len(known) and not dropout:
        return bigrams
    script_pairs = _bigrams(scripts, starts, lasts)
    columns = []
    for keys, pairs in zip(bigrams, script_pairs):
        unseen = ~contains(known, keys) if len(known) else numpy.zeros(keys.shape, dtype=bool)
        if dropout:
            unseen |= numpy.random.random_sample(len(keys)) < dropout
        columns.append(numpy.where(unseen, pairs ^ UNSEEN_BIGRAM, keys))
    return columns


def training_bigrams(docs: Iterable[Doc], min_count: int) -> numpy.ndarray:
    """Sorted keys of the bigrams (the features' keys, doc edges included) seen at least min_count times in docs."""
    unique, totals = bigram_counts(docs)
    return unique[totals >= min_count]


def bigram_counts(docs: Iterable[Doc]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Sorted keys of the bigrams (the features' keys, doc edges included) in docs, and how often each occurs."""
    counts: List[Tuple[numpy.ndarray, numpy.ndarray]] = []
    for batch in minibatch(docs, KEY_BATCH):
        keys, starts, lasts = _batch_keys(batch)
        left, right = _bigrams(keys[:, 0], starts, lasts)
        counts.append(numpy.unique(numpy.concatenate([left, right[lasts[lasts >= starts]]]), return_counts=True))
    if not counts:
        return EMPTY_KEYS, numpy.zeros((0,), dtype="int64")
    unique, inverse = numpy.unique(numpy.concatenate([keys for keys, _ in counts]), return_inverse=True)
    totals = numpy.bincount(inverse.reshape(-1), weights=numpy.concatenate([n for _, n in counts]))
    return unique.astype("uint64"), totals.astype("int64")


def lexicon_layers(model: Model) -> List[Model]:
    """The lexicon_features layers of model."""
    return [node for node in model.walk() if node.name == "lexicon_features"]


def dictionary_layers(model: Model) -> List[Model]:
    """The lexicon_features layers of model that have dictionary features."""
    return [layer for layer in lexicon_layers(model) if layer.attrs["dictionary_length"] >= 2]


def fit_char_features(model: Model, words: Iterable[str], *, docs: Iterable[Doc] = (), min_count: int = 2) -> None:
    """Tell each lexicon_features layer in model the characters and words of the training data (`words`: the
    reference tokens' texts, read only if model has such a layer; dictionary words need min_count occurrences)
    and, for a layer with bigram_min_count, the bigrams of the training `docs` (character tokens, as predicted);
    for a layer with leave_one_out, also those seen once more (see LexiconFeatures)."""
    layers = lexicon_layers(model)
    word_list = list(words) if layers else []
    counted = any(layer.attrs["bigram_min_count"] for layer in layers)
    bigram_keys, bigram_totals = bigram_counts(docs if counted else [])

    def bigrams_seen(times: int) -> numpy.ndarray:
        return bigram_keys[bigram_totals >= times] if times else EMPTY_KEYS

    for layer in layers:
        length, bigram_min_count = layer.attrs["dictionary_length"], layer.attrs["bigram_min_count"]
        layer.attrs["known_chars"], layer.attrs["words"] = learn_lexicon(
            word_list, min_count=min_count, max_length=length
        )
        layer.attrs["known_bigrams"] = bigrams_seen(bigram_min_count)
        if layer.attrs["leave_one_out"]:
            layer.attrs["train_chars"], layer.attrs["train_words"] = learn_lexicon(
                word_list, min_count=min_count + 1, max_length=length, char_min_count=2
            )
            layer.attrs["train_bigrams"] = bigrams_seen(bigram_min_count + 1) if bigram_min_count else EMPTY_KEYS


def check_lexicon(model: Model, setting: str) -> None:
    """Raise naming `setting` if model has no dictionary features."""
    if not dictionary_layers(model):
        raise ValueError(
            f"{setting} needs a model with dictionary features (spacy_crf_lr.CharEmbed.v2 or v3 with "
            "dictionary_length ≥ 2); this model has none. Use user_words_mode 'force'."
        )


def add_lexicon_words(model: Model, words: Iterable[str]) -> None:
    """Add words (of 2 .. dictionary_length characters, no whitespace) to model's dictionary features."""
    words = list(words)
    for layer in dictionary_layers(model):
        keys = dictionary_keys(words, layer.attrs["dictionary_length"])
        layer.attrs["words"] = numpy.union1d(layer.attrs["words"], keys)
        if layer.attrs["leave_one_out"]:
            layer.attrs["train_words"] = numpy.union1d(layer.attrs["train_words"], keys)


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
    share of them hidden from each training batch). `embed_dropout`: [training] dropout also drops dimensions
    of each table's vectors, as in spaCy's MultiHashEmbed (off: only the layers above get it). `bigram_min_count`
    (0: off): a bigram seen fewer times in training is embedded by its characters' scripts, as an unseen
    character is; `bigram_dropout`: the share of bigrams so keyed in training, so that those keys are learned.
    `leave_one_out`: in training, a character, dictionary word or (with bigram_min_count) bigram is taken as
    seen only if the training text holds it once more than needed, as if this occurrence were new text.
    `trigram_rows` (0: off): a table of that many rows for the trigram centred on each character."""
    _check_lexicon_settings("CharEmbed.v2", dictionary_length, 16, unseen_dropout, dictionary_dropout, bigram_dropout)
    for setting, value in {"bigram_min_count": bigram_min_count, "trigram_rows": trigram_rows}.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"CharEmbed.v2: {setting} must be an integer ≥ 0 (0: off), got {value!r}")
    row_counts = [rows, 256] + ([bigram_rows, bigram_rows] if bigrams else [])
    if dictionary_length:
        row_counts += [4 << (dictionary_length - 1)] * 2  # bit masks of dictionary_length - 1 bits
    if trigram_rows:
        row_counts.append(trigram_rows)
    features = LexiconFeatures(
        bigrams,
        dictionary_length,
        unseen_dropout,
        dictionary_dropout,
        bigram_min_count=bigram_min_count,
        bigram_dropout=bigram_dropout,
        leave_one_out=leave_one_out,
        trigrams=trigram_rows > 0,
    )
    return _embed(features, row_counts, width, mix, embed_dropout=embed_dropout)


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
    name: str,
    dictionary_length: int,
    max_length: int,
    unseen_dropout: float,
    dictionary_dropout: float,
    bigram_dropout: float = 0.0,
) -> None:
    """Raise naming the architecture and the bad setting."""
    if dictionary_length == 1 or dictionary_length > max_length:
        raise ValueError(f"{name}: dictionary_length must be 0 (off) or 2 .. {max_length}, got {dictionary_length}")
    dropouts = {
        "unseen_dropout": unseen_dropout,
        "dictionary_dropout": dictionary_dropout,
        "bigram_dropout": bigram_dropout,
    }
    for setting, value in dropouts.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name}: {setting} must be in [0, 1), got {value}")


def _embed(
    features: Model[List[Doc], List[Ints2d]], row_counts: List[int], width: int, mix: bool, embed_dropout: bool = False
):
    """features → one hash embedding table per key column, concatenated and mixed or summed; with embed_dropout,
    each table has a dropout rate for spaCy's [training] dropout to set."""
    dropout = 0.0 if embed_dropout else None
    tables: List[Model[Ints2d, Floats2d]] = [
        HashEmbed(width, n_rows, column=i, seed=7 + i, dropout=dropout) for i, n_rows in enumerate(row_counts)
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
