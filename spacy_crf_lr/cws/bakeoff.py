"""The SIGHAN bakeoff word segmentation scorer (P, R, F, OOV rate, OOV and IV recall)."""

from dataclasses import asdict, dataclass
from typing import AbstractSet, Dict, List, Optional, Sequence, Set, Tuple, Union

from ..util import PathLike
from .sighan import read_segmented, read_word_list

Span = Tuple[int, int]


@dataclass
class BakeoffScore:
    """Word counts of a segmentation against the gold; rates are derived properties."""

    gold_words: int = 0
    pred_words: int = 0
    correct: int = 0
    oov_words: int = 0
    oov_correct: int = 0
    iv_words: int = 0
    iv_correct: int = 0
    has_vocab: bool = False

    @property
    def precision(self) -> float:
        """Correct words / predicted words."""
        return _ratio(self.correct, self.pred_words)

    @property
    def recall(self) -> float:
        """Correct words / gold words."""
        return _ratio(self.correct, self.gold_words)

    @property
    def f(self) -> float:
        """Harmonic mean of precision and recall."""
        return _ratio(2 * self.precision * self.recall, self.precision + self.recall)

    @property
    def oov_rate(self) -> Optional[float]:
        """Gold words missing from the training word list / gold words (None without a word list)."""
        return _ratio(self.oov_words, self.gold_words) if self.has_vocab else None

    @property
    def oov_recall(self) -> Optional[float]:
        """Correct OOV gold words / OOV gold words (None without a word list)."""
        return _ratio(self.oov_correct, self.oov_words) if self.has_vocab else None

    @property
    def iv_recall(self) -> Optional[float]:
        """Correct in-vocabulary gold words / in-vocabulary gold words (None without a word list)."""
        return _ratio(self.iv_correct, self.iv_words) if self.has_vocab else None

    def to_dict(self) -> Dict[str, Union[int, float, bool, None]]:
        """Return the counts and rates as a flat dict."""
        rates = ("precision", "recall", "f", "oov_rate", "oov_recall", "iv_recall")
        return {**asdict(self), **{name: getattr(self, name) for name in rates}}


def _ratio(numerator: float, denominator: float) -> float:
    """Divide, giving 0.0 when the denominator is zero."""
    return numerator / denominator if denominator else 0.0


def word_spans(words: Sequence[str]) -> List[Span]:
    """Return the (start, end) character offsets of each word in the concatenated line."""
    spans = []
    start = 0
    for word in words:
        spans.append((start, start + len(word)))
        start += len(word)
    return spans


def score_line(
    score: BakeoffScore, gold: Sequence[str], pred: Sequence[str], vocab: Optional[AbstractSet[str]]
) -> None:
    """Add one line's counts to score; a word is correct when its character span is in both."""
    pred_spans: Set[Span] = set(word_spans(pred))
    score.gold_words += len(gold)
    score.pred_words += len(pred)
    for word, span in zip(gold, word_spans(gold)):
        hit = span in pred_spans
        score.correct += hit
        if vocab is None:
            continue
        if word in vocab:
            score.iv_words += 1
            score.iv_correct += hit
        else:
            score.oov_words += 1
            score.oov_correct += hit


def check_lines(gold: List[List[str]], pred: List[List[str]], gold_path: PathLike, pred_path: PathLike) -> None:
    """Raise a ValueError naming files and line when line counts or a line's characters differ."""
    if len(gold) != len(pred):
        raise ValueError(
            f"line counts differ: {gold_path} has {len(gold)} lines, {pred_path} has {len(pred)}; "
            "the prediction needs one line per gold line"
        )
    for number, (gold_words, pred_words) in enumerate(zip(gold, pred), start=1):
        gold_text, pred_text = "".join(gold_words), "".join(pred_words)
        if gold_text != pred_text:
            raise ValueError(
                f"{pred_path}: line {number}: characters differ from {gold_path}: "
                f"gold {_excerpt(gold_text)!r}, predicted {_excerpt(pred_text)!r}"
            )


def _excerpt(text: str, width: int = 30) -> str:
    """Shorten text to at most width characters for error messages."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _drop_final_empty_line(gold: List[List[str]], pred: List[List[str]]) -> None:
    """Drop one trailing empty line from whichever file has exactly one extra line (e.g. the PKU gold)."""
    for longer, shorter in ((gold, pred), (pred, gold)):
        if len(longer) == len(shorter) + 1 and longer[-1] == []:
            longer.pop()
            return


def score_lines(gold: List[List[str]], pred: List[List[str]], vocab: Optional[AbstractSet[str]] = None) -> BakeoffScore:
    """Score predicted word lists against gold word lists, line by line (lines must already be checked)."""
    score = BakeoffScore(has_vocab=vocab is not None)
    for gold_words, pred_words in zip(gold, pred):
        score_line(score, gold_words, pred_words, vocab)
    return score


def score_files(gold_path: PathLike, pred_path: PathLike, words_path: Optional[PathLike] = None) -> BakeoffScore:
    """Score a segmented prediction file against a gold file, with OOV figures when a word list is given."""
    gold = read_segmented(gold_path)
    pred = read_segmented(pred_path)
    vocab = read_word_list(words_path) if words_path is not None else None
    _drop_final_empty_line(gold, pred)
    check_lines(gold, pred, gold_path, pred_path)
    if not any(gold):
        what = f"its {len(gold)} lines are all blank" if gold else "the file is empty"
        raise ValueError(f"{gold_path}: no words to score ({what}); give a segmented gold file")
    return score_lines(gold, pred, vocab)
