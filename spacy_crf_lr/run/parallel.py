"""Segmenting many lines, here or in worker processes that send back words, not Docs; a failed worker ends the run."""

import multiprocessing
import os
import signal
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, Deque, Generator, Iterator, List, Optional, Sequence, Tuple, Union

from threadpoolctl import threadpool_limits

from ..cws.whitespace import split_words
from ..util import check_count
from .max_length import apply_max_length, check_line_lengths

if TYPE_CHECKING:
    from spacy.language import Language

Pipeline = Union[str, Path, "Language"]  # a pipeline's directory or package name, or a loaded pipeline

CHUNKS_PER_WORKER = 2  # chunks queued per worker: enough to keep it busy, few enough to bound memory
MIN_CHUNK = 16  # lines: the smallest chunk, handed out last
PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for this process when its parent dies
WORKER_DIED = "a worker process died (killed, or out of memory?); the run was stopped"

_worker_nlp = None  # the pipeline of this worker process
_worker_error: Optional[str] = None  # why this worker could not load the pipeline


class WorkerFailure(RuntimeError):
    """A worker (a local process or a Ray actor or task) could not load the model, failed on its lines, or died;
    the message names the cause. The command line reports it in one line and exits with EXIT_FAILURE."""


def _batch_words(nlp, lines: Sequence[str]) -> List[List[str]]:
    """The words of each line: token texts split on separators, so whitespace is left out and nothing else.
    The lines run through nlp in one memory zone (unless the caller has one open: zones do not nest), so the
    strings and lexemes of their Docs leave the vocab afterwards; only plain strings come out of the zone."""
    zone = nullcontext() if nlp.vocab.in_memory_zone else nlp.memory_zone()
    with zone:
        return [
            [word for token in doc for word in split_words(token.text)]
            for doc in nlp.pipe(lines, batch_size=len(lines))
        ]


def iter_words(
    nlp, lines: Sequence[str], batch_size: int, first_line: Optional[int] = 1
) -> Generator[List[str], None, None]:
    """The words of each line (whitespace left out), batch_size lines at a time, each batch in its own memory
    zone: the vocab's strings do not grow with the lines (without zones they gain every new word). A line longer
    than nlp.max_length is refused first, naming its number (counted from first_line)."""
    check_line_lengths(lines, nlp.max_length, first_line)
    for start in range(0, len(lines), batch_size):
        yield from _batch_words(nlp, lines[start : start + batch_size])


def words_of(nlp, lines: Sequence[str], batch_size: int, first_line: Optional[int] = 1) -> List[List[str]]:
    """The words of each line (whitespace left out), as a list."""
    return list(iter_words(nlp, lines, batch_size, first_line))


def available_cpus() -> int:
    """The number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def usable_processes(n_process: int, n_lines: int, batch_size: int) -> int:
    """n_process capped at the CPUs and at the number of batches of work (at least 1)."""
    n_batches = -(-n_lines // batch_size)
    return max(1, min(n_process, available_cpus(), n_batches))


def _die_with_parent(parent: int) -> None:
    """On Linux, have the kernel kill this worker when the parent dies; exit now if it already has."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def fork_context() -> Optional[BaseContext]:
    """Where processes fork (Linux): workers then inherit the parent's loaded pipeline instead of loading their own.
    Elsewhere None, the platform's default start method (fork is unsafe on macOS and absent on Windows)."""
    return multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None


def _load(model: Pipeline, max_length: Optional[int]) -> "Language":
    """The pipeline itself, loaded from its path or package name if not loaded yet, its nlp.max_length set
    (see `apply_max_length`)."""
    if isinstance(model, (str, Path)):
        import spacy

        model = spacy.load(model)
    apply_max_length(model, max_length)
    return model


def _init_worker(model: Pipeline, parent: int, max_length: Optional[int] = None) -> None:
    """Take the pipeline inherited from the parent, or load it once per worker from its path or name. A failure
    is kept and reported with the first chunk: an initializer that raises only breaks the pool, and the cause
    would be lost."""
    global _worker_nlp, _worker_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent ends the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler, inherited by fork, is not for workers
    _die_with_parent(parent)
    try:
        _worker_nlp = _load(model, max_length)
    except Exception as err:
        _worker_error = f"{type(err).__name__}: {err}"
    # One BLAS thread a worker (the workers already share out the CPUs; more only spin). After the imports:
    # threadpoolctl limits the libraries loaded so far.
    threadpool_limits(1)


def _words_of_chunk(lines: Sequence[str], batch_size: int, first_line: int) -> List[List[str]]:
    """The words of a chunk of lines (the first is line number first_line), in a worker."""
    if _worker_error is not None:
        raise WorkerFailure(f"a worker process could not load the model: {_worker_error}")
    return words_of(_worker_nlp, lines, batch_size, first_line)


def _submit(executor: ProcessPoolExecutor, lines: Sequence[str], batch_size: int, first_line: int = 1) -> Future:
    """Queue a chunk of lines (the first is line number first_line); a pool that a dead worker broke is a
    WorkerFailure, as in _result."""
    try:
        return executor.submit(_words_of_chunk, lines, batch_size, first_line)
    except BrokenProcessPool:
        raise WorkerFailure(WORKER_DIED) from None


def _result(future: Future) -> List[List[str]]:
    """A chunk's words, or a WorkerFailure naming why the worker failed."""
    try:
        return future.result()
    except WorkerFailure:
        raise
    except BrokenProcessPool:
        raise WorkerFailure(WORKER_DIED) from None
    except Exception as err:
        raise WorkerFailure(f"a worker process failed: {type(err).__name__}: {err}") from None


def _stop(executor: ProcessPoolExecutor) -> None:
    """Cancel queued chunks and end the workers now, without waiting for their current chunk."""
    # Private: ProcessPoolExecutor offers no public handle on its workers, and shutdown() would wait for the
    # chunk each is on. tests/test_architecture.py fails loudly if an upgrade removes `_processes`.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    executor.shutdown(wait=True)


def chunk_spans(n_lines: int, batch_size: int, n_process: int) -> Iterator[Tuple[int, int]]:
    """(start, end) of the successive chunks of lines for the workers: batch_size lines, then smaller ones
    towards the end (what is left shared among the chunks queued, at least MIN_CHUNK lines), so that the
    workers finish together instead of one waiting for the other's last full chunk."""
    start = 0
    while start < n_lines:
        left_per_chunk = -(-(n_lines - start) // (CHUNKS_PER_WORKER * n_process))
        end = min(n_lines, start + min(batch_size, max(MIN_CHUNK, left_per_chunk)))
        yield start, end
        start = end


def words_in_workers(
    model: Pipeline, lines: Sequence[str], batch_size: int, n_process: int, max_length: Optional[int] = None
) -> Generator[List[str], None, None]:
    """The words of each line, in order, from n_process workers that get batch_size lines at a time. Where
    processes fork, the pipeline is loaded here (if given by path or name) and the workers inherit it; elsewhere
    each worker loads it from its path or name. Any worker failure raises a WorkerFailure at once; closing the
    generator (or an interruption) cancels the rest and ends the workers. max_length: see `apply_max_length`
    (where processes fork, a line longer than it is refused here, before any worker starts)."""
    context = fork_context()
    if context is not None:
        model = _load(model, max_length)
        check_line_lengths(lines, model.max_length)
    elif not isinstance(model, (str, Path)):
        raise ValueError(
            f"a loaded pipeline can be shared with worker processes only where they fork (Linux), not on "
            f"{sys.platform}: give its directory or package name instead"
        )
    executor = ProcessPoolExecutor(
        n_process, mp_context=context, initializer=_init_worker, initargs=(model, os.getpid(), max_length)
    )
    spans = chunk_spans(len(lines), batch_size, n_process)
    pending: Deque[Future] = deque()
    finished = False
    try:
        for start, end in spans:
            pending.append(_submit(executor, lines[start:end], batch_size, start + 1))
            if len(pending) == CHUNKS_PER_WORKER * n_process:
                break
        while pending:
            words = _result(pending.popleft())
            following = next(spans, None)
            if following is not None:
                start, end = following
                pending.append(_submit(executor, lines[start:end], batch_size, start + 1))
            yield from words
        finished = True
    finally:
        if finished:
            executor.shutdown(wait=True)
        else:
            _stop(executor)


def segment_lines(
    model: Pipeline,
    lines: Sequence[str],
    *,
    batch_size: int = 256,
    n_process: int = 1,
    max_length: Optional[int] = None,
) -> Iterator[List[str]]:
    """The words of each line, in order; model is a loaded pipeline or its directory or package name. With
    n_process > 1 (capped at the CPUs and the batches of work), worker processes (forked from this one where the
    platform allows, so the model is loaded once) return plain word lists for batch_size lines at a time: much
    cheaper than spaCy's nlp.pipe(n_process=...), which sends every Doc back as bytes. max_length: the longest
    line in characters (nlp.max_length, set on the pipeline); None: no limit for a pipeline with
    spacy_crf_lr.CharTokenizer.v1, else the model's own (see `apply_max_length`)."""
    check_count("batch_size", batch_size)
    check_count("n_process", n_process)
    n_process = usable_processes(n_process, len(lines), batch_size)
    if n_process == 1:
        yield from iter_words(_load(model, max_length), lines, batch_size)
        return
    yield from words_in_workers(model, lines, batch_size, n_process, max_length)
