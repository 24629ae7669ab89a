"""`convert INPUT OUTPUT.spacy`: a segmented bakeoff file as spaCy's training data."""

import argparse
import sys
from pathlib import Path

from ..util import STDIO, check_readable, check_writable, open_output


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `convert INPUT OUTPUT.spacy` subcommand."""
    parser = subparsers.add_parser("convert", help="convert a segmented bakeoff file to spaCy's .spacy format")
    parser.add_argument("input", type=Path, help="segmented file: words separated by spaces")
    parser.add_argument("output", type=Path, help="the .spacy file to write ('-': stdout)")
    parser.add_argument("--holdout", type=float, default=0.0, help="share of last lines held out as dev")
    parser.add_argument("--part", default="all", help="train, dev or all")
    parser.add_argument("--max-length", type=int, default=0, help="split lines longer than this (0: never)")
    parser.set_defaults(func=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    """Write the selected sentences of args.input as reference Docs to args.output."""
    import spacy
    from spacy.tokens import DocBin

    from ..cws.corpus import create_sighan_corpus

    if str(args.input) == STDIO:
        raise ValueError("convert reads INPUT more than once: give a file, not '-'")
    check_readable(args.input)
    check_writable(args.output)
    corpus = create_sighan_corpus(args.input, max_length=args.max_length, holdout=args.holdout, part=args.part)
    nlp = spacy.blank("zh")
    docs = [eg.reference for eg in corpus(nlp)]
    if not docs:
        raise ValueError(f"{args.input}: no sentences to convert (part {args.part!r}, holdout {args.holdout})")
    with open_output(args.output, "wb") as file:
        file.write(DocBin(docs=docs).to_bytes())
    print(f"wrote {len(docs)} docs from {args.input} to {args.output}", file=sys.stderr)
    return 0
