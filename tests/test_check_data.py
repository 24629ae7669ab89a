"""scripts/check_data.py: bad arguments, missing files and a zip that is not the published one are named, with a
non-zero exit."""

import hashlib
import zipfile

import check_data
import pytest
from check_data import main


@pytest.mark.parametrize("argument", ["train", "train=", "=assets/train.utf8"])
def test_argument_without_var_or_path_exits_2(argument, capsys):
    assert main([argument]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: expected VAR=PATH (a project variable and a file, e.g. train=assets/train.utf8)")
    assert repr(argument) in err


def test_missing_file_and_directory_are_named(tmp_path, capsys):
    assert main([f"train={tmp_path / 'nowhere.utf8'}", f"words={tmp_path}"]) == 1
    err = capsys.readouterr().err
    assert f"vars.train: file not found: {tmp_path / 'nowhere.utf8'}" in err
    assert f"vars.words: is a directory, not a file: {tmp_path}" in err


def test_present_files_pass(tmp_path, capsys):
    (tmp_path / "train.utf8").write_text("中国\n", encoding="utf-8")
    assert main([f"train={tmp_path / 'train.utf8'}"]) == 0
    assert "data found: train=" in capsys.readouterr().out


def zip_of(path, name="icwb2-data/training/train.utf8"):
    """A small zip holding one training file, at path."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, "中国  人民\n")
    return path


def test_a_zip_of_another_size_is_refused_before_unpacking(tmp_path, capsys):
    archive = zip_of(tmp_path / "icwb2-data.zip")
    dest = tmp_path / "assets"
    train = dest / "icwb2-data" / "training" / "train.utf8"
    assert main([f"train={train}", "--zip", str(archive), "--dest", str(dest)]) == 1
    err = capsys.readouterr().err
    size = archive.stat().st_size
    assert f"error: {archive}: {size:,} bytes, expected 52,640,127 (icwb2-data.zip as published)" in err
    assert not dest.exists()


def test_a_zip_of_the_size_but_another_sha256_is_refused_naming_both(tmp_path, capsys):
    archive = tmp_path / "icwb2-data.zip"
    with archive.open("wb") as data:
        data.truncate(check_data.ZIP_BYTES)  # zeros: the published size, not the file
    dest = tmp_path / "assets"
    assert main([f"train={dest / 'train.utf8'}", "--zip", str(archive), "--dest", str(dest)]) == 1
    zeros = hashlib.sha256(bytes(check_data.ZIP_BYTES)).hexdigest()
    expected = "296c54adf4abc3702eca0cbce70b55fe22a344ea02d33175a4d1183e074072b4"
    assert f"error: {archive}: SHA-256 {zeros}, expected {expected}" in capsys.readouterr().err
    assert not dest.exists()


def test_a_zip_with_the_published_size_and_sha256_is_unpacked(tmp_path, monkeypatch, capsys):
    archive = zip_of(tmp_path / "icwb2-data.zip")
    monkeypatch.setattr(check_data, "ZIP_BYTES", archive.stat().st_size)
    monkeypatch.setattr(check_data, "ZIP_SHA256", hashlib.sha256(archive.read_bytes()).hexdigest())
    dest = tmp_path / "assets"
    train = dest / "icwb2-data" / "training" / "train.utf8"
    assert main([f"train={train}", "--zip", str(archive), "--dest", str(dest)]) == 0
    assert train.read_text(encoding="utf-8") == "中国  人民\n"
