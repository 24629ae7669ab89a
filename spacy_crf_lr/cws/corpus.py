"""`spacy_crf_lr.SighanCorpus.v1`: a spaCy corpus reader of SIGHAN bakeoff files, with a dev holdout."""

from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..util import PathLike
from .partial import UNKNOWN_SPANS, parse_unknown
from .sighan import PARTS, read_lines, read_segmented, select_lines, split_sentence
from .whitespace import split_words


def make_example(nlp: Language, words: Sequence[str]) -> Example:
    """Build an Example: predicted is nlp.make_doc of the joined text, reference has the gold words
    (and the {{unknown}} stretches of a partially segmented line as the span group UNKNOWN_SPANS)."""
    words, unknown = parse_unknown(words)
    reference = Doc(nlp.vocab, words=list(words), spaces=[False] * len(words))
    if unknown:
        reference.spans[UNKNOWN_SPANS] = [reference[i : i + 1] for i in unknown]
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
    if Path(path).is_dir():
        raise ValueError(f"SighanCorpus: {path} is a directory, not a file; {hint} to a SIGHAN segmented file")
    if not Path(path).is_file():
        raise ValueError(f"SighanCorpus: file not found: {path}; {hint} to an existing SIGHAN segmented file")
    return Path(path)


_HOLDOUT_HINTS = {
    "dev": "raise holdout (to at least {least:.2g}), or read a separate dev file with part 'all'",
    "train": "lower holdout",
}


def _check_not_empty(path: Path, holdout: float, part: str) -> None:
    """Raise a ValueError naming the file and settings if the selected part has no words: reading the file
    here, when the config is resolved, stops a run before training instead of scoring 0.00 throughout."""
    lines = read_lines(path)
    selected = select_lines(len(lines), holdout, part)
    if any(split_words(lines[index]) for index in selected):
        return
    if not any(map(split_words, lines)):
        what = f"its {len(lines)} lines are all blank" if lines else "the file is empty"
        raise ValueError(f"SighanCorpus: {path} has no words ({what}); point the corpus at a segmented file")
    raise ValueError(
        f"SighanCorpus: part {part!r} of {path} is empty: holdout = {holdout} of its {len(lines)} lines selects "
        f"{len(selected)} lines, none with words; {_HOLDOUT_HINTS[part].format(least=1 / len(lines))}"
    )


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
    path = _check_path(path)
    _check_not_empty(path, holdout, part)
    return SighanCorpus(path, max_length=max_length, holdout=holdout, part=part, limit=limit)
