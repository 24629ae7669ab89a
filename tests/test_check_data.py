"""scripts/check_data.py: bad arguments and missing files are named, with a non-zero exit."""

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
