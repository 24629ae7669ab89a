"""Stable 64-bit keys of a character token: its normalised text, its Unicode category and its script."""

import unicodedata
from functools import lru_cache
from typing import Tuple

import numpy

BOUNDARY = numpy.uint64(0x9E3779B97F4A7C15)  # key of the position before / after a doc
MIX = numpy.uint64(0x100000001B3)
CHAR_KEY_CACHE_SIZE = 1 << 16  # distinct token texts whose keys are kept; more are recomputed, never stored


@lru_cache(maxsize=CHAR_KEY_CACHE_SIZE)
def char_keys(text: str) -> Tuple[int, int, int]:
    """(norm, category, script) keys of a token. norm: the NFKC + lower-case text, so that full-width
    "１９９８" and ASCII "1998" look alike; category: the Unicode category of its first character;
    script: that category with the first word of the character's Unicode name ("CJK", "LATIN", "HIRAGANA",
    "DIGIT" ...), the class an unseen character is known by."""
    norm = unicodedata.normalize("NFKC", text).lower()
    category = unicodedata.category(norm[0]) if norm else "Zs"
    script = unicodedata.name(norm[0], "UNNAMED").split(" ")[0] if norm else "SPACE"
    return hash_string(norm), hash_string(category), hash_string(f"{category} {script}")


def hash_string(text: str) -> int:
    """A 64-bit FNV-1a hash: stable across processes, unlike hash()."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf8"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value
