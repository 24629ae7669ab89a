"""Read and write SIGHAN bakeoff segmentation files, and split them into training chunks (no spaCy).
Words are separated by runs of whitespace as .whitespace defines it (str.isspace)."""

from typing import Iterable, List, Optional, Sequence, Set, Tuple

from ..util import PathLike, open_output, read_input_bytes
from .whitespace import split_words, strip_separators

# A chunk may end right after a word ending in one of these marks.
PUNCTUATION = frozenset("。，！？；：、,.!?;:．…｡､﹐﹑﹒﹔﹕﹖﹗")
PARTS = ("train", "dev", "all")
BOM = "\ufeff"  # at the start of a file: the encoding's byte order mark, not text


def read_text(path: PathLike) -> str:
    """Read a UTF-8 file ('-': stdin); a ValueError names the file (and line, on bad UTF-8) when it cannot be read."""
    data = read_input_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ValueError(f"{path}: line {line}: invalid UTF-8 ({err.reason} at byte {err.start})") from None


def read_lines_and_bom(path: PathLike) -> Tuple[List[str], bool]:
    """Read a UTF-8 file into lines without their LF/CRLF endings, and whether it began with a BOM
    (U+FEFF, the encoding's mark: not part of the first line). A CR anywhere else (a CR-only line end, as in
    old Mac files) is refused with a ValueError naming the file and line."""
    text = read_text(path)
    bom = text.startswith(BOM)
    lines = text[1 if bom else 0 :].split("\n")
    last = lines.pop()  # what follows the last LF: nothing, or a last line without one
    lines = [line[:-1] if line.endswith("\r") else line for line in lines] + ([last] if last else [])
    for number, line in enumerate(lines, start=1):
        if "\r" in line:
            raise ValueError(lone_cr_error(path, f"line {number}"))
    return lines, bom


def lone_cr_error(path: PathLike, where: str) -> str:
    """The message for a CR that does not end a line before LF, at `where` (a line or byte) of path."""
    return (
        f"{path}: {where}: a CR that is not followed by LF (CR-only line ends, as in old Mac files?);"
        " lines must end with LF or CRLF (convert with: tr '\\r' '\\n')"
    )


def read_lines(path: PathLike) -> List[str]:
    """Read a UTF-8 file (a leading BOM is dropped) into lines without their LF/CRLF endings."""
    return read_lines_and_bom(path)[0]


def read_segmented(path: PathLike) -> List[List[str]]:
    """Read a segmented file into one word list per line; empty lines give empty lists."""
    return [split_words(line) for line in read_lines(path)]


def read_word_list(path: PathLike) -> Set[str]:
    """Read a training word list (one word per line, surrounding whitespace ignored)."""
    return {word for word in (strip_separators(line) for line in read_lines(path)) if word}


def write_segmented(path: PathLike, sentences: Iterable[Sequence[str]], *, bom: bool = False) -> int:
    """Write one line per sentence, words joined by two spaces, with LF line endings (and a leading BOM
    if bom); the file appears only when complete. Return the number of lines written."""
    count = 0
    with open_output(path, "w", encoding="utf-8", newline="\n") as file:
        file.write(BOM if bom else "")  # written even when there are no lines
        for words in sentences:
            file.write("  ".join(words) + "\n")
            count += 1
    return count


def _cut_point(words: Sequence[str], start: int, max_length: int) -> int:
    """End index of the chunk starting at `start`: after the last punctuation that fits, else the last fitting word."""
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
