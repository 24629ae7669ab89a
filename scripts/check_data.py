"""Check the data files a project run needs (project.yml `check-data`), unpacking the downloaded
icwb2-data zip when files are missing: `python scripts/check_data.py VAR=PATH ... [--zip ZIP --dest DIR]`."""

import argparse
import hashlib
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

# icwb2-data.zip's size and SHA-256 as another project publishes them. No MD5 of it is published, and weasel checks
# only an MD5 (`checksum:`), so project.yml's asset has none and these are checked here before unpacking.
ZIP_BYTES = 52_640_127
ZIP_SHA256 = "296c54adf4abc3702eca0cbce70b55fe22a344ea02d33175a4d1183e074072b4"
REDOWNLOAD = "delete it and download it again (`spacy project assets`)"


def check_zip(path: Path) -> None:
    """Raise a ValueError naming both values unless the file at path has the size and SHA-256 published."""
    found = path.stat().st_size
    if found != ZIP_BYTES:
        raise ValueError(f"{path}: {found:,} bytes, expected {ZIP_BYTES:,} (icwb2-data.zip as published); {REDOWNLOAD}")
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != ZIP_SHA256:
        raise ValueError(
            f"{path}: SHA-256 {digest.hexdigest()}, expected {ZIP_SHA256} (icwb2-data.zip as published); {REDOWNLOAD}"
        )


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
    """Exit 1 naming each variable whose file is missing, after unpacking --zip if that helps (and its size and
    SHA-256 are the published ones: else exit 1 naming both values, before anything is unpacked)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", metavar="VAR=PATH", help="project variable and the file it names")
    parser.add_argument(
        "--zip", type=Path, help="the downloaded icwb2-data zip, checked and unpacked when files are missing"
    )
    parser.add_argument("--dest", type=Path, default=Path("assets"), help="where to unpack --zip")
    args = parser.parse_args(argv)
    try:
        files = parse_files(args.files)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    missing = [var for var, path in files.items() if not Path(path).is_file()]
    if missing and args.zip is not None and args.zip.is_file():
        try:
            check_zip(args.zip)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
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
