"""Partially segmented training text: stretches of unknown segmentation marked in SIGHAN lines (no spaCy).

In a training line, a stretch whose inner word boundaries are unknown is written without spaces between
`{{` and `}}`, as one space-separated item: `我们  {{今天天气很好}}  。`. Its edges are word boundaries
(they touch the known words around it); inside it, every segmentation is possible.
"""

from typing import List, Sequence, Tuple

UNKNOWN_OPEN, UNKNOWN_CLOSE = "{{", "}}"
UNKNOWN_SPANS = "crf_unknown"  # span group of the reference Doc holding the unknown stretches


def parse_unknown(words: Sequence[str]) -> Tuple[List[str], List[int]]:
    """The words with the markers removed, and the indices of the items that are unknown stretches."""
    clean: List[str] = []
    unknown: List[int] = []
    for word in words:
        opens, closes = word.startswith(UNKNOWN_OPEN), word.endswith(UNKNOWN_CLOSE)
        inner = word[len(UNKNOWN_OPEN) : -len(UNKNOWN_CLOSE)] if opens and closes else word
        if opens and closes and inner and UNKNOWN_OPEN not in inner and UNKNOWN_CLOSE not in inner:
            unknown.append(len(clean))
            clean.append(inner)
        elif UNKNOWN_OPEN in word or UNKNOWN_CLOSE in word:
            raise ValueError(
                f"Bad unknown-segmentation marker in {word!r}: write an unknown stretch as one item without "
                f"spaces, {UNKNOWN_OPEN}TEXT{UNKNOWN_CLOSE}, with non-empty TEXT and no other braces pair in it."
            )
        else:
            clean.append(word)
    return clean, unknown
