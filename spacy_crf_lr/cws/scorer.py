"""`spacy_crf_lr.segmentation_scorer.v1`: word P/R/F as the bakeoff counts them, and OOV/IV recall."""

from functools import lru_cache
from typing import Callable, Dict, Iterable, Optional

from spacy.training import Example
from spacy.util import registry

from .bakeoff import score_lines
from .sighan import read_word_list


@lru_cache(maxsize=4)
def _load_words(path: str) -> frozenset:
    return frozenset(read_word_list(path))


def make_segmentation_score(words: Optional[str]) -> Callable:
    """Scorer for token_p/r/f (word spans) and, with a training word list, OOV and IV recall."""

    def score(examples: Iterable[Example], **kwargs) -> Dict[str, Optional[float]]:
        vocab = _load_words(words) if words else None
        result = score_lines(
            [[t.text for t in eg.reference] for eg in examples],
            [[t.text for t in eg.predicted] for eg in examples],
            vocab,
        )
        scores = {"token_p": result.precision, "token_r": result.recall, "token_f": result.f}
        if vocab is not None:
            scores.update(token_oov_recall=result.oov_recall, token_iv_recall=result.iv_recall)
        return scores

    return score


@registry.scorers("spacy_crf_lr.segmentation_scorer.v1")
def make_segmentation_scorer(words: Optional[str] = None) -> Callable:
    """token_p/r/f as the bakeoff counts them; OOV/IV recall when `words` names a word list."""
    return make_segmentation_score(words)
