"""`spacy_crf_lr.segmentation_scorer.v1`: word P/R/F as the bakeoff counts them, and OOV/IV recall."""

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable, Collection, Dict, Iterable, Optional

from spacy.training import Example
from spacy.util import registry

from .bakeoff import score_lines
from .sighan import read_word_list

# spacy evaluate prints span P/R/F for `--spans-key KEY` as spans_KEY_p/r/f: the words are given under this key too.
SPANS_KEY = "words"


@lru_cache(maxsize=4)
def load_words(path: str) -> frozenset:
    """The word list at path (cached)."""
    return frozenset(read_word_list(path))


def make_segmentation_score(words: Optional[str]) -> Callable:
    """Scorer for token_p/r/f (word spans) and, with a training word list, OOV and IV recall. The list is
    the one the component keeps with the model (`known_words`), else the file `words`; if that is
    missing too, a warning says so and OOV/IV recall are left out."""

    def score(
        examples: Iterable[Example], *, known_words: Optional[Collection[str]] = None, **kwargs
    ) -> Dict[str, Optional[float]]:
        vocab = known_words if known_words is not None else _words_or_warn(words)
        result = score_lines(
            [[t.text for t in eg.reference] for eg in examples],
            [[t.text for t in eg.predicted] for eg in examples],
            vocab,
        )
        scores = {"token_p": result.precision, "token_r": result.recall, "token_f": result.f}
        scores.update({f"spans_{SPANS_KEY}_{name[-1]}": value for name, value in scores.items()})
        if vocab is not None:
            scores.update(token_oov_recall=result.oov_recall, token_iv_recall=result.iv_recall)
        return scores

    score.words_path = words  # type: ignore[attr-defined]  (read by crf_segmenter at initialize)
    return score


def _words_or_warn(path: Optional[str]) -> Optional[frozenset]:
    """The word list at path; None (with a warning) if the file is missing."""
    if not path:
        return None
    if not Path(path).is_file():
        warnings.warn(
            f"The segmentation scorer's word list {path} does not exist (relative to {Path.cwd()}) and the "
            f"model keeps no copy: OOV and IV recall are left out.",
            stacklevel=2,
        )
        return None
    return load_words(path)


@registry.scorers("spacy_crf_lr.segmentation_scorer.v1")
def make_segmentation_scorer(words: Optional[str] = None) -> Callable:
    """token_p/r/f as the bakeoff counts them; OOV/IV recall when `words` names a word list."""
    return make_segmentation_score(words)
