"""Small helpers shared by every room (no spaCy): path types, readable and writable checks, whole-number checks,
and the one way a command writes its output: '-' is stdout, FIFOs and character devices are streamed to, symlinks
are followed, and files are written under a temporary name beside them and renamed into place only when complete."""

import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Optional, Tuple, Union

PathLike = Union[str, Path]
STDIO = "-"  # as INPUT: stdin; as OUTPUT: stdout
STREAM, FILE = "stream", "file"  # how an output is written: directly, or under a temporary name and renamed


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """Return value, or raise a ValueError naming the setting if it is not a whole number >= minimum."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return value


def check_readable(path: PathLike) -> Path:
    """Return path as a Path ('-': stdin), or raise a ValueError saying it is a directory or missing. Anything
    else that can be opened is readable: a file, /dev/stdin, a FIFO, a process substitution's /dev/fd/N."""
    path = Path(path)
    if str(path) == STDIO:
        return path
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, not a file")
    if not path.exists():
        raise ValueError(f"{path}: file not found")
    return path


def read_input_bytes(path: PathLike) -> bytes:
    """The bytes of a readable path ('-': all of stdin, read once)."""
    path = check_readable(path)
    return sys.stdin.buffer.read() if str(path) == STDIO else path.read_bytes()


def check_folder(path: Path) -> None:
    """Raise a ValueError naming path unless its folder exists, is a directory and is writable."""
    parent = path.parent
    if not parent.exists():
        raise ValueError(f"{path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise ValueError(f"{path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: folder {parent} is not writable")


def output_target(path: PathLike) -> Tuple[Path, str]:
    """Where and how an output is written: ('-', STREAM) for stdout; (path, STREAM) for a FIFO or a character
    device; (the file, FILE) for a regular file or a new one, through any symlinks to their target. Raises a
    ValueError naming the path for a directory, anything else that is not a regular file, or a folder that
    is missing or not writable."""
    path = Path(path)
    if str(path) == STDIO:
        return path, STREAM
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    shown = path if target == path else f"{path} (a link to {target})"
    try:
        mode = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        check_folder(target)
        return target, FILE
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return target, STREAM
    if stat.S_ISDIR(mode):
        raise ValueError(f"{shown}: is a directory; give a file name to write")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{shown}: not a regular file, FIFO or character device; give a file name to write")
    check_folder(target)
    return target, FILE


def check_writable(path: PathLike) -> Path:
    """Return path as a Path, or raise the ValueError of output_target if it cannot be written to."""
    output_target(path)
    return Path(path)


def _file_mode(path: Path) -> int:
    """The mode the finished file gets: that of the file it replaces, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _temp_prefix(path: Path) -> str:
    """Temporary files of path are `.NAME.PID.RANDOM.part` beside it; PID is the writing process."""
    return f".{path.name}."


_TEMP_REST = re.compile(r"(\d+)\.[A-Za-z0-9_]+\.part")  # what follows the prefix: PID.RANDOM.part


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def remove_stale_temps(path: Path) -> None:
    """Delete the temporary files of path left by processes that no longer run (killed by SIGKILL, the OOM
    killer, a power cut) on this machine."""
    prefix = _temp_prefix(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        match = _TEMP_REST.fullmatch(name[len(prefix) :]) if name.startswith(prefix) else None
        if match and not _alive(int(match.group(1))):
            try:
                os.unlink(path.parent / name)
            except FileNotFoundError:
                pass


@contextmanager
def _stdout(mode: str, encoding: Optional[str], newline: Optional[str]) -> Iterator[IO]:
    sys.stdout.flush()
    if "b" in mode:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    text = open(sys.stdout.fileno(), mode, encoding=encoding, newline=newline, closefd=False)
    with text:
        yield text


@contextmanager
def open_output(
    path: PathLike, mode: str = "w", encoding: Optional[str] = None, newline: Optional[str] = None
) -> Iterator[IO]:
    """Open the output path for writing, as output_target says: stdout, a stream, or a temporary file beside
    the (symlink's target) file, renamed to it on success and deleted on any error or interruption
    (KeyboardInterrupt included), so that the file is either complete or as it was. Stale temporary files of
    the same file are removed first."""
    target, how = output_target(path)
    if str(target) == STDIO:
        with _stdout(mode, encoding, newline) as file:
            yield file
        return
    if how == STREAM:
        with open(target, mode, encoding=encoding, newline=newline) as file:
            yield file
        return
    remove_stale_temps(target)
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f"{_temp_prefix(target)}{os.getpid()}.", suffix=".part")
    except OSError as err:
        raise ValueError(f"{path}: cannot write in folder {target.parent}: {err.strerror}") from None
    try:
        with open(fd, mode, encoding=encoding, newline=newline) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, _file_mode(target))
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
