"""Word separators: the one definition of whitespace shared by the reader, `segment`, `score` and the segmenter."""

from typing import List

# Every character for which str.isspace() is true, which is also spaCy's Token.is_space: ASCII
# whitespace, the C0 separators \x1c-\x1f, NEL, NBSP, the Unicode spaces (U+2000-U+200A, U+3000, ...)
# and the line and paragraph separators. Anything else (U+200B, the BOM U+FEFF, ...) is a character.
SEPARATORS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def is_separator(text: str) -> bool:
    """True if text is one or more separator characters (what spaCy calls a space token)."""
    return text.isspace()


def split_words(text: str) -> List[str]:
    """The words of text: the runs of characters between separators."""
    return text.split()


def strip_separators(text: str) -> str:
    """Text without leading and trailing separators."""
    return text.strip()
