"""Segmenting many lines in worker processes that send back words, not Docs."""

from multiprocessing import Pool
from typing import Iterator, List, Sequence, Tuple

_worker_nlp = None  # the pipeline loaded by this worker process


def words_of(nlp, lines: Sequence[str], batch_size: int) -> List[List[str]]:
    """The words of each line (whitespace tokens left out)."""
    return [[t.text for t in doc if not t.is_space] for doc in nlp.pipe(lines, batch_size=batch_size)]


def _load(model: str) -> None:
    global _worker_nlp
    import spacy

    _worker_nlp = spacy.load(model)


def _words_of_chunk(chunk: Tuple[Sequence[str], int]) -> List[List[str]]:
    lines, batch_size = chunk
    return words_of(_worker_nlp, lines, batch_size)


def segment_lines(
    model: str, lines: Sequence[str], *, batch_size: int = 256, n_process: int = 1
) -> Iterator[List[str]]:
    """The words of each line, in order. With n_process > 1, each worker process loads the model
    once and returns plain word lists for batch_size lines at a time: much cheaper than spaCy's
    nlp.pipe(n_process=...), which sends every Doc back to the parent as bytes."""
    if not isinstance(n_process, int) or n_process < 1:
        raise ValueError(f"n_process must be a whole number >= 1, got {n_process!r}.")
    if n_process == 1:
        import spacy

        yield from words_of(spacy.load(model), lines, batch_size)
        return
    chunks = [(lines[i : i + batch_size], batch_size) for i in range(0, len(lines), batch_size)]
    with Pool(n_process, initializer=_load, initargs=(model,)) as pool:
        for words in pool.imap(_words_of_chunk, chunks):
            yield from words
