"""What the training data tells the character features: the characters it holds (others are "unseen") and its
words (matched in the text as dictionary features). Both are kept as sorted uint64 keys in layer attrs, so
thinc serializes them with the model (msgpack), and matching is a few vectorised numpy passes per batch."""

from collections import Counter
from typing import Iterable, Tuple

import numpy

from .keys import MIX, char_keys

EMPTY_KEYS = numpy.zeros((0,), dtype="uint64")


def span_keys(norms: numpy.ndarray, length: int) -> numpy.ndarray:
    """Key of every run of `length` consecutive tokens (len(norms) - length + 1 of them), from the tokens'
    norm keys; the same key as `word_key` of the run's text."""
    keys = norms[: len(norms) - length + 1].copy()
    for offset in range(1, length):
        keys = (keys * MIX) ^ norms[offset : len(norms) - length + 1 + offset]
    return keys


def word_key(word: str) -> int:
    """Key of a word, from its characters' norm keys (see span_keys)."""
    norms = numpy.array([char_keys(char)[0] for char in word], dtype="uint64")
    return int(span_keys(norms, len(norms))[0])


def contains(sorted_keys: numpy.ndarray, keys: numpy.ndarray) -> numpy.ndarray:
    """Boolean mask: which of keys are in sorted_keys."""
    if not len(sorted_keys) or not len(keys):
        return numpy.zeros(keys.shape, dtype=bool)
    at = numpy.minimum(numpy.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def match_masks(
    norms: numpy.ndarray, word_keys: numpy.ndarray, max_length: int, doc_ids: numpy.ndarray
) -> Tuple[numpy.ndarray, ...]:
    """Per token, bit L-2 set (L = 2 .. max_length) if a dictionary word of L tokens starts there (first array)
    or ends there (second array); `doc_ids`: each token's doc in the batch (no word spans two docs)."""
    n = len(norms)
    starts = numpy.zeros((n,), dtype="uint64")
    ends = numpy.zeros((n,), dtype="uint64")
    keys = norms
    for length in range(2, min(max_length, n) + 1):
        keys = (keys[:-1] * MIX) ^ norms[length - 1 :]  # span_keys(norms, length), from those of length - 1
        found = contains(word_keys, keys) & (doc_ids[: n - length + 1] == doc_ids[length - 1 :])
        bit = numpy.uint64(1 << (length - 2))
        starts[: len(found)] |= numpy.where(found, bit, numpy.uint64(0))
        ends[length - 1 :] |= numpy.where(found, bit, numpy.uint64(0))
    return starts, ends


def dictionary_keys(words: Iterable[str], max_length: int) -> numpy.ndarray:
    """Sorted unique keys of the words of 2 .. max_length characters without whitespace."""
    kept = [w for w in words if 2 <= len(w) <= max_length and not any(c.isspace() for c in w)]
    return numpy.unique(numpy.array([word_key(w) for w in kept], dtype="uint64"))


def learn_lexicon(words: Iterable[str], *, min_count: int, max_length: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Sorted norm keys of the characters in `words` (full-width and ASCII forms share one), and sorted keys of
    the words of 2 .. max_length characters seen at least min_count times."""
    word_counts = Counter(words)
    norms = {char_keys(char)[0] for word in word_counts for char in word if not char.isspace()}
    char_array = numpy.unique(numpy.array(sorted(norms), dtype="uint64"))
    frequent = [word for word, count in word_counts.items() if count >= min_count]
    return char_array, dictionary_keys(frequent, max_length)
