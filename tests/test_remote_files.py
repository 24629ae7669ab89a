"""Input specs, line-aligned byte ranges and ordered atomic outputs on pyarrow filesystems (no Ray needed)."""

import random

import pytest

pytest.importorskip("pyarrow")

from spacy_crf_lr.cws.sighan import read_lines  # noqa: E402
from spacy_crf_lr.run.remote_files import OutputAssembler, list_inputs, output_paths, plan_chunks, read_chunk  # noqa: E402


def test_chunks_cover_every_line_once_like_read_lines(tmp_path):
    rng = random.Random(0)
    path = tmp_path / "in.txt"
    for _ in range(200):
        data = "".join(rng.choice(["中国", "a", "\n", "\r\n", "\n\n", " "]) for _ in range(rng.randint(0, 12)))
        path.write_bytes(data.encode())
        fs, files, single = list_inputs(str(path))
        assert single and files[0].size == len(data.encode())
        for chunk_bytes in (1, 2, 5, 100):
            lines = [
                line
                for c in plan_chunks(files, chunk_bytes)
                for line in read_chunk(fs, c["path"], c["start"], c["end"])
            ]
            assert [text for _, _, text in lines] == read_lines(path)
            assert [offset for offset, _, _ in lines] == [sum(s for _, s, _ in lines[:i]) for i in range(len(lines))]
            assert sum(size for _, size, _ in lines) == files[0].size


def test_bad_utf8_names_file_and_byte(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xff\n")
    fs, files, _ = list_inputs(str(path))
    with pytest.raises(ValueError, match=r"bad.txt: invalid UTF-8 \(invalid start byte at byte 3\)"):
        read_chunk(fs, files[0].path, 0, files[0].size)


def test_directory_and_glob_keep_relative_names(tmp_path):
    for name in ("a.txt", "sub/b.txt", "sub/c.md", "empty.txt"):
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_text("" if name == "empty.txt" else "中国\n", encoding="utf8")
    _, files, single = list_inputs(str(tmp_path / "in"))
    assert not single and [f.name for f in files] == ["a.txt", "empty.txt", "sub/b.txt", "sub/c.md"]
    _, files, _ = list_inputs(str(tmp_path / "in" / "*" / "*.txt"))
    assert [f.name for f in files] == ["sub/b.txt"]
    _, paths = output_paths(str(tmp_path / "out"), files, False)
    assert paths == [str(tmp_path / "out" / "sub" / "b.txt")]
    with pytest.raises(ValueError, match="no such file or directory"):
        list_inputs(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match=r"\*.zip: no input files there"):
        list_inputs(str(tmp_path / "in" / "*.zip"))


def test_assembler_writes_in_order_once_and_only_when_complete(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes("一\n\n二三\r\n四".encode())
    fs, files, _ = list_inputs(str(path))
    lines = read_chunk(fs, files[0].path, 0, files[0].size)
    out = tmp_path / "out.txt"
    assembler = OutputAssembler(fs, files, [str(out)])
    for offset, size, text in [lines[2], lines[0], lines[0], lines[1]]:  # late, repeated
        assembler.add(0, offset, size, text)
        assert not out.exists()
    assembler.add(0, *lines[3])
    assembler.add(0, *lines[1])
    assembler.finish()
    assert out.read_bytes() == "一\n\n二三\n四\n".encode() and assembler.repeats == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.txt"]


def test_assembler_refuses_a_missing_line_and_leaves_no_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("一\n二\n", encoding="utf8")
    fs, files, _ = list_inputs(str(path))
    first, second = read_chunk(fs, files[0].path, 0, files[0].size)
    assembler = OutputAssembler(fs, files, [str(tmp_path / "out.txt")])
    assembler.add(0, *second)
    with pytest.raises(ValueError, match=r"in.txt: no output for the line at byte 0 \(of 8\)"):
        assembler.finish()
    assembler.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_a_cr_not_before_lf_is_refused_naming_file_and_byte(tmp_path):
    path = tmp_path / "mac.txt"
    path.write_bytes("一\r\n二\r三\n".encode())
    fs, files, _ = list_inputs(str(path))
    with pytest.raises(ValueError, match=r"mac.txt: byte 8: a CR that is not followed by LF"):
        read_chunk(fs, files[0].path, 0, files[0].size)
    path.write_bytes("一\r\n二\r".encode())  # the last line's CR, with no LF after it: a CR-only line end too
    fs, files, _ = list_inputs(str(path))
    with pytest.raises(ValueError, match=r"mac.txt: byte 8: a CR that is not followed by LF"):
        read_chunk(fs, files[0].path, 0, files[0].size)


def test_local_outputs_follow_symlinks_and_refuse_other_non_files(tmp_path):
    import os

    source = tmp_path / "in.txt"
    source.write_text("中国\n", encoding="utf8")
    _, files, single = list_inputs(str(source))
    link = tmp_path / "out.txt"
    link.symlink_to(tmp_path / "real.txt")
    assert output_paths(str(link), files, single)[1] == [str(tmp_path / "real.txt")]
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="out.fifo: not a regular file; --engine ray writes regular files"):
        output_paths(str(fifo), files, single)
