"""The longest line a pipeline is given (spaCy's `nlp.max_length`, which refuses longer texts with its E088)."""

import sys
from typing import TYPE_CHECKING, Iterable, Optional

from ..cws.tokenizer import CharTokenizer
from ..util import check_count

if TYPE_CHECKING:
    from spacy.language import Language

NO_LIMIT = sys.maxsize  # nlp.max_length that lets any text through


def apply_max_length(nlp: "Language", max_length: Optional[int]) -> int:
    """Set and return nlp.max_length: max_length (characters) if given; else no limit when the pipeline's
    tokenizer is spacy_crf_lr.CharTokenizer.v1 (the segmenter's time and memory per character do not grow with a
    line's length), else the model's own (spaCy's default: 1,000,000)."""
    if max_length is not None:
        check_count("--max-length", max_length)
        nlp.max_length = max_length
    elif isinstance(nlp.tokenizer, CharTokenizer):
        nlp.max_length = NO_LIMIT
    return nlp.max_length


def check_line_lengths(lines: Iterable[str], max_length: int, first_line: Optional[int] = 1) -> None:
    """Raise a ValueError naming the first line longer than max_length and how to lift the limit;
    first_line: the number of the first of `lines` (None: unknown, the message then names none)."""
    for index, line in enumerate(lines):
        if len(line) > max_length:
            where = "a line" if first_line is None else f"line {first_line + index}"
            raise ValueError(
                f"{where} has {len(line):,} characters, more than the model's max length {max_length:,} "
                f"(spaCy's nlp.max_length): give --max-length {len(line)} (or more) to segment it, or split the line"
            )
