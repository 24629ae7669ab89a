"""Segmentation on a Ray cluster with Ray Data: an actor pool that loads the model once per actor."""

import os
import re
import time
import warnings
from typing import Any, Dict, List, Optional

from ..util import check_count
from .max_length import apply_max_length
from .parallel import WorkerFailure, words_of
from .remote_files import OutputAssembler, list_inputs, output_paths, plan_chunks, read_chunk

DEFAULT_CHUNK_BYTES = 1 << 18  # input bytes per Ray Data block (~87k Chinese characters)


def _cause(error: BaseException) -> str:
    """The root cause of a Ray error in one line: the last `SomeError: message` line in the text of the error
    and its chain that is not one of Ray's own wrappers (`ray.exceptions...`), else the last line."""
    chain: List[BaseException] = []
    link: Optional[BaseException] = error
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    lines = [line.strip() for err in chain for line in str(err).splitlines() if line.strip()]
    causes = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit|Interrupt)\b[^:]*:", line)]
    own = [line for line in causes if not line.startswith("ray.")]
    return (own or causes or lines or [type(error).__name__])[-1]


class SegmentWords:
    """Ray Data actor: loads the pipeline once (its nlp.max_length set: see `apply_max_length`), then adds a
    `words` column to each batch of texts."""

    def __init__(
        self, model: str, text_column: str, batch_size: int, gpu: bool, max_length: Optional[int] = None
    ) -> None:
        import spacy

        if gpu:
            spacy.require_gpu()
        self.nlp = spacy.load(model)
        apply_max_length(self.nlp, max_length)
        self.text_column = text_column
        self.batch_size = batch_size

    def __call__(self, batch: Any) -> Any:
        import pyarrow  # type: ignore[import-untyped]

        if self.text_column not in batch.column_names:
            raise ValueError(f"no text column {self.text_column!r} in the dataset (columns: {batch.column_names})")
        texts = batch.column(self.text_column).to_pylist()
        words = words_of(self.nlp, texts, self.batch_size, first_line=None)
        return batch.append_column("words", pyarrow.array(words, type=pyarrow.list_(pyarrow.string())))


def default_num_actors(num_gpus: float = 0) -> int:
    """One actor per CPU of the connected cluster, or per GPU for GPU actors."""
    import ray

    resources = ray.cluster_resources()
    if num_gpus:
        return max(1, int(resources.get("GPU", 0) / num_gpus))
    return max(1, int(resources.get("CPU", 1)))


def segment_dataset(
    ds: Any,
    model: str,
    *,
    text_column: str = "text",
    batch_size: int = 256,
    num_actors: Optional[int] = None,
    num_gpus: float = 0,
    max_restarts: int = 3,
    max_length: Optional[int] = None,
) -> Any:
    """A ray.data.Dataset with a `words` column (list of strings per row) added to ds, from its text_column.

    Each of num_actors actors (default: one per CPU of the cluster, or per GPU with num_gpus) runs
    `spacy.load(model)` once (a path every node can read, or an installed package name), then `nlp.pipe` on
    batches of batch_size rows. An actor that dies is restarted up to max_restarts times and its batch
    retried; an actor whose model fails to load fails the job. max_length: the longest text in characters (see
    `apply_max_length`)."""
    check_count("batch_size", batch_size, 1)
    kwargs = {
        "model": model,
        "text_column": text_column,
        "batch_size": batch_size,
        "gpu": num_gpus > 0,
        "max_length": max_length,
    }
    return _map_actors(ds, SegmentWords, kwargs, batch_size, num_actors, num_gpus, max_restarts)


class SegmentChunks(SegmentWords):
    """Ray Data actor for files: reads the lines of each byte range (any pyarrow filesystem) and segments them."""

    def __init__(self, model: str, batch_size: int, gpu: bool, fs: Any, max_length: Optional[int] = None) -> None:
        super().__init__(model, "text", batch_size, gpu, max_length)
        self.fs = fs

    def __call__(self, batch: Any) -> Any:
        import pyarrow  # type: ignore[import-untyped]

        lines = [
            (chunk["file"], offset, size, text)
            for chunk in batch.to_pylist()
            for offset, size, text in read_chunk(self.fs, chunk["path"], chunk["start"], chunk["end"])
        ]
        words = words_of(self.nlp, [line[3] for line in lines], self.batch_size, first_line=None)
        columns = {name: [line[i] for line in lines] for i, name in enumerate(("file", "offset", "size"))}
        return pyarrow.table(
            {
                **{name: pyarrow.array(values, type=pyarrow.int64()) for name, values in columns.items()},
                "words": pyarrow.array(words, type=pyarrow.list_(pyarrow.string())),
            }
        )


def _map_actors(
    ds: Any,
    actor: type,
    kwargs: Dict[str, Any],
    batch_size: int,
    num_actors: Optional[int],
    num_gpus: float,
    max_restarts: int,
) -> Any:
    """ds.map_batches on a pool of num_actors actors of class actor, each restarted up to max_restarts times."""
    from ray.data import ActorPoolStrategy

    check_count("max_restarts", max_restarts, 0)
    if not isinstance(num_gpus, (int, float)) or isinstance(num_gpus, bool) or num_gpus < 0:
        raise ValueError(f"num_gpus must be a number >= 0 (GPUs per actor), got {num_gpus!r}")
    if num_actors is None:
        num_actors = default_num_actors(num_gpus)
    check_count("num_actors", num_actors, 1)
    with warnings.catch_warnings():  # Ray 2.60 has no named parameter for max_restarts / max_task_retries yet
        warnings.filterwarnings("ignore", message=".*ray_remote_args.* is deprecated")
        return ds.map_batches(
            actor,
            fn_constructor_kwargs=kwargs,
            batch_size=batch_size,
            batch_format="pyarrow",
            compute=ActorPoolStrategy(size=num_actors),
            num_cpus=1,
            num_gpus=num_gpus or None,
            max_restarts=max_restarts,
            max_task_retries=max_restarts,
        )


def segment_files(
    model: str,
    source: str,
    target: str,
    *,
    address: Optional[str] = None,
    num_actors: Optional[int] = None,
    num_gpus: float = 0,
    batch_size: int = 256,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_restarts: int = 3,
    max_length: Optional[int] = None,
) -> Dict[str, Any]:
    """Segment the file, directory or glob `source` into `target` (a file, or a directory of files with the
    same relative names) on Ray, in bakeoff format like the local engine; returns run figures.

    Without address, a local Ray is started with this machine's CPUs (unless one is running in this process);
    with it, the job joins that cluster. Each output file is written under a temporary name and renamed when
    every one of its lines is there. A failed worker raises WorkerFailure naming the cause. max_length: the
    longest line in characters (see `apply_max_length`)."""
    import ray

    if max_length is not None:
        check_count("--max-length", max_length)
    fs, files, single = list_inputs(source)
    out_fs, paths = output_paths(target, files, single)
    if resolve_same(fs, out_fs) and set(paths) & {f.path for f in files}:
        raise ValueError(f"{target}: output would overwrite an input file")
    chunks = plan_chunks(files, chunk_bytes)
    started = time.perf_counter()
    own_ray = not ray.is_initialized()
    if own_ray:
        if address:
            ray.init(address=address)
        else:
            ray.init(address="local", num_cpus=os.cpu_count())
    assembler = OutputAssembler(out_fs, files, paths)
    try:
        ray_ready = time.perf_counter()
        if chunks:
            from ray.data import DataContext

            DataContext.get_current().execution_options.preserve_order = True
            check_count("batch_size", batch_size, 1)
            ds = ray.data.from_items(chunks, override_num_blocks=len(chunks))  # one byte range per block and call
            kwargs = {"model": model, "batch_size": batch_size, "gpu": num_gpus > 0, "fs": fs, "max_length": max_length}
            ds = _map_actors(ds, SegmentChunks, kwargs, 1, num_actors, num_gpus, max_restarts)
            for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
                columns = [batch.column(name).to_pylist() for name in ("file", "offset", "size", "words")]
                for file, offset, size, words in zip(*columns):
                    assembler.add(file, offset, size, "  ".join(words))
        assembler.finish()
        finished = time.perf_counter()
    except BaseException as error:
        assembler.abort()
        if type(error).__module__.startswith("ray."):
            raise WorkerFailure(f"a Ray worker failed: {_cause(error)}") from error
        raise
    finally:
        if own_ray:
            ray.shutdown()
    return {
        "files": len(files),
        "lines": assembler.lines,
        "repeats": assembler.repeats,
        "bytes": sum(f.size for f in files),
        "start_s": ray_ready - started,
        "total_s": finished - started,
        "outputs": paths,
    }


def resolve_same(a: Any, b: Any) -> bool:
    """Whether two pyarrow filesystems are the same filesystem."""
    try:
        return bool(a.equals(b))
    except (AttributeError, TypeError):
        return False
