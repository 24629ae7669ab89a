"""User dictionaries for segmentation: a trie of words, leftmost-longest matching, and BMES tag masks (no spaCy)."""

from pathlib import Path
from typing import Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy

from .whitespace import SEPARATORS

_END = None  # key marking "a word ends here" in a trie node; no character (or character key) is None


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
    text: from each position the trie is walked as far as the text allows, never once per word.
    `key` maps each character to the symbol the trie holds (default: the character itself), so that
    `find` can walk other sequences, e.g. the ORTH ids of a Doc's character tokens."""

    def __init__(self, words: Iterable[str] = (), key: Optional[Callable[[str], Hashable]] = None):
        self._root: Dict[Hashable, dict] = {}
        self._words: set = set()
        self._key = key
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
                node = node.setdefault(char if self._key is None else self._key(char), {})
            node[_END] = {}
            self._words.add(word)
            self.max_length = max(self.max_length, len(word))
            added += 1
        return added

    def clear(self) -> None:
        """Remove every word."""
        self._root, self._words, self.max_length = {}, set(), 0

    def find(self, text: Sequence[Hashable]) -> List[Tuple[int, int]]:
        """Spans (start, end) of the dictionary words in text (a string, or a sequence of character
        keys), leftmost-longest: scanning
        left to right, the longest word starting at the first position where any word starts wins, and
        the scan goes on after it. Overlaps are resolved that way: a word that overlaps an earlier
        chosen one is not taken, even if it is longer."""
        root = self._root
        if not root:
            return []
        matches: List[Tuple[int, int]] = []
        append, get = matches.append, root.get
        i, n = 0, len(text)
        while i < n:
            node = get(text[i])
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
                append((i, end))
                i = end
            else:
                i += 1
        return matches


def bmes_mask(n_tokens: int, spans: Sequence[Tuple[int, int]], labels: Sequence[str]) -> numpy.ndarray:
    """n_tokens×K mask of the BMES tags each token may take so that every span (start, end token
    indices, not overlapping) is one word: S for a one-token word, else B, M…, E. Tokens outside the
    spans may take any tag."""
    n_tags = len(labels)
    mask = numpy.ones((n_tokens, n_tags), bool)
    if not len(spans) or not n_tokens:
        return mask
    first, end = numpy.asarray(spans, "int64").reshape(-1, 2).T
    if first.min() < 0 or end.max() > n_tokens or (end <= first).any():
        raise ValueError(f"Spans must be (start, end) token indices with 0 <= start < end <= {n_tokens}.")
    index = {label: i for i, label in enumerate(labels)}
    tag = numpy.full(n_tokens, -1, "int64")
    sizes = end - first
    inside = numpy.repeat(first, sizes) + (numpy.arange(sizes.sum()) - numpy.repeat(numpy.cumsum(sizes) - sizes, sizes))
    tag[inside] = index["M"]
    tag[first] = index["B"]
    tag[end - 1] = index["E"]
    tag[first[sizes == 1]] = index["S"]
    forced = tag >= 0
    mask[forced] = numpy.arange(n_tags)[None, :] == tag[forced][:, None]
    return mask
