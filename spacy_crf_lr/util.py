"""Small helpers shared by every room (no spaCy): path types, readable and writable checks, whole-number checks,
and files written under a temporary name beside them and renamed into place only when complete."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Optional, Union

PathLike = Union[str, Path]


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """Return value, or raise a ValueError naming the setting if it is not a whole number >= minimum."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return value


def check_readable(path: PathLike) -> Path:
    """Return path as a Path, or raise a ValueError saying it is a directory or missing."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise ValueError(f"{path}: file not found")
    return path


def check_writable(path: PathLike) -> Path:
    """Return path as a Path, or raise a ValueError if it cannot become a file (a directory, a missing folder)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a directory; give a file name to write")
    if not path.parent.is_dir():
        raise ValueError(f"{path}: folder {path.parent} does not exist")
    return path


def _file_mode(path: Path) -> int:
    """The mode the finished file gets: that of the file it replaces, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_write(
    path: PathLike, mode: str = "w", encoding: Optional[str] = None, newline: Optional[str] = None
) -> Iterator[IO]:
    """Open a temporary file beside path for writing; on success rename it to path, on any error or
    interruption (KeyboardInterrupt included) delete it, so path is either complete or as it was."""
    path = check_writable(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with open(fd, mode, encoding=encoding, newline=newline) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, _file_mode(path))
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
