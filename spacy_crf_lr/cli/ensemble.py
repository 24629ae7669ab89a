"""`ensemble OUTPUT MODEL MODEL ...`: one pipeline that averages the CRF scores of several trained ones."""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..util import check_folder


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
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

    from ..pipeline.ensemble import ensemble_pipeline

    if len(args.models) < 2:
        raise ValueError(f"an ensemble needs at least 2 trained pipelines, got {len(args.models)}")
    if os.path.lexists(args.output):  # a link or a node too: the new directory would replace it
        raise ValueError(f"{args.output}: exists; give a new directory to write the ensemble to")
    check_folder(args.output)
    nlp = ensemble_pipeline([spacy.load(model) for model in args.models], args.component)
    temp = Path(tempfile.mkdtemp(dir=args.output.parent, prefix=f".{args.output.name}.", suffix=".part"))
    try:
        nlp.to_disk(temp)
        temp.rename(args.output)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    print(f"wrote the ensemble of {len(args.models)} pipelines to {args.output}", file=sys.stderr)
    return 0
