"""Command line interface: `python -m spacy_crf_lr COMMAND ...`, one module per command."""

import argparse
import signal
import sys
import threading
from typing import List, Optional

from ..run.parallel import WorkerFailure
from . import convert, ensemble, init_config, inspect, score, segment

EXIT_FAILURE = 1  # the run failed: a worker (local process or Ray actor) could not load the model, failed or died
EXIT_ERROR = 2  # bad input: a missing file, a bad option value, a damaged model
EXIT_SIGINT = 130  # 128 + SIGINT, as shells report it
EXIT_SIGTERM = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs."""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m spacy_crf_lr", description="spacy-crf-lr's commands.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (score, segment, convert, inspect, ensemble, init_config):
        command.add_parser(subparsers)
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
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except WorkerFailure as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as err:
        signal_name = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(f"{signal_name}: stopped; no partial output was written", file=sys.stderr)
        return EXIT_SIGTERM if isinstance(err, Terminated) else EXIT_SIGINT
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
