"""Read and write SIGHAN bakeoff segmentation files, and a spaCy corpus reader for them."""

import re
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Set, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

# Word separators: ASCII whitespace and U+3000 (the official `score` script treats both as spaces).
SEPARATORS = " \t\f\v\u3000"
_SEPARATOR_RUN = re.compile(f"[{re.escape(SEPARATORS)}]+")
# A chunk may end right after a word ending in one of these marks.
PUNCTUATION = frozenset("。，！？；：、,.!?;:．…｡､﹐﹑﹒﹔﹕﹖﹗")
PARTS = ("train", "dev", "all")
PathLike = Union[str, Path]


def read_lines(path: PathLike) -> List[str]:
    """Read a UTF-8 file into lines without their LF/CRLF endings; a ValueError names file and line on bad UTF-8."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ValueError(f"{path}: line {line}: invalid UTF-8 ({err.reason} at byte {err.start})") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def split_words(line: str) -> List[str]:
    """Split one segmented line into words on runs of spaces, tabs and U+3000."""
    return [word for word in _SEPARATOR_RUN.split(line) if word]


def read_segmented(path: PathLike) -> List[List[str]]:
    """Read a segmented file into one word list per line; empty lines give empty lists."""
    return [split_words(line) for line in read_lines(path)]


def read_word_list(path: PathLike) -> Set[str]:
    """Read a training word list (one word per line, surrounding whitespace ignored)."""
    return {word for word in (line.strip(SEPARATORS) for line in read_lines(path)) if word}


def write_segmented(path: PathLike, sentences: Iterable[Sequence[str]]) -> None:
    """Write one line per sentence, words joined by two spaces, with LF line endings."""
    with Path(path).open("w", encoding="utf-8", newline="\n") as file:
        for words in sentences:
            file.write("  ".join(words) + "\n")


def _cut_point(words: Sequence[str], start: int, max_length: int) -> int:
    """Return the end index of the chunk starting at `start`: after the last punctuation that fits, else the last fitting word."""
    length = 0
    end = start
    while end < len(words) and length + len(words[end]) <= max_length:
        length += len(words[end])
        end += 1
    if end == len(words):
        return end
    if end == start:
        return start + 1
    for cut in range(end, start, -1):
        if words[cut - 1][-1:] in PUNCTUATION:
            return cut
    return end


def split_sentence(words: Sequence[str], max_length: Optional[int]) -> List[List[str]]:
    """Split a word list into chunks of at most max_length characters, cutting between words (0/None: no split)."""
    if not max_length:
        return [list(words)] if words else []
    if max_length < 0:
        raise ValueError(f"max_length must be 0 (no splitting) or a positive number of characters, got {max_length}")
    chunks = []
    start = 0
    while start < len(words):
        end = _cut_point(words, start, max_length)
        chunks.append(list(words[start:end]))
        start = end
    return chunks


def select_lines(n_lines: int, holdout: float, part: str) -> range:
    """Return the line indices of `part`: "dev" is the last round(n_lines * holdout) lines, "train" the rest."""
    n_dev = round(n_lines * holdout)
    if part == "train":
        return range(0, n_lines - n_dev)
    if part == "dev":
        return range(n_lines - n_dev, n_lines)
    return range(0, n_lines)


def make_example(nlp: Language, words: Sequence[str]) -> Example:
    """Build an Example: predicted is nlp.make_doc of the joined text, reference has the gold words."""
    reference = Doc(nlp.vocab, words=list(words), spaces=[False] * len(words))
    return Example(nlp.make_doc("".join(words)), reference)


class SighanCorpus:
    """Iterate over Examples from a SIGHAN segmented file, like spacy.Corpus.v1."""

    def __init__(self, path: Path, max_length: int = 0, holdout: float = 0.0, part: str = "train", limit: int = 0):
        """Store the validated settings; the file is read on each call."""
        self.path = path
        self.max_length = max_length
        self.holdout = holdout
        self.part = part
        self.limit = limit

    def sentences(self) -> Iterator[List[str]]:
        """Yield the non-empty word lists of the selected part, split to max_length."""
        lines = read_segmented(self.path)
        for index in select_lines(len(lines), self.holdout, self.part):
            yield from split_sentence(lines[index], self.max_length)

    def __call__(self, nlp: Language) -> Iterator[Example]:
        """Yield Examples for nlp, at most `limit` of them (0: all)."""
        for count, words in enumerate(self.sentences(), start=1):
            yield make_example(nlp, words)
            if count == self.limit:
                return


def _check_path(path: Optional[PathLike]) -> Path:
    """Return path as a Path, or raise a ValueError saying which variable to set."""
    hint = "set [paths] train / dev in the config (or --paths.train / --paths.dev, or the project.yml vars)"
    if path is None or str(path) == "":
        raise ValueError(f"SighanCorpus: no path given; {hint} to a SIGHAN segmented file")
    if not Path(path).is_file():
        raise ValueError(f"SighanCorpus: file not found: {path}; {hint} to an existing SIGHAN segmented file")
    return Path(path)


def _check_arguments(max_length: int, holdout: float, part: str, limit: int) -> None:
    """Raise a ValueError naming the first invalid corpus argument."""
    if part not in PARTS:
        raise ValueError(f"SighanCorpus: unknown part {part!r}; allowed: {', '.join(PARTS)}")
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"SighanCorpus: holdout must be in [0, 1), got {holdout}")
    if part == "dev" and holdout == 0.0:
        raise ValueError("SighanCorpus: part 'dev' needs holdout > 0 (the fraction of last lines held out), got 0")
    if max_length < 0:
        raise ValueError(f"SighanCorpus: max_length must be >= 0 (0: no splitting), got {max_length}")
    if limit < 0:
        raise ValueError(f"SighanCorpus: limit must be >= 0 (0: no limit), got {limit}")


@spacy.registry.readers("spacy_crf_lr.SighanCorpus.v1")
def create_sighan_corpus(
    path: Optional[Union[str, Path]],
    max_length: int = 0,
    holdout: float = 0.0,
    part: str = "train",
    limit: int = 0,
) -> Callable[[Language], Iterator[Example]]:
    """Create a reader of Examples from a SIGHAN segmented file, holding out its last lines as "dev"."""
    _check_arguments(max_length, holdout, part, limit)
    return SighanCorpus(_check_path(path), max_length=max_length, holdout=holdout, part=part, limit=limit)
