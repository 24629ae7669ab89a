"""Text files on any pyarrow filesystem: list an input spec, cut files into line-aligned byte ranges,
read their lines, and assemble output files atomically from lines that arrive in any order (no Ray)."""

import fnmatch
import os
import posixpath
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import pyarrow.fs as pafs  # type: ignore[import-untyped]

from ..cws.sighan import lone_cr_error
from ..util import check_count

GLOB_CHARS = "*?["
CR = b"\r"
_PIECE = 1 << 16  # bytes read at a time when looking for a line end


@dataclass(frozen=True)
class InputFile:
    """One input file: its path on the filesystem, its name relative to the input spec, its size in bytes."""

    path: str
    name: str
    size: int


def resolve(spec: str) -> Tuple[pafs.FileSystem, str]:
    """The filesystem and path of a local path or a URI (file://, s3://, gs://, hdfs://, ...)."""
    if "://" in spec:
        return pafs.FileSystem.from_uri(spec)
    return pafs.LocalFileSystem(), os.path.abspath(spec)


def _split_glob(spec: str) -> Tuple[str, Optional[str]]:
    """(base, pattern): the part before the first component with a wildcard, and the rest (None: no wildcard)."""
    parts = spec.split("/")
    for i, part in enumerate(parts):
        if any(c in part for c in GLOB_CHARS):
            return "/".join(parts[:i]) or ("/" if spec.startswith("/") else "."), "/".join(parts[i:])
    return spec, None


def _matches(name: str, pattern: str) -> bool:
    """Whether a relative name matches a glob pattern component by component (a `*` never crosses a `/`)."""
    names, patterns = name.split("/"), pattern.split("/")
    return len(names) == len(patterns) and all(fnmatch.fnmatchcase(n, p) for n, p in zip(names, patterns))


def _files_under(fs: pafs.FileSystem, base: str) -> List[InputFile]:
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    root = base.rstrip("/")
    return [
        InputFile(info.path, posixpath.relpath(info.path, root), info.size)
        for info in infos
        if info.type == pafs.FileType.File
    ]


def list_inputs(spec: str) -> Tuple[pafs.FileSystem, List[InputFile], bool]:
    """The filesystem, the files (sorted by name) of a file, directory or glob spec, and whether it names one file."""
    base, pattern = _split_glob(spec)
    fs, path = resolve(base)
    info = fs.get_file_info(path)
    if pattern is None and info.type == pafs.FileType.File:
        return fs, [InputFile(path, posixpath.basename(path), info.size)], True
    if info.type != pafs.FileType.Directory:
        raise ValueError(f"{spec}: no such file or directory (input must be a file, a directory or a glob)")
    files = _files_under(fs, path)
    if pattern is not None:
        files = [f for f in files if _matches(f.name, pattern)]
    if not files:
        raise ValueError(f"{spec}: no input files there")
    return fs, sorted(files, key=lambda f: f.name), False


def output_paths(spec: str, files: List[InputFile], single: bool) -> Tuple[pafs.FileSystem, List[str]]:
    """The filesystem and output path of each input file: spec itself for one input file (unless spec is an
    existing directory or ends with '/'), else spec/NAME with each file's relative name."""
    fs, path = resolve(spec)
    if single and not spec.endswith("/") and fs.get_file_info(path).type != pafs.FileType.Directory:
        paths = [path]
    else:
        paths = [posixpath.join(path, f.name) for f in files]
    if isinstance(fs, pafs.LocalFileSystem):
        paths = [local_output(p) for p in paths]
    return fs, paths


def local_output(path: str) -> str:
    """The file a local output path is written to: its target if it is a symlink; a ValueError names a path
    that is not a regular file (outputs are written under a temporary name and renamed, never streamed)."""
    target = os.path.realpath(path) if os.path.islink(path) else path
    if os.path.exists(target) and not os.path.isfile(target):
        shown = path if target == path else f"{path} (a link to {target})"
        raise ValueError(f"{shown}: not a regular file; --engine ray writes regular files (or a directory of them)")
    return target


def plan_chunks(files: List[InputFile], chunk_bytes: int) -> List[Dict[str, Any]]:
    """Byte ranges of about chunk_bytes per file, in file order; a line belongs to the range holding its first byte."""
    check_count("chunk_bytes", chunk_bytes)
    return [
        {"file": i, "path": f.path, "start": start, "end": min(start + chunk_bytes, f.size)}
        for i, f in enumerate(files)
        for start in range(0, f.size, chunk_bytes)
    ]


def _line_end(stream: Any, position: int) -> int:
    """Position just after the first LF at or after position (the end of the file if none)."""
    stream.seek(position)
    while True:
        piece = stream.read(_PIECE)
        if not piece:
            return position
        found = piece.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(piece)


def read_chunk(fs: pafs.FileSystem, path: str, start: int, end: int) -> List[Tuple[int, int, str]]:
    """(offset, bytes, text) of each line starting in [start, end), text without LF/CRLF; a ValueError names
    file and byte on bad UTF-8 or a CR not followed by LF. Lines are split like `sighan.read_lines`."""
    with fs.open_input_file(path) as stream:
        begin = 0 if start == 0 else _line_end(stream, start - 1)
        if begin >= end:
            return []
        stop = _line_end(stream, end - 1)
        stream.seek(begin)
        data = stream.read(stop - begin)
    pieces = data.split(b"\n")
    if data.endswith(b"\n"):
        pieces.pop()
    lines = []
    offset = begin
    for raw in pieces:
        size = min(len(raw) + 1, stop - offset)  # the last line of a file may have no LF
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{path}: invalid UTF-8 ({err.reason} at byte {offset + err.start})") from None
        text = text[:-1] if text.endswith("\r") and size > len(raw) else text  # CRLF: a CR before the LF
        if "\r" in text:
            raise ValueError(lone_cr_error(path, f"byte {offset + raw.index(CR)}"))
        lines.append((offset, size, text))
        offset += size
    return lines


class _Output:
    """One output file being assembled: the next input offset to write, lines that came early, the open stream."""

    def __init__(self, fs: pafs.FileSystem, path: str, size: int) -> None:
        self.fs, self.path, self.size = fs, path, size
        self.temp = posixpath.join(posixpath.dirname(path), f".{posixpath.basename(path)}.tmp-{uuid.uuid4().hex}")
        self.next = 0
        self.early: Dict[int, Tuple[int, str]] = {}
        self.stream: Any = None

    def open(self) -> None:
        self.fs.create_dir(posixpath.dirname(self.path), recursive=True)
        self.stream = self.fs.open_output_stream(self.temp, buffer_size=1 << 20)

    def done(self) -> bool:
        return self.next >= self.size


class OutputAssembler:
    """Writes each output file's lines in input order, each input line exactly once (repeats are dropped and
    counted), under a temporary name renamed when the file is complete; a missing line is an error."""

    def __init__(self, fs: pafs.FileSystem, files: List[InputFile], paths: List[str]) -> None:
        self.outputs = [_Output(fs, path, f.size) for f, path in zip(files, paths)]
        self.files = files
        self.repeats = 0
        self.lines = 0

    def add(self, file: int, offset: int, size: int, line: str) -> None:
        """Take the output line of the input line at byte offset (size bytes long) of files[file]."""
        out = self.outputs[file]
        if offset < out.next or offset in out.early:
            self.repeats += 1
            return
        out.early[offset] = (size, line)
        if out.stream is None:
            out.open()
        while out.next in out.early:
            size, text = out.early.pop(out.next)
            out.stream.write((text + "\n").encode("utf-8"))
            out.next += size
            self.lines += 1
        if out.done():
            self._complete(out)

    def _complete(self, out: _Output) -> None:
        if out.early:
            raise ValueError(f"{out.path}: lines past the end of the input ({sorted(out.early)[:3]} ...)")
        if out.stream is None:
            out.open()
        out.stream.close()
        out.stream = None
        out.fs.move(out.temp, out.path)
        out.early = {}
        out.next = out.size + 1  # closed: anything more is a repeat

    def finish(self) -> None:
        """Complete the empty files; a ValueError names the first input file with a missing line."""
        for f, out in zip(self.files, self.outputs):
            if out.next == out.size:
                self._complete(out)
            elif out.next < out.size:
                raise ValueError(f"{f.path}: no output for the line at byte {out.next} (of {out.size})")

    def abort(self) -> None:
        """Close and delete the temporary files of the outputs not complete."""
        for out in self.outputs:
            if out.stream is not None:
                out.stream.close()
                out.stream = None
                try:
                    out.fs.delete_file(out.temp)
                except OSError:
                    pass
