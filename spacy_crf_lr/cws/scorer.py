"""`spacy_crf_lr.segmentation_scorer.v1`: word P/R/F as the bakeoff counts them, and OOV/IV recall."""

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Collection, Dict, Iterable, Optional

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


class SegmentationScorer:
    """Scorer for token_p/r/f (word spans) and, with a training word list, OOV and IV recall. The list is
    the one the component keeps with the model (`known_words`), else the file `words_path`; if that is
    missing too, a warning says so and OOV/IV recall are left out."""

    def __init__(self, words_path: Optional[str]):
        # In a pipeline config the list is [initialize.components.NAME] words; a scorer's `words` (its place before
        # 0.3.0) is still read by crf_segmenter at initialize, with a DeprecationWarning.
        self.words_path = words_path

    def __call__(
        self, examples: Iterable[Example], *, known_words: Optional[Collection[str]] = None, **kwargs: Any
    ) -> Dict[str, Optional[float]]:
        vocab = frozenset(known_words) if known_words is not None else _words_or_warn(self.words_path)
        result = score_lines(
            [[t.text for t in eg.reference] for eg in examples],
            [[t.text for t in eg.predicted] for eg in examples],
            vocab,
        )
        scores: Dict[str, Optional[float]] = {
            "token_p": result.precision,
            "token_r": result.recall,
            "token_f": result.f,
        }
        scores.update({f"spans_{SPANS_KEY}_{name[-1]}": value for name, value in scores.items()})
        if vocab is not None:
            scores.update(token_oov_recall=result.oov_recall, token_iv_recall=result.iv_recall)
        return scores


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
def make_segmentation_scorer(words: Optional[str] = None) -> SegmentationScorer:
    """token_p/r/f as the bakeoff counts them; OOV/IV recall with the word list crf_segmenter keeps (set by
    [initialize.components.NAME] words), or with the list at `words` (in a pipeline config: deprecated since 0.3.0)."""
    return SegmentationScorer(words)
