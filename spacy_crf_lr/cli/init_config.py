"""`init-config NAME OUTPUT`: write one of the shipped training configs (`configs/*.cfg`, packaged as
`spacy_crf_lr/configs`), for pip users."""

import argparse
import sys
from importlib.resources import files
from pathlib import Path
from typing import List

from ..util import open_output

DEFAULT_CONFIG = "cnn_crf"


def config_names() -> List[str]:
    """Names of the shipped configs (file names without .cfg), sorted."""
    return sorted(item.name[: -len(".cfg")] for item in files("spacy_crf_lr").joinpath("configs").iterdir()
                  if item.name.endswith(".cfg"))  # fmt: skip


def config_text(name: str) -> str:
    """The text of the shipped config `name` (e.g. "cnn_crf")."""
    if name not in config_names():
        raise ValueError(f"Unknown config {name!r}: the shipped configs are {', '.join(config_names())}.")
    return files("spacy_crf_lr").joinpath("configs", f"{name}.cfg").read_text(encoding="utf8")


def write_config(name: str, output: Path) -> Path:
    """Write the shipped config `name` to output (a .cfg file, '-' for stdout, or a directory to put NAME.cfg in)."""
    text = config_text(name)
    output = Path(output)
    if output.is_dir():
        output = output / f"{name}.cfg"
    with open_output(output, "w", encoding="utf8") as file:
        file.write(text)
    return output


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `init-config NAME OUTPUT` subcommand."""
    parser = subparsers.add_parser("init-config", help="write one of the shipped training configs")
    parser.add_argument("name", help=f"config name, e.g. {DEFAULT_CONFIG}; `list` prints them")
    parser.add_argument("output", type=Path, nargs="?", default=Path("."), help="file, directory or '-' (default: .)")
    parser.set_defaults(func=run_init_config)


def run_init_config(args: argparse.Namespace) -> int:
    """Write args.name to args.output, or list the configs."""
    if args.name == "list":
        print("\n".join(config_names()))
        return 0
    print(f"wrote {write_config(args.name, args.output)}", file=sys.stderr)
    return 0
