"""Check the data files a project run needs (project.yml `check-data`), unpacking the downloaded
icwb2-data zip when files are missing: `python scripts/check_data.py VAR=PATH ... [--zip ZIP --dest DIR]`."""

import argparse
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional


def parse_files(items: List[str]) -> Dict[str, str]:
    """VAR=PATH arguments as a dict; raise naming an argument without a variable, '=' or path."""
    for item in items:
        var, equals, path = item.partition("=")
        if not (var and equals and path):
            raise ValueError(
                f"expected VAR=PATH (a project variable and a file, e.g. train=assets/train.utf8), got {item!r}"
            )
    return dict(item.split("=", 1) for item in items)


def main(argv: Optional[List[str]] = None) -> int:
    """Exit 1 naming each variable whose file is missing, after unpacking --zip if that helps."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", metavar="VAR=PATH", help="project variable and the file it names")
    parser.add_argument("--zip", type=Path, help="the downloaded icwb2-data zip, unpacked when files are missing")
    parser.add_argument("--dest", type=Path, default=Path("assets"), help="where to unpack --zip")
    args = parser.parse_args(argv)
    try:
        files = parse_files(args.files)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    missing = [var for var, path in files.items() if not Path(path).is_file()]
    if missing and args.zip is not None and args.zip.is_file():
        with zipfile.ZipFile(args.zip) as archive:
            archive.extractall(args.dest)
        missing = [var for var in missing if not Path(files[var]).is_file()]
    for var in missing:
        problem = "is a directory, not a file" if Path(files[var]).is_dir() else "file not found"
        print(f"error: vars.{var}: {problem}: {files[var]}", file=sys.stderr)
    if missing:
        example = " ".join(f"--vars.{var} /path/to/file" for var in missing)
        print(
            "Download the official data with `spacy project assets`, or point the variables at local "
            f"copies, e.g. `spacy project run all . {example}`.",
            file=sys.stderr,
        )
        return 1
    print("data found: " + ", ".join(f"{var}={path}" for var, path in files.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
