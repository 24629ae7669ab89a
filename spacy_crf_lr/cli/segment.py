"""`segment MODEL INPUT OUTPUT`: segment a text file with a trained pipeline, here or on Ray."""

import argparse
import sys
from pathlib import Path
from types import ModuleType

ENGINES = ("local", "ray")
RAY_INSTALL = "pip install 'spacy-crf-lr[ray]'"  # what --engine ray needs beyond the base install


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `segment MODEL INPUT OUTPUT` subcommand."""
    parser = subparsers.add_parser("segment", help="segment a text file with a trained pipeline, in bakeoff format")
    parser.add_argument("model", help="a trained pipeline (directory or installed package name)")
    parser.add_argument(
        "input", help="UTF-8 text, one sentence per line; '-': stdin (--engine ray: also a directory or a glob)"
    )
    parser.add_argument(
        "output", help="words joined by two spaces, one line per input line; '-': stdout (ray: or a directory)"
    )
    parser.add_argument("--batch-size", type=int, default=256, help="lines per batch (>= 1)")
    parser.add_argument(
        "--n-process",
        type=int,
        default=1,
        help="worker processes (CPU only), each loading the model; capped at the CPUs and the batches of work",
    )
    parser.add_argument("--gpu-id", type=int, default=-1, help="GPU to use; -1 for CPU")
    parser.add_argument(
        "--max-length",
        type=int,
        help="the longest line in characters (spaCy's nlp.max_length); default: no limit for a pipeline whose "
        "tokenizer is spacy_crf_lr.CharTokenizer.v1, else the model's own (spaCy's 1,000,000)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no messages, only errors")
    parser.add_argument("--engine", choices=ENGINES, default="local", help="local processes, or actors on Ray")
    parser.add_argument("--address", help="ray: the cluster to join (default: start a local Ray with all CPUs)")
    parser.add_argument("--num-actors", type=int, help="ray: actors, each loading the model (default: one per CPU)")
    parser.add_argument("--num-gpus", type=float, default=0, help="ray: GPUs per actor (e.g. 1 for transformers)")
    parser.set_defaults(func=dispatch_segment)


def dispatch_segment(args: argparse.Namespace) -> int:
    """Run `segment` with the engine args.engine, refusing the other engine's options."""
    if args.engine == "ray":
        return run_segment_ray(args)
    for option, value in (("--address", args.address), ("--num-actors", args.num_actors)):
        if value is not None:
            raise ValueError(f"{option} is for --engine ray, not --engine {args.engine}")
    if args.num_gpus:
        raise ValueError(f"--num-gpus is for --engine ray, not --engine {args.engine}: use --gpu-id")
    args.input, args.output = Path(args.input), Path(args.output)  # kept as text for URIs (Path folds s3://)
    return run_segment_locally(args)


def import_ray_engine() -> ModuleType:
    """The Ray engine (run/ray_engine.py) with Ray Data; a ValueError naming the extra to install if a module it
    needs (ray, pyarrow, ...) is missing."""
    try:
        import ray.data  # noqa: F401  (imported by the engine only when it runs)

        from ..run import ray_engine
    except ModuleNotFoundError as err:
        raise ValueError(f"--engine ray needs the [ray] extra (no module named {err.name!r}): {RAY_INSTALL}") from None
    return ray_engine


def run_segment_ray(args: argparse.Namespace) -> int:
    """Segment args.input (file, directory or glob) into args.output with actors on a Ray cluster."""
    if args.n_process != 1 or args.gpu_id >= 0:
        raise ValueError("--n-process and --gpu-id are for --engine local: use --num-actors and --num-gpus")
    if "-" in (args.input, args.output):
        raise ValueError("'-' (stdin or stdout) is for --engine local: give --engine ray files or directories")
    run = import_ray_engine().segment_files(
        args.model,
        args.input,
        args.output,
        address=args.address,
        num_actors=args.num_actors,
        num_gpus=args.num_gpus,
        batch_size=args.batch_size,
        max_length=args.max_length,
    )
    target = args.output if run["files"] > 1 else run["outputs"][0]
    print(
        f"segmented {run['lines']} lines of {run['files']} file(s) of {args.input} into {target} on Ray"
        f" in {run['total_s']:.1f} s (Ray start-up {run['start_s']:.1f} s)",
        file=sys.stderr,
    )
    return 0


def run_segment_locally(args: argparse.Namespace) -> int:
    """Segment on this machine, in this process or --n-process workers; OUTPUT appears only when complete."""
    from ..run.segment_file import segment_file

    done = segment_file(
        args.model,
        args.input,
        args.output,
        batch_size=args.batch_size,
        n_process=args.n_process,
        gpu_id=args.gpu_id,
        progress=not args.quiet,
        max_length=args.max_length,
    )
    if not args.quiet:
        if done.n_process < args.n_process:
            print(
                f"note: used {done.n_process} worker process(es), not {args.n_process}: "
                "capped at the CPUs and the batches of work",
                file=sys.stderr,
            )
        print(f"segmented {done.lines} lines of {args.input} into {args.output}", file=sys.stderr)
    return 0
