"""Command line interface: `python -m spacy_crf_lr COMMAND ...`."""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from .bakeoff import BakeoffScore, score_files

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
        args.json_path.write_text(json.dumps({**report, **score.to_dict()}, indent=2) + "\n", encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m spacy_crf_lr", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_score_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command in argv; bad input files exit with code 2 and a one-line message."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
