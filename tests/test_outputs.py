"""Where a command writes: '-' is stdout, FIFOs and character devices are streamed to, symlinks written through
to their target, other nodes refused before anything runs; temporary files of killed runs are cleaned up."""

import json
import os
import socket
import stat
import subprocess
import sys

import pytest
from conftest import ROOT

from spacy_crf_lr.cli import main
from spacy_crf_lr.cws.sighan import read_lines
from spacy_crf_lr.util import check_writable, open_output

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
GOLD = "中国  人民\n银行\n"


def names(folder) -> list:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def fifo(tmp_path):
    """(a FIFO under tmp_path, the file that a `cat` reading it copies to); the reader is ended afterwards."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    copy = tmp_path / "copy"
    with open(copy, "wb") as sink:
        reader = subprocess.Popen(["cat", str(path)], stdout=sink)
    try:
        yield path, copy, reader
    finally:
        if reader.poll() is None:
            reader.kill()
        reader.wait(timeout=10)


@pytest.fixture
def unix_socket(tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    yield path
    server.close()


def test_a_symlinked_output_is_written_through_to_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    with open_output(link) as file:
        file.write("new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n" and target.stat().st_mode & 0o777 == 0o640
    assert names(tmp_path) == ["out.txt", "real"] and names(tmp_path / "real") == ["out.txt"]
    dangling = tmp_path / "new.txt"
    dangling.symlink_to(tmp_path / "real" / "made.txt")
    with open_output(dangling) as file:
        file.write("made\n")
    assert dangling.is_symlink() and (tmp_path / "real" / "made.txt").read_text() == "made\n"


def test_a_fifo_output_is_streamed_to_its_reader(fifo, tmp_path):
    path, copy, reader = fifo
    with open_output(path, "w", encoding="utf-8") as file:
        file.write("中国\n")
    assert reader.wait(timeout=10) == 0
    assert copy.read_text(encoding="utf-8") == "中国\n"
    assert stat.S_ISFIFO(os.lstat(path).st_mode) and names(tmp_path) == ["copy", "fifo"]


def test_a_character_device_output_is_written_to_not_replaced(tmp_path):
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers, under tmp_path
    except PermissionError:
        pytest.skip("making a character device needs root")
    with open_output(null, "wb") as file:
        file.write(b"gone")
    assert stat.S_ISCHR(os.lstat(null).st_mode) and names(tmp_path) == ["null"]


def test_a_socket_a_directory_and_a_file_as_folder_are_refused_naming_the_path(unix_socket, tmp_path):
    with pytest.raises(ValueError, match=f"{unix_socket}: not a regular file, FIFO or character device"):
        check_writable(unix_socket)
    link = tmp_path / "link"
    link.symlink_to(unix_socket)
    with pytest.raises(ValueError, match=f"{link} \\(a link to {unix_socket}\\): not a regular file"):
        check_writable(link)
    with pytest.raises(ValueError, match="is a directory; give a file name"):
        check_writable(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=f"{tmp_path / 'file' / 'out.txt'}: {tmp_path / 'file'} is not a folder"):
        check_writable(tmp_path / "file" / "out.txt")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_files_of_dead_processes_are_removed_by_the_next_write(tmp_path):
    out = tmp_path / "out.txt"
    stale = tmp_path / f".out.txt.{_dead_pid()}.k2j4_x.part"
    live = tmp_path / f".out.txt.{os.getppid()}.abcdef.part"  # a process that runs: its write is in progress
    other = tmp_path / f".out.txt.1.{_dead_pid()}.abcdef.part"  # the temporary file of out.txt.1, not of out.txt
    for path in (stale, live, other):
        path.write_text("half")
    with open_output(out) as file:
        file.write("whole\n")
    assert names(tmp_path) == sorted([live.name, other.name, "out.txt"])


def test_init_config_writes_through_a_symlink_and_to_stdout(tmp_path):
    target = tmp_path / "target.cfg"
    link = tmp_path / "my.cfg"
    link.symlink_to(target)
    assert main(["init-config", "cnn_crf", str(link)]) == 0
    assert link.is_symlink() and "[training]" in target.read_text()
    assert names(tmp_path) == ["my.cfg", "target.cfg"]
    proc = subprocess.run(
        [sys.executable, "-m", "spacy_crf_lr", "init-config", "cnn_crf", "-"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == target.read_text() and proc.stderr == "wrote -\n"
    assert names(tmp_path) == ["my.cfg", "target.cfg"]


def test_score_json_through_a_symlink_and_to_stdout(tmp_path, capsys):
    gold = tmp_path / "gold.txt"
    gold.write_text(GOLD, encoding="utf-8")
    target = tmp_path / "target.json"
    link = tmp_path / "scores.json"
    link.symlink_to(target)
    assert main(["score", str(gold), str(gold), "--json", str(link)]) == 0
    assert link.is_symlink() and json.loads(target.read_text())["f"] == 1.0
    capsys.readouterr()
    proc = subprocess.run(
        [sys.executable, "-m", "spacy_crf_lr", "score", str(gold), "-", "--json", "-"],
        input=GOLD,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["f"] == 1.0 and proc.stderr.startswith("measure")


def test_convert_refuses_a_socket_before_reading_and_writes_through_a_symlink(unix_socket, tmp_path, capsys):
    source = tmp_path / "train.utf8"
    source.write_text(GOLD, encoding="utf-8")
    assert main(["convert", str(source), str(unix_socket)]) == 2
    assert capsys.readouterr().err == (
        f"error: {unix_socket}: not a regular file, FIFO or character device; give a file name to write\n"
    )
    link = tmp_path / "train.spacy"
    link.symlink_to(tmp_path / "real.spacy")
    assert main(["convert", str(source), str(link)]) == 0
    assert link.is_symlink() and (tmp_path / "real.spacy").stat().st_size > 0


def test_ensemble_refuses_a_dangling_link_before_loading_the_models(tmp_path, capsys):
    link = tmp_path / "ensemble"
    link.symlink_to(tmp_path / "nowhere")
    assert main(["ensemble", str(link), str(tmp_path / "no-a"), str(tmp_path / "no-b")]) == 2
    assert capsys.readouterr().err == f"error: {link}: exists; give a new directory to write the ensemble to\n"
    assert link.is_symlink() and names(tmp_path) == ["ensemble"]


def test_a_fifo_and_a_process_substitution_are_inputs(tmp_path):
    path = tmp_path / "in.fifo"
    os.mkfifo(path)
    writer = subprocess.Popen(["sh", "-c", f"printf '中国\\r\\n人民\\n' > '{path}'"])
    try:
        assert read_lines(path) == ["中国", "人民"]
    finally:
        writer.wait(timeout=10)
    script = "from spacy_crf_lr.cws.sighan import read_lines; import sys; print(read_lines(sys.argv[1]))"
    proc = subprocess.run(
        ["bash", "-c", f"{sys.executable} -c '{script}' <(printf 'a\\nb\\n')"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (0, "['a', 'b']\n"), proc.stderr
