"""Command line interface: `python -m spacy_crf_lr COMMAND ...`."""

import argparse
import json
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import List, Optional

from .cws.atomic import atomic_write
from .cws.bakeoff import BakeoffScore, score_files
from .cws.parallel import WorkerError
from .recipes import add_init_config_parser

EXIT_ERROR = 2
EXIT_SIGINT = 130  # 128 + SIGINT, as shells report it
EXIT_SIGTERM = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs."""


ENGINES = ("local", "ray")


def add_segment_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `segment MODEL INPUT OUTPUT` subcommand."""
    parser = subparsers.add_parser("segment", help="segment a text file with a trained pipeline, in bakeoff format")
    parser.add_argument("model", help="a trained pipeline (directory or installed package name)")
    parser.add_argument("input", help="UTF-8 text, one sentence per line (--engine ray: also a directory or a glob)")
    parser.add_argument("output", help="words joined by two spaces, one line per input line (ray: or a directory)")
    parser.add_argument("--batch-size", type=int, default=256, help="lines per batch (>= 1)")
    parser.add_argument(
        "--n-process",
        type=int,
        default=1,
        help="worker processes (CPU only), each loading the model; capped at the CPUs and the batches of work",
    )
    parser.add_argument("--gpu-id", type=int, default=-1, help="GPU to use; -1 for CPU")
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


def run_segment_ray(args: argparse.Namespace) -> int:
    """Segment args.input (file, directory or glob) into args.output with actors on a Ray cluster."""
    from .cws.ray_engine import WorkerFailure, segment_files

    if args.n_process != 1 or args.gpu_id >= 0:
        raise ValueError("--n-process and --gpu-id are for --engine local: use --num-actors and --num-gpus")
    try:
        run = segment_files(
            args.model,
            args.input,
            args.output,
            address=args.address,
            num_actors=args.num_actors,
            num_gpus=args.num_gpus,
            batch_size=args.batch_size,
        )
    except WorkerFailure as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    target = args.output if run["files"] > 1 else run["outputs"][0]
    print(
        f"segmented {run['lines']} lines of {run['files']} file(s) of {args.input} into {target} on Ray"
        f" in {run['total_s']:.1f} s (Ray start-up {run['start_s']:.1f} s)"
    )
    return 0


def run_segment_locally(args: argparse.Namespace) -> int:
    """Segment on this machine, in this process or --n-process workers; OUTPUT appears only when complete."""
    from .cws.segment_file import segment_file

    done = segment_file(
        args.model,
        args.input,
        args.output,
        batch_size=args.batch_size,
        n_process=args.n_process,
        gpu_id=args.gpu_id,
        progress=not args.quiet,
    )
    if not args.quiet:
        if done.n_process < args.n_process:
            print(
                f"note: used {done.n_process} worker process(es), not {args.n_process}: "
                "capped at the CPUs and the batches of work",
                file=sys.stderr,
            )
        print(f"segmented {done.lines} lines of {args.input} into {args.output}")
    return 0


def add_score_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `score GOLD PRED [--words WORDS] [--json OUT]` subcommand."""
    parser = subparsers.add_parser(
        "score", help="score a segmented file against the gold with the SIGHAN bakeoff measures"
    )
    parser.add_argument("gold", type=Path, help="gold segmentation (words separated by spaces)")
    parser.add_argument("pred", type=Path, help="predicted segmentation, one line per gold line")
    parser.add_argument("--words", type=Path, help="training word list, for OOV rate and OOV/IV recall")
    parser.add_argument("--json", type=Path, dest="json_path", metavar="OUT.json", help="also write the scores here")
    parser.set_defaults(func=run_score)


def format_score(score: BakeoffScore) -> str:
    """Render the scores as an aligned text table."""
    rows = [
        ("precision", score.precision, f"{score.correct} / {score.pred_words}"),
        ("recall", score.recall, f"{score.correct} / {score.gold_words}"),
        ("F", score.f, ""),
        ("OOV rate", score.oov_rate, f"{score.oov_words} / {score.gold_words}"),
        ("OOV recall", score.oov_recall, f"{score.oov_correct} / {score.oov_words}"),
        ("IV recall", score.iv_recall, f"{score.iv_correct} / {score.iv_words}"),
    ]
    lines = [f"{'measure':<12}{'value':>7}   count"]
    for name, value, count in rows:
        if value is None:
            lines.append(f"{name:<12}{'n/a':>7}   (needs --words)")
        else:
            lines.append(f"{name:<12}{value:>7.3f}   {count}".rstrip())
    return "\n".join(lines)


def run_score(args: argparse.Namespace) -> int:
    """Score args.pred against args.gold, print the table and optionally write JSON."""
    score = score_files(args.gold, args.pred, args.words)
    print(format_score(score))
    if args.json_path is not None:
        report = {"gold": str(args.gold), "pred": str(args.pred), "words": str(args.words) if args.words else None}
        with atomic_write(args.json_path, "w", encoding="utf-8") as file:
            file.write(json.dumps({**report, **score.to_dict()}, indent=2) + "\n")
    return 0


def add_convert_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `convert INPUT OUTPUT.spacy` subcommand."""
    parser = subparsers.add_parser("convert", help="convert a segmented bakeoff file to spaCy's .spacy format")
    parser.add_argument("input", type=Path, help="segmented file: words separated by spaces")
    parser.add_argument("output", type=Path, help="the .spacy file to write")
    parser.add_argument("--holdout", type=float, default=0.0, help="share of last lines held out as dev")
    parser.add_argument("--part", default="all", help="train, dev or all")
    parser.add_argument("--max-length", type=int, default=0, help="split lines longer than this (0: never)")
    parser.set_defaults(func=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    """Write the selected sentences of args.input as reference Docs to args.output."""
    import spacy
    from spacy.tokens import DocBin

    from .cws.corpus import create_sighan_corpus
    from .cws.sighan import check_readable

    check_readable(args.input)
    corpus = create_sighan_corpus(args.input, max_length=args.max_length, holdout=args.holdout, part=args.part)
    nlp = spacy.blank("zh")
    docs = [eg.reference for eg in corpus(nlp)]
    if not docs:
        raise ValueError(f"{args.input}: no sentences to convert (part {args.part!r}, holdout {args.holdout})")
    with atomic_write(args.output, "wb") as file:
        file.write(DocBin(docs=docs).to_bytes())
    print(f"wrote {len(docs)} docs from {args.input} to {args.output}")
    return 0


def add_ensemble_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `ensemble OUTPUT MODEL MODEL [MODEL ...]` subcommand."""
    parser = subparsers.add_parser(
        "ensemble", help="save one pipeline that averages the CRF scores of several trained ones (e.g. seeds)"
    )
    parser.add_argument("output", type=Path, help="the pipeline directory to write (must not exist)")
    parser.add_argument("models", nargs="+", help="trained pipelines (directories or package names), 2 or more")
    parser.add_argument("--component", default="crf_segmenter", help="the CRF component to ensemble")
    parser.set_defaults(func=run_ensemble)


def run_ensemble(args: argparse.Namespace) -> int:
    """Load args.models, ensemble their component and save the pipeline to args.output, complete or not at all."""
    import spacy

    from .pipeline.ensemble import ensemble_pipeline

    if len(args.models) < 2:
        raise ValueError(f"an ensemble needs at least 2 trained pipelines, got {len(args.models)}")
    if args.output.exists():
        raise ValueError(f"{args.output}: exists; give a new directory to write the ensemble to")
    if not args.output.parent.is_dir():
        raise ValueError(f"{args.output}: folder {args.output.parent} does not exist")
    nlp = ensemble_pipeline([spacy.load(model) for model in args.models], args.component)
    temp = Path(tempfile.mkdtemp(dir=args.output.parent, prefix=f".{args.output.name}.", suffix=".part"))
    try:
        nlp.to_disk(temp)
        temp.rename(args.output)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    print(f"wrote the ensemble of {len(args.models)} pipelines to {args.output}")
    return 0


def add_inspect_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `inspect MODEL [--component NAME] [--plot FILE.png]` subcommand."""
    parser = subparsers.add_parser(
        "inspect", help="print the learned CRF transition, start and end scores of a trained pipeline"
    )
    parser.add_argument("model", help="a trained pipeline (directory or installed package name)")
    parser.add_argument("--component", help="the CRF component to inspect (default: all of them)")
    parser.add_argument(
        "--plot", type=Path, metavar="FILE.png", help="also write a heatmap of the transitions (needs matplotlib)"
    )
    parser.set_defaults(func=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    """Print each CRF component's learned scores and sanity; optionally plot the transitions."""
    import numpy
    import spacy

    from .crf.diagnostics import describe
    from .pipeline.base import CRFPipe

    nlp = spacy.load(args.model)
    crfs = [(name, proc) for name, proc in nlp.pipeline if isinstance(proc, CRFPipe)]
    if args.component is not None:
        crfs = [(name, proc) for name, proc in crfs if name == args.component]
    if not crfs:
        what = f"no CRF component named {args.component!r}" if args.component else "no CRF component"
        raise ValueError(f"{args.model}: {what} (pipeline: {nlp.pipe_names})")
    panels = []
    for name, proc in crfs:
        transitions, start, end = (numpy.asarray(a, dtype="float64") for a in proc.crf_scores())
        text, sanity, scheme = describe(proc.labels, transitions, start, end, proc.cfg.get("scheme"))
        print(f"== {name} (decoder {proc.cfg.get('decoder')}, scheme {proc.cfg.get('scheme')}) ==")
        print(text)
        print()
        panels.append((name, list(proc.labels), transitions, sanity, scheme))
    if args.plot is not None:
        try:
            _plot_heatmaps(panels, args.plot)
        except ImportError:
            print("error: --plot needs matplotlib: pip install 'spacy-crf-lr[plot]'", file=sys.stderr)
            return 2
        print(f"wrote {args.plot}")
    return 0


def _plot_heatmaps(panels, path: Path) -> None:
    """One transition heatmap per component; moves the scheme forbids are outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy

    from .crf.schemes import constraint_masks

    fig, axes = plt.subplots(
        1, len(panels), figsize=(1.2 + 1.1 * max(len(p[1]) for p in panels) * len(panels), 4.5), squeeze=False
    )
    for ax, (name, labels, transitions, sanity, scheme) in zip(axes[0], panels):
        limit = float(numpy.abs(transitions).max()) or 1.0
        image = ax.imshow(transitions, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        forbidden = ~constraint_masks(scheme, tuple(labels))[0] if scheme else numpy.zeros(transitions.shape, bool)
        for i in range(len(labels)):
            for j in range(len(labels)):
                dark = abs(transitions[i, j]) > 0.6 * limit
                ax.text(
                    j,
                    i,
                    f"{transitions[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
                if forbidden[i, j]:
                    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linestyle="--"))
        title = name if sanity is None else f"{name}: sanity {sanity:.2f} ({scheme}; dashed = impossible)"
        ax.set_title(title, fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m spacy_crf_lr", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_score_parser(subparsers)
    add_segment_parser(subparsers)
    add_convert_parser(subparsers)
    add_inspect_parser(subparsers)
    add_ensemble_parser(subparsers)
    add_init_config_parser(subparsers)
    return parser


def _raise_terminated(signum: int, frame) -> None:
    """SIGTERM handler: unwind like Ctrl-C."""
    raise Terminated()


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command in argv. Bad input exits with code 2 and a one-line message; Ctrl-C with 130 and
    SIGTERM with 143, each with a one-line message and without leaving a partial output file."""
    args = build_parser().parse_args(argv)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if on_main_thread else None
    try:
        return args.func(args)
    except (ValueError, OSError, WorkerError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as err:
        signal_name = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(f"{signal_name}: stopped; no partial output was written", file=sys.stderr)
        return EXIT_SIGTERM if isinstance(err, Terminated) else EXIT_SIGINT
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
