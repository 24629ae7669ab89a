"""User dictionaries for segmentation: a trie of words, leftmost-longest matching, and BMES tag masks (no spaCy)."""

from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy

from .sighan import SEPARATORS

_END = ""  # key marking "a word ends here" in a trie node; no character is the empty string


def read_user_words(path: Union[str, Path]) -> List[str]:
    """Words of a user dictionary file: UTF-8, one word per line; surrounding whitespace and empty lines
    are ignored, and so is anything after the first space or tab (pkuseg/jieba files may add a tag or count)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"User dictionary not found: {str(path)!r} (user_words must be a UTF-8 file, one word a line)."
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f"User dictionary {str(path)!r} is not UTF-8: {err.reason} at byte {err.start}.") from None
    words = (line.strip(SEPARATORS + "\r\n\ufeff").split(None, 1) for line in lines)
    return [parts[0] for parts in words if parts]


class UserDictionary:
    """A set of words held in a trie (nested dicts) for leftmost-longest matching in time linear in the
    text: from each position the trie is walked as far as the text allows, never once per word."""

    def __init__(self, words: Iterable[str] = ()):
        self._root: Dict[str, dict] = {}
        self._words: set = set()
        self.max_length = 0
        self.add(words)

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: str) -> bool:
        return word in self._words

    @property
    def words(self) -> List[str]:
        """The words, sorted."""
        return sorted(self._words)

    def add(self, words: Iterable[str]) -> int:
        """Add words (non-empty strings without whitespace); return how many were new."""
        if isinstance(words, str):
            raise ValueError(f"Give words as a list of strings, not one string ({words[:20]!r}).")
        added = 0
        for word in words:
            if not isinstance(word, str) or not word or any(char.isspace() for char in word):
                raise ValueError(f"Bad dictionary word {word!r}: a word must be a non-empty string without whitespace.")
            if word in self._words:
                continue
            node = self._root
            for char in word:
                node = node.setdefault(char, {})
            node[_END] = {}
            self._words.add(word)
            self.max_length = max(self.max_length, len(word))
            added += 1
        return added

    def clear(self) -> None:
        """Remove every word."""
        self._root, self._words, self.max_length = {}, set(), 0

    def find(self, text: str) -> List[Tuple[int, int]]:
        """Character spans (start, end) of the dictionary words in text, leftmost-longest: scanning
        left to right, the longest word starting at the first position where any word starts wins, and
        the scan goes on after it. Overlaps are resolved that way: a word that overlaps an earlier
        chosen one is not taken, even if it is longer."""
        root = self._root
        if not root:
            return []
        matches = []
        i, n = 0, len(text)
        while i < n:
            node = root.get(text[i])
            if node is None:
                i += 1
                continue
            end = i + 1 if _END in node else 0
            j = i + 1
            while j < n:
                node = node.get(text[j])
                if node is None:
                    break
                j += 1
                if _END in node:
                    end = j
            if end:
                matches.append((i, end))
                i = end
            else:
                i += 1
        return matches


def bmes_mask(
    token_starts: Sequence[int], token_ends: Sequence[int], spans: Sequence[Tuple[int, int]], labels: Sequence[str]
) -> numpy.ndarray:
    """N×K mask of the BMES tags each of N tokens may take so that every span (start, end character
    offsets) is one word: S for a one-token word, else B, M…, E. Spans whose edges fall inside a token
    are ignored; tokens outside the spans may take any tag."""
    n_tokens, n_tags = len(token_starts), len(labels)
    mask = numpy.ones((n_tokens, n_tags), bool)
    if not spans or not n_tokens:
        return mask
    token_starts, token_ends = numpy.asarray(token_starts, "int64"), numpy.asarray(token_ends, "int64")
    span_starts, span_ends = numpy.asarray(spans, "int64").T
    first = numpy.searchsorted(token_starts, span_starts)
    last = numpy.searchsorted(token_ends, span_ends)  # index of the token ending at span_end, if any
    first_ok = (first < n_tokens) & (token_starts[numpy.minimum(first, n_tokens - 1)] == span_starts)
    last_ok = (last < n_tokens) & (token_ends[numpy.minimum(last, n_tokens - 1)] == span_ends)
    keep = first_ok & last_ok & (last >= first)
    first, last = first[keep], last[keep]
    if not len(first):
        return mask
    index = {label: i for i, label in enumerate(labels)}
    tag = numpy.full(n_tokens, -1, "int64")
    sizes = last - first + 1
    inside = numpy.repeat(first, sizes) + (numpy.arange(sizes.sum()) - numpy.repeat(numpy.cumsum(sizes) - sizes, sizes))
    tag[inside] = index["M"]
    tag[first] = index["B"]
    tag[last] = index["E"]
    tag[first[sizes == 1]] = index["S"]
    forced = tag >= 0
    mask[forced] = numpy.arange(n_tags)[None, :] == tag[forced][:, None]
    return mask
