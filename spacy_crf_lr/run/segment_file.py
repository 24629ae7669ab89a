"""`segment` on this machine: check everything and load the model first, then write the output atomically."""

import sys
from contextlib import closing
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, TextIO

from ..cws.sighan import read_lines_and_bom, write_segmented
from ..util import FILE, check_count, check_readable, output_target
from .max_length import apply_max_length, check_line_lengths
from .model_check import check_model
from .parallel import iter_words, usable_processes, words_in_workers

PROGRESS_DELAY = 1.0  # seconds before the progress bar shows: short runs stay silent


@dataclass
class SegmentRun:
    """What a finished `segment` run did."""

    lines: int
    n_process: int


def check_settings(batch_size: int, n_process: int, gpu_id: int, max_length: Optional[int] = None) -> None:
    """Raise a ValueError naming the first bad setting."""
    check_count("--batch-size", batch_size)
    check_count("--n-process", n_process)
    if max_length is not None:
        check_count("--max-length", max_length)
    if gpu_id < -1:
        raise ValueError(f"--gpu-id must be a GPU number >= 0, or -1 for the CPU, got {gpu_id}.")
    if gpu_id >= 0 and n_process > 1:
        raise ValueError(f"--n-process {n_process} runs on the CPU: use one process with --gpu-id.")


def check_paths(input_path: Path, output_path: Path) -> None:
    """Raise a ValueError if the input cannot be read, the output cannot be written, or would replace the input."""
    check_readable(input_path)
    target, how = output_target(output_path)
    if how == FILE and target.exists() and str(input_path) != "-" and target.samefile(input_path):
        raise ValueError(f"{output_path}: the output would replace the input; give another file name")


def peeked(words: Iterator[List[str]]) -> Iterator[List[str]]:
    """The same words, with the first line's already computed, so that a model that fails does so now."""
    first = next(words, None)
    return words if first is None else chain([first], words)


def with_progress(
    words: Iterable[List[str]], lines: Sequence[str], *, enabled: bool, stream: Optional[TextIO] = None
) -> Iterator[List[str]]:
    """The same words, one list per line, advancing a progress bar (characters done) on stream, by default
    stderr: shown only if enabled, stream is a terminal and the run lasts over PROGRESS_DELAY seconds.
    Raises a RuntimeError, before the output is complete, if there is not one word list per line."""
    from tqdm import tqdm

    stream = sys.stderr if stream is None else stream
    show = enabled and stream.isatty()
    total = sum(map(len, lines))
    words = iter(words)
    with tqdm(
        total=total, unit="char", unit_scale=True, desc="segment", file=stream, disable=not show, delay=PROGRESS_DELAY
    ) as bar:
        for number, line in enumerate(lines, start=1):
            line_words = next(words, None)
            if line_words is None:
                raise RuntimeError(f"segmentation stopped after {number - 1} of {len(lines)} lines")
            yield line_words
            bar.update(len(line))
    if next(words, None) is not None:
        raise RuntimeError(f"segmentation gave more results than the {len(lines)} input lines")


def segment_file(
    model: str,
    input_path: Path,
    output_path: Path,
    *,
    batch_size: int = 256,
    n_process: int = 1,
    gpu_id: int = -1,
    progress: bool = True,
    max_length: Optional[int] = None,
) -> SegmentRun:
    """Segment input_path line by line into output_path (bakeoff format; a BOM kept if the input had one).
    All checks and the model load come before any writing, and output_path appears only when complete.
    max_length: the longest line in characters (see `apply_max_length`); a longer line is refused before any
    segmentation, naming it."""
    check_settings(batch_size, n_process, gpu_id, max_length)
    check_paths(input_path, output_path)
    lines, bom = read_lines_and_bom(input_path)
    check_model(model)
    n_process = usable_processes(n_process, len(lines), batch_size)
    if n_process == 1:
        import spacy

        if gpu_id >= 0:
            spacy.require_gpu(gpu_id)
        nlp = spacy.load(model)
        check_line_lengths(lines, apply_max_length(nlp, max_length))
        words = iter_words(nlp, lines, batch_size)
    else:
        words = words_in_workers(model, lines, batch_size, n_process, max_length)
    with closing(words):
        write_segmented(output_path, with_progress(peeked(words), lines, enabled=progress), bom=bom)
    return SegmentRun(lines=len(lines), n_process=n_process)
