"""`score GOLD PRED`: the SIGHAN bakeoff measures of a segmented file."""

import argparse
import json
import sys
from pathlib import Path

from ..cws.bakeoff import BakeoffScore, score_files
from ..util import STDIO, check_writable, open_output


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `score GOLD PRED [--words WORDS] [--json OUT]` subcommand."""
    parser = subparsers.add_parser(
        "score", help="score a segmented file against the gold with the SIGHAN bakeoff measures"
    )
    parser.add_argument("gold", type=Path, help="gold segmentation (words separated by spaces)")
    parser.add_argument("pred", type=Path, help="predicted segmentation, one line per gold line")
    parser.add_argument("--words", type=Path, help="training word list, for OOV rate and OOV/IV recall")
    parser.add_argument(
        "--json",
        type=Path,
        dest="json_path",
        metavar="OUT.json",
        help="also write the scores here ('-': stdout, the table then goes to stderr)",
    )
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
    if str(args.gold) == str(args.pred) == STDIO:
        raise ValueError("GOLD and PRED cannot both be '-' (stdin is read once)")
    if args.json_path is not None:
        check_writable(args.json_path)
    score = score_files(args.gold, args.pred, args.words)
    to_stdout = args.json_path is None or str(args.json_path) != STDIO
    print(format_score(score), file=sys.stdout if to_stdout else sys.stderr)
    if args.json_path is not None:
        report = {"gold": str(args.gold), "pred": str(args.pred), "words": str(args.words) if args.words else None}
        with open_output(args.json_path, "w", encoding="utf-8") as file:
            file.write(json.dumps({**report, **score.to_dict()}, indent=2) + "\n")
    return 0
