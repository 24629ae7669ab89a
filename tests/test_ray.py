"""The Ray engine: segment_dataset, `segment --engine ray` byte-identical to the local engine, a killed actor,
a model that fails to load. One local Ray (2 CPUs) for the module."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray
import spacy
from conftest import ROOT, TOY_WORDS, require_pku

from spacy_crf_lr.cli import EXIT_FAILURE, main
from spacy_crf_lr.run.parallel import words_of
from spacy_crf_lr.run.ray_engine import segment_dataset, segment_files

pytestmark = pytest.mark.slow


def sentences(n: int, seed: int = 0):
    rng = random.Random(seed)
    return [[rng.choice(TOY_WORDS) for _ in range(rng.randint(3, 12))] for _ in range(n)]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray with 2 CPUs, shut down after the module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def model(tiny_segmenter):
    """The session's tiny trained segmenter (tests/conftest.py), as a path string."""
    return str(tiny_segmenter)


def segment_local(model: str, source: Path, target: Path) -> bytes:
    assert main(["segment", model, str(source), str(target)]) == 0
    return target.read_bytes()


def test_segment_dataset_adds_words(cluster, model):
    texts = ["中国人民银行的发展很快。", "", " 我们 今天", "学习历史"] * 5
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    rows = sorted(segment_dataset(ds, model, batch_size=3, num_actors=1).take_all(), key=lambda r: r["id"])
    assert [list(r["words"]) for r in rows] == words_of(spacy.load(model), texts, 3)
    assert [r["text"] for r in rows] == texts
    with pytest.raises(ValueError, match="num_actors must be a whole number >= 1, got 0"):
        segment_dataset(ds, model, num_actors=0)


def test_ray_output_is_byte_identical_to_local(cluster, model, tmp_path):
    source = tmp_path / "in" / "a.txt"
    source.parent.mkdir()
    lines = ["".join(words) for words in sentences(300, seed=1)]
    lines[5:5] = ["", "", "  中国 人民\t银行  ", "\u3000我们"]
    source.write_bytes(("\r\n".join(lines[:100]) + "\n" + "\n".join(lines[100:])).encode())  # no final LF
    (tmp_path / "in" / "sub").mkdir()
    (tmp_path / "in" / "sub" / "b.txt").write_text("中国\n\n", encoding="utf8")
    (tmp_path / "in" / "sub" / "empty.txt").write_bytes(b"")
    run = segment_files(model, str(tmp_path / "in"), str(tmp_path / "out"), batch_size=16, chunk_bytes=500)
    assert run["files"] == 3 and run["lines"] == len(lines) + 2
    for name in ("a.txt", "sub/b.txt", "sub/empty.txt"):
        local = segment_local(model, tmp_path / "in" / name, tmp_path / "local.txt")
        assert (tmp_path / "out" / name).read_bytes() == local, name
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")) == [
        "a.txt",
        "sub",
        "sub/b.txt",
        "sub/empty.txt",
    ]


def test_cli_with_a_glob_and_a_single_file(cluster, model, tmp_path):
    for name in ("x.txt", "y.txt", "z.md"):
        (tmp_path / name).write_text("我们今天学习历史\n\n中国人民银行\n", encoding="utf8")
    assert main(["segment", model, str(tmp_path / "*.txt"), str(tmp_path / "out"), "--engine", "ray"]) == 0
    local = segment_local(model, tmp_path / "x.txt", tmp_path / "local.txt")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.txt", "y.txt"]
    assert (tmp_path / "out" / "x.txt").read_bytes() == (tmp_path / "out" / "y.txt").read_bytes() == local
    args = ["segment", model, str(tmp_path / "z.md"), str(tmp_path / "z.out"), "--engine", "ray", "--num-actors", "1"]
    assert main(args) == 0
    assert (tmp_path / "z.out").read_bytes() == local


def test_pku_sample_like_local(cluster, model, tmp_path):
    source = tmp_path / "pku.txt"
    source.write_bytes(b"".join(require_pku("pku_test.utf8").read_bytes().splitlines(keepends=True)[:150]))
    run = segment_files(model, str(source), str(tmp_path / "ray.txt"), chunk_bytes=4096)
    assert run["lines"] == 150
    assert (tmp_path / "ray.txt").read_bytes() == segment_local(model, source, tmp_path / "local.txt")


def segmenting_actors():
    """PIDs of the live segmenting actors of the test's cluster (from the GCS actor table)."""
    actors = ray._private.state.actors().values()
    return [
        a["Pid"]
        for a in actors
        if a["ActorClassName"].startswith("MapWorker(MapBatches(Segment") and a["State"] == "ALIVE" and a["Pid"]
    ]


def test_killed_actor_is_replaced_and_every_line_is_written_once(cluster, model, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join("".join(words) for words in sentences(12000, seed=2)) + "\n", encoding="utf8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = {}

    def job():
        try:
            result.update(segment_files(model, str(source), str(out_dir / "out.txt"), batch_size=32, chunk_bytes=4096))
        except BaseException as err:  # reported by the test below
            result["error"] = err

    thread = threading.Thread(target=job)
    thread.start()
    killed = None
    deadline = time.monotonic() + 240
    while thread.is_alive() and time.monotonic() < deadline and killed is None:
        if list(out_dir.glob(".out.txt.tmp-*")):  # the first lines have come back: kill an actor mid-run
            workers = segmenting_actors()
            if workers:
                assert not (out_dir / "out.txt").exists()
                os.kill(workers[0], signal.SIGKILL)
                killed = workers[0]
        time.sleep(0.02)
    thread.join(300)
    assert killed is not None, "the run ended before an actor could be killed"
    assert "error" not in result, result.get("error")
    assert result["lines"] == 12000
    assert (out_dir / "out.txt").read_bytes() == segment_local(model, source, tmp_path / "local.txt")
    assert [p.name for p in out_dir.iterdir()] == ["out.txt"]


def test_a_model_that_fails_to_load_fails_fast_and_writes_nothing(cluster, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("中国\n" * 20, encoding="utf8")
    out = tmp_path / "out"
    args = ["-m", "spacy_crf_lr", "segment", str(tmp_path / "no_model"), str(source), str(out / "o.txt")]
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, *args, "--engine", "ray", "--address", cluster],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == EXIT_FAILURE, proc.stderr[-3000:]
    assert time.monotonic() - start < 120
    assert f"error: a Ray worker failed: OSError: [E050] Can't find model '{tmp_path / 'no_model'}'" in proc.stderr
    assert not out.exists() or not list(out.iterdir())


def test_options_of_the_other_engine_are_refused(tmp_path, capsys):
    source = tmp_path / "in.txt"
    source.write_text("中国\n", encoding="utf8")
    out = str(tmp_path / "out.txt")
    assert main(["segment", "MODEL", str(source), out, "--num-actors", "2"]) == 2
    assert "--num-actors is for --engine ray, not --engine local" in capsys.readouterr().err
    assert main(["segment", "MODEL", str(source), out, "--engine", "ray", "--n-process", "2"]) == 2
    assert "--n-process and --gpu-id are for --engine local" in capsys.readouterr().err
    assert main(["segment", "MODEL", str(tmp_path / "nothing*.txt"), out, "--engine", "ray"]) == 2
    assert "nothing*.txt: no input files there" in capsys.readouterr().err


def test_an_error_in_a_worker_ends_the_run_naming_it(cluster, model, tmp_path, capsys):
    source = tmp_path / "bad.txt"
    source.write_bytes("中国\n".encode() * 50 + b"\xff\n")
    assert main(["segment", model, str(source), str(tmp_path / "out.txt"), "--engine", "ray"]) == 1
    err = capsys.readouterr().err
    assert f"error: a Ray worker failed: ValueError: {source}: invalid UTF-8 (invalid start byte at byte 350)" in err, (
        err[-1500:]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]
