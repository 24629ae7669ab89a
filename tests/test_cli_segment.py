"""`segment`: settings checked first, output written atomically, Ctrl-C and worker failures end the run cleanly."""

import io
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TOY_WORDS

from spacy_crf_lr.cli import EXIT_FAILURE, main
from spacy_crf_lr.cws.bakeoff import score_files
from spacy_crf_lr.run.parallel import (
    MIN_CHUNK,
    WORKER_DIED,
    WorkerFailure,
    _submit,
    chunk_spans,
    segment_lines,
    usable_processes,
)
from spacy_crf_lr.run.segment_file import with_progress
from spacy_crf_lr.util import open_output

OLD = "an earlier run's output\n"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _default_sigint() -> None:
    """In the child: take Ctrl-C even where this run ignores SIGINT (a background job of a non-interactive shell,
    whose ignored SIGINT Python would otherwise inherit and keep)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli(*args: str, **kwargs) -> subprocess.Popen:
    """Start `python -m spacy_crf_lr ARGS` in its own process group."""
    command = [sys.executable, "-m", "spacy_crf_lr", *args]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
        **kwargs,
    )


@pytest.fixture
def files(tmp_path):
    """(input with two lines, an output file holding an earlier result)."""
    source = tmp_path / "in.txt"
    source.write_text("中国人民银行的发展很快。\n我们今天学习历史\n", encoding="utf-8")
    output = tmp_path / "out.txt"
    output.write_text(OLD, encoding="utf-8")
    return source, output


@pytest.fixture(scope="module")
def long_input(tmp_path_factory) -> Path:
    """A file long enough that segmenting it takes a few seconds."""
    rng = random.Random(1)
    lines = ["".join(rng.choice(TOY_WORDS) for _ in range(rng.randint(5, 30))) for _ in range(30000)]
    path = tmp_path_factory.mktemp("long") / "long.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "options, message",
    [
        (["--batch-size", "0"], "--batch-size must be a whole number >= 1, got 0"),
        (["--batch-size", "-5"], "--batch-size must be a whole number >= 1, got -5"),
        (["--batch-size", "0", "--n-process", "2"], "--batch-size must be a whole number >= 1, got 0"),
        (["--n-process", "0"], "--n-process must be a whole number >= 1, got 0"),
        (["--n-process", "-3"], "--n-process must be a whole number >= 1, got -3"),
        (["--gpu-id", "-2"], "--gpu-id must be a GPU number >= 0, or -1 for the CPU, got -2"),
    ],
)
def test_bad_settings_exit_2_and_leave_the_output(tiny_segmenter, files, capsys, options, message):
    source, output = files
    assert main(["segment", str(tiny_segmenter), str(source), str(output), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert output.read_text(encoding="utf-8") == OLD


def test_missing_model_leaves_the_output(files, tmp_path, capsys):
    source, output = files
    assert main(["segment", str(tmp_path / "no-model"), str(source), str(output), "--n-process", "2"]) == 2
    assert "no-model: not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["segment", str(tmp_path / "empty"), str(source), str(output)]) == 2
    assert "not a trained pipeline (no config.cfg" in capsys.readouterr().err
    assert output.read_text(encoding="utf-8") == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "in.txt", "out.txt"]


@pytest.mark.parametrize("hidden", ["pyarrow", "ray"])
def test_engine_ray_without_the_extra_names_it_and_exits_2(tiny_segmenter, files, hidden):
    """Without ray or pyarrow (hidden here: None in sys.modules fails their import), one line names the extra."""
    source, output = files
    code = (
        f"import sys; sys.modules[{hidden!r}] = None; from spacy_crf_lr.cli import main; "
        f"sys.exit(main(['segment', {str(tiny_segmenter)!r}, {str(source)!r}, {str(output)!r}, '--engine', 'ray']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert re.fullmatch(
        rf"error: --engine ray needs the \[ray\] extra \(no module named '{hidden}[\w.]*'\): "
        r"pip install 'spacy-crf-lr\[ray\]'\n",
        proc.stderr,
    ), proc.stderr
    assert output.read_text(encoding="utf-8") == OLD


def test_output_that_is_a_directory_or_the_input(tiny_segmenter, files, tmp_path, capsys):
    source, _ = files
    assert main(["segment", str(tiny_segmenter), str(source), str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["segment", str(tiny_segmenter), str(source), str(tmp_path / "nowhere" / "out.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["segment", str(tiny_segmenter), str(source), str(source)]) == 2
    assert "would replace the input" in capsys.readouterr().err


def test_success_replaces_the_output_and_keeps_its_mode(tiny_segmenter, files, capsys):
    source, output = files
    output.chmod(0o640)
    assert main(["segment", str(tiny_segmenter), str(source), str(output), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert output.read_text(encoding="utf-8").replace("  ", "").split("\n") == [
        "中国人民银行的发展很快。",
        "我们今天学习历史",
        "",
    ]
    assert output.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in output.parent.iterdir()) == ["in.txt", "out.txt"]


def test_open_output_keeps_the_old_file_on_any_error(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text(OLD)
    for error in (ValueError, KeyboardInterrupt):
        with pytest.raises(error), open_output(path) as file:
            file.write("half")
            raise error()
    assert path.read_text() == OLD and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_ctrl_c_exits_130_without_output(tiny_segmenter, long_input, tmp_path):
    output = tmp_path / "out.txt"
    proc = cli("segment", str(tiny_segmenter), str(long_input), str(output), "--n-process", "2", start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.txt.*")):  # writing has begun
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "segment did not start writing"
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C: the whole process group, workers included
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stderr == "interrupted: stopped; no partial output was written\n"
    assert list(tmp_path.iterdir()) == []


def test_sigterm_exits_143_without_output(tiny_segmenter, long_input, tmp_path):
    """In one process: the same clean-up as Ctrl-C."""
    output = tmp_path / "out.txt"
    proc = cli("segment", str(tiny_segmenter), str(long_input), str(output))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.txt.*")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.terminate()
    stdout, stderr = proc.communicate(timeout=30)
    assert (proc.returncode, stderr) == (143, "terminated: stopped; no partial output was written\n")
    assert list(tmp_path.iterdir()) == []


def _children(pid: int) -> list:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("needs Linux /proc/PID/task/PID/children")
    return [int(child) for child in path.read_text().split()]


def test_killed_worker_stops_the_run_with_one_error(tiny_segmenter, long_input, tmp_path):
    output = tmp_path / "out.txt"
    proc = cli("segment", str(tiny_segmenter), str(long_input), str(output), "--n-process", "2")
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.txt.*")):  # the workers have loaded the model and sent words
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.kill(_children(proc.pid)[0], signal.SIGKILL)
    killed = time.monotonic()
    stdout, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - killed < 20
    assert proc.returncode == EXIT_FAILURE, stderr
    assert stderr == "error: a worker process died (killed, or out of memory?); the run was stopped\n"
    assert list(tmp_path.iterdir()) == []


def test_a_chunk_queued_after_a_worker_died_is_the_same_error():
    """The pool may learn of a dead worker while a chunk is being queued rather than awaited (a race seen under
    load in the test above): that is the same WorkerFailure, not a BrokenProcessPool traceback."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        with pytest.raises(BrokenProcessPool):
            executor.submit(os._exit, 1).result(timeout=60)
        with pytest.raises(WorkerFailure, match=re.escape(WORKER_DIED)):
            _submit(executor, ["中国"], 1)
    finally:
        executor.shutdown(wait=True)


def test_model_that_fails_to_load_for_the_workers_stops_with_its_cause(tmp_path):
    with pytest.raises(OSError, match=r"\[E050\] Can't find model"):  # loaded once, here, before any worker
        list(segment_lines(str(tmp_path / "missing"), ["中国"] * 40, batch_size=4, n_process=2))


def test_where_processes_do_not_fork_a_model_that_fails_in_the_workers_stops_with_its_cause(tmp_path, monkeypatch):
    monkeypatch.setattr("spacy_crf_lr.run.parallel.fork_context", lambda: None)  # as on macOS or Windows
    start = time.monotonic()
    with pytest.raises(WorkerFailure, match=r"could not load the model: OSError: \[E050\] Can't find model"):
        list(segment_lines(str(tmp_path / "missing"), ["中国"] * 40, batch_size=4, n_process=2))
    assert time.monotonic() - start < 60  # workers load spaCy first; the old Pool respawned them forever


def test_where_processes_do_not_fork_workers_load_the_model_by_path(tiny_segmenter, monkeypatch):
    import spacy

    lines = ["中国人民银行的发展很快。", "我们今天学习历史"] * 4
    one = list(segment_lines(str(tiny_segmenter), lines, batch_size=2))
    monkeypatch.setattr("spacy_crf_lr.run.parallel.fork_context", lambda: None)
    assert list(segment_lines(str(tiny_segmenter), lines, batch_size=2, n_process=2)) == one
    assert list(segment_lines(Path(tiny_segmenter), lines, batch_size=2, n_process=2)) == one
    with pytest.raises(ValueError, match="only where they fork .* give its directory or package name"):
        list(segment_lines(spacy.load(tiny_segmenter), lines, batch_size=2, n_process=2))


def test_processes_are_capped_at_the_work_and_the_cpus(tiny_segmenter, files, capsys):
    assert usable_processes(64, 4, 256) == 1
    assert usable_processes(64, 10_000, 1) <= (os.cpu_count() or 1)
    assert usable_processes(3, 0, 256) == 1
    source, output = files
    start = time.monotonic()
    assert main(["segment", str(tiny_segmenter), str(source), str(output), "--n-process", "64"]) == 0
    assert time.monotonic() - start < 30
    assert "note: used 1 worker process(es), not 64" in capsys.readouterr().err


@pytest.mark.parametrize("n_lines", [0, 1, 15, 16, 17, 255, 256, 1000, 7776])
def test_chunks_cover_the_lines_in_order_and_shrink_towards_the_end(n_lines):
    spans = list(chunk_spans(n_lines, 256, 2))
    assert [start for start, _ in spans] == [0, *(end for _, end in spans)][: len(spans)]
    assert (spans[-1][1] if spans else 0) == n_lines
    sizes = [end - start for start, end in spans]
    assert all(0 < size <= 256 for size in sizes) and sizes == sorted(sizes, reverse=True)
    if n_lines >= 1000:
        assert sizes[0] == min(256, -(-n_lines // 4))  # a quarter of the lines at most: 2 queued per worker
        assert sizes[-1] <= MIN_CHUNK  # the last chunks are small: the workers end together


def test_bom_is_kept_and_never_a_word(tiny_segmenter, tmp_path):
    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_bytes("\ufeff中国人民\n银行\n".encode())
    assert main(["segment", str(tiny_segmenter), str(source), str(output), "--quiet"]) == 0
    data = output.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and not data[3:].startswith(b"\xef\xbb\xbf")
    assert score_files(source, output).gold_words == 2
    source.write_bytes("中国人民\n".encode())
    assert main(["segment", str(tiny_segmenter), str(source), str(output), "--quiet"]) == 0
    assert not output.read_bytes().startswith(b"\xef\xbb\xbf")


def test_whitespace_of_every_kind_round_trips_through_score(tiny_segmenter, tmp_path):
    odd = ["\xa0", "\u2009", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2029", "\u3000", "\t", "\x0c"]
    lines = [f"中国{space}人民银行" for space in odd] + ["中\u200b国\ufeff人民", "银行\r", "  "]
    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    assert main(["segment", str(tiny_segmenter), str(source), str(output), "--quiet"]) == 0
    written = output.read_text(encoding="utf-8").split("\n")
    assert len(written) == len(lines) + 1
    assert not any(space in "".join(written) for space in odd)
    assert "\u200b" in written[-4] and "\ufeff" in written[-4]  # not separators: they are kept
    assert score_files(source, output).gold_words == 2 * len(odd) + 2  # score accepts our own output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, enabled, shown", [(Terminal(), True, True), (Terminal(), False, False)])
def test_progress_bar_only_on_a_terminal_unless_quiet(monkeypatch, stream, enabled, shown):
    monkeypatch.setattr("spacy_crf_lr.run.segment_file.PROGRESS_DELAY", 0)
    lines = ["中国人民"] * 50
    words = [["中国", "人民"]] * 50
    assert list(with_progress(words, lines, enabled=enabled, stream=stream)) == words
    assert ("200/200" in stream.getvalue()) == shown
    plain = io.StringIO()
    list(with_progress(words, lines, enabled=True, stream=plain))
    assert plain.getvalue() == ""


def test_a_short_segmentation_is_an_error_not_a_short_file():
    with pytest.raises(RuntimeError, match="stopped after 1 of 2 lines"):
        list(with_progress([["中国"]], ["中国", "人民"], enabled=False))


def _blas_threads() -> list:
    from threadpoolctl import threadpool_info

    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_each_worker_runs_one_blas_thread(tiny_segmenter):
    from concurrent.futures import ProcessPoolExecutor

    from spacy_crf_lr.run.parallel import _init_worker

    with ProcessPoolExecutor(1, initializer=_init_worker, initargs=(str(tiny_segmenter), os.getpid())) as pool:
        threads = pool.submit(_blas_threads).result(timeout=60)
    assert threads and set(threads) == {1}  # numpy's BLAS, loaded with the model, limited after the load


def segment_run(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m spacy_crf_lr segment ARGS` in cwd to its end."""
    command = [sys.executable, "-m", "spacy_crf_lr", "segment", *args]
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.mark.parametrize("n_process", ["1", "2"])
def test_dash_is_stdin_and_stdout_and_messages_go_to_stderr(tiny_segmenter, tmp_path, n_process):
    text = "中国人民银行的发展很快。\n我们今天学习历史\n" * 20
    proc = segment_run(str(tiny_segmenter), "-", "-", "--n-process", n_process, cwd=tmp_path, input=text)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.replace("  ", "") == text
    assert proc.stderr.endswith("segmented 40 lines of - into -\n")
    assert list(tmp_path.iterdir()) == []  # no file named '-'


def test_process_substitution_and_dev_stdin_are_inputs(tiny_segmenter, tmp_path):
    script = f"{sys.executable} -m spacy_crf_lr segment {tiny_segmenter} <(printf '中国人民\\n') out.txt --quiet"
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").replace("  ", "") == "中国人民\n"
    proc = segment_run(str(tiny_segmenter), "/dev/stdin", "-", "--quiet", cwd=tmp_path, input="银行\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "银行\n", "")


def test_symlinked_and_fifo_outputs_are_written_through_not_replaced(tiny_segmenter, files, tmp_path):
    source, target = files
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert main(["segment", str(tiny_segmenter), str(source), str(link), "--quiet"]) == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8").replace("  ", "") == source.read_text("utf-8")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        assert main(["segment", str(tiny_segmenter), str(source), str(fifo), "--quiet"]) == 0
        copied, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()
        reader.wait()
    assert copied.decode().replace("  ", "") == source.read_text("utf-8")
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "in.txt", "link.txt", "out.txt"]


def test_an_output_that_cannot_be_written_is_one_line_naming_it_before_the_model_loads(
    files, tmp_path, capsys, monkeypatch
):
    import socket

    source, _ = files
    no_model = str(tmp_path / "no-model")  # were it loaded first, the error would be about the model
    sock = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(sock))
        assert main(["segment", no_model, str(source), str(sock)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: {sock}: not a regular file, FIFO or character device; give a file name to write\n"
    )
    assert main(["segment", no_model, str(source), str(source / "out.txt")]) == 2
    assert capsys.readouterr().err == f"error: {source / 'out.txt'}: {source} is not a folder\n"
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.access(locked, os.W_OK):  # root may write there; a read-only filesystem (EROFS) is refused the same way
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    assert main(["segment", no_model, str(source), str(locked / "out.txt")]) == 2
    assert capsys.readouterr().err == f"error: {locked / 'out.txt'}: folder {locked} is not writable\n"


def test_a_killed_runs_temporary_file_is_removed_by_the_next_run(tiny_segmenter, long_input, files, tmp_path):
    source, output = files
    proc = cli("segment", str(tiny_segmenter), str(long_input), str(output))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.txt.*.part")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.kill()  # SIGKILL: nothing of the run can clean up
    proc.communicate(timeout=30)
    (stale,) = tmp_path.glob(".out.txt.*.part")  # left behind, named after the killed process
    assert stale.name.startswith(f".out.txt.{proc.pid}.")
    assert main(["segment", str(tiny_segmenter), str(source), str(output), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.txt"]


def test_an_empty_input_gives_an_empty_output_and_exit_0_as_documented(tiny_segmenter, files, capsys):
    source, output = files
    source.write_bytes(b"")
    assert main(["segment", str(tiny_segmenter), str(source), str(output)]) == 0
    assert output.read_bytes() == b""
    assert capsys.readouterr().err == f"segmented 0 lines of {source} into {output}\n"
    cli_doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "An empty input gives an empty output (exit 0)" in cli_doc
    assert "empty inputs, a damaged model" not in cli_doc  # the exit-2 row names only the empty inputs refused


def test_cr_only_line_ends_are_refused_naming_the_line(tiny_segmenter, files, capsys):
    source, output = files
    source.write_bytes("中国人民\r\n银行\r发展\r".encode())
    assert main(["segment", str(tiny_segmenter), str(source), str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {source}: line 2: a CR that is not followed by LF") and err.count("\n") == 1
    assert output.read_text(encoding="utf-8") == OLD
