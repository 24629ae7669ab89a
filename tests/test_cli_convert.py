"""`convert`: nothing to convert, or a directory, is an error with a clear message; output written whole."""

import pytest
from spacy.tokens import DocBin

from spacy_crf_lr.cli import main


def test_convert_writes_the_docs(tmp_path, capsys):
    source = tmp_path / "train.utf8"
    source.write_text("中国  人民\n\n银行  的\n", encoding="utf-8")
    assert main(["convert", str(source), str(tmp_path / "train.spacy")]) == 0
    assert "wrote 2 docs" in capsys.readouterr().err
    assert len(DocBin().from_disk(tmp_path / "train.spacy")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.spacy", "train.utf8"]


@pytest.mark.parametrize(
    "text, options, message",
    [
        ("", [], "has no words (the file is empty)"),
        ("\n\n", [], "has no words (its 2 lines are all blank)"),
        ("中国  人民\n银行\n", ["--holdout", "0.1", "--part", "dev"], "part 'dev' of"),
    ],
)
def test_nothing_to_convert_is_an_error(tmp_path, capsys, text, options, message):
    source = tmp_path / "train.utf8"
    source.write_text(text, encoding="utf-8")
    assert main(["convert", str(source), str(tmp_path / "out.spacy"), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out.spacy").exists()


def test_convert_of_a_directory_says_it_is_one(tmp_path, capsys):
    assert main(["convert", str(tmp_path), str(tmp_path / "out.spacy")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: is a directory, not a file\n"
