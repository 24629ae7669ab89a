"""What initialize and the user dictionary tell the character features: the training data's characters and
words, and the user's words, kept in the lexicon_features layers' attrs (saved with the model)."""

from typing import Iterable

import numpy
from thinc.api import Model

from .layers import dictionary_layers, lexicon_layers
from .lexicon import dictionary_keys, learn_lexicon


def fit_char_features(model: Model, words: Iterable[str], *, min_count: int = 2) -> None:
    """Tell each lexicon_features layer in model the characters and words of the training data (`words`: the
    reference tokens' texts, read only if model has such a layer; dictionary words need min_count occurrences)."""
    layers = lexicon_layers(model)
    word_list = list(words) if layers else []
    for layer in layers:
        layer.attrs["known_chars"], layer.attrs["words"] = learn_lexicon(
            word_list, min_count=min_count, max_length=layer.attrs["dictionary_length"]
        )


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
        layer.attrs["words"] = numpy.union1d(
            layer.attrs["words"], dictionary_keys(words, layer.attrs["dictionary_length"])
        )
