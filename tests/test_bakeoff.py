"""Tests for the SIGHAN bakeoff scorer and the `score` command."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, require_pku

from spacy_crf_lr.cws.bakeoff import BakeoffScore, score_files, score_lines


def write(path: Path, text: str, newline: str = "\r\n") -> Path:
    """Write text with the given line ending as UTF-8 bytes and return the path."""
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def score_texts(tmp_path: Path, gold: str, pred: str, words: str = "") -> BakeoffScore:
    """Score two segmented texts, with a word list when words is given."""
    words_path = write(tmp_path / "words.utf8", words) if words else None
    return score_files(write(tmp_path / "gold.utf8", gold), write(tmp_path / "pred.utf8", pred), words_path)


def test_merged_words_count_one_correct(tmp_path):
    score = score_texts(tmp_path, "中国  人民  银行  \n", "中国人民  银行\n")
    assert (score.gold_words, score.pred_words, score.correct) == (3, 2, 1)
    assert score.precision == pytest.approx(1 / 2)
    assert score.recall == pytest.approx(1 / 3)
    assert score.f == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))


def test_two_lines_are_summed(tmp_path):
    # line 1: gold 我|爱|北京 vs 我爱|北京 -> 北京 correct; line 2: 天安门 vs 天|安门 -> none
    score = score_texts(tmp_path, "我  爱  北京\n天安门\n", "我爱  北京\n天  安门\n")
    assert (score.gold_words, score.pred_words, score.correct) == (4, 4, 1)
    assert (score.precision, score.recall, score.f) == pytest.approx((0.25, 0.25, 0.25))


def test_words_match_by_span_not_by_string(tmp_path):
    # gold 的|的的 spans (0,1),(1,3); pred 的的|的 spans (0,2),(2,3): same strings, no span in common
    score = score_texts(tmp_path, "的  的的\n", "的的  的\n")
    assert score.correct == 0
    assert score.f == 0.0


def test_oov_and_iv_recall(tmp_path):
    # 中国, 银行 in the word list; 人民 is OOV. Only 银行 is segmented correctly.
    score = score_texts(tmp_path, "中国  人民  银行\n", "中国人民  银行\n", words="中国\n银行\n")
    assert (score.oov_words, score.oov_correct, score.iv_words, score.iv_correct) == (1, 0, 2, 1)
    assert score.oov_rate == pytest.approx(1 / 3)
    assert score.oov_recall == 0.0
    assert score.iv_recall == pytest.approx(1 / 2)


def test_oov_word_found(tmp_path):
    # word list 中国 only: 人民, 银行 OOV; pred 中国人民|银行 gets 银行 -> OOV recall 1/2, IV recall 0/1
    score = score_texts(tmp_path, "中国  人民  银行\n", "中国人民  银行\n", words="  中国 \n\n")
    assert (score.oov_words, score.oov_correct, score.iv_words, score.iv_correct) == (2, 1, 1, 0)
    assert (score.oov_rate, score.oov_recall, score.iv_recall) == pytest.approx((2 / 3, 1 / 2, 0.0))


def test_perfect_score_and_empty_lines(tmp_path):
    gold = "我们  是\n\n学生  。\n"
    score = score_texts(tmp_path, gold, "我们 是\n\n学生\u3000。\n")
    assert (score.gold_words, score.correct) == (4, 4)
    assert (score.precision, score.recall, score.f) == (1.0, 1.0, 1.0)


def test_without_word_list_oov_rates_are_none(tmp_path):
    score = score_texts(tmp_path, "我们  是\n", "我们是\n")
    assert (score.oov_rate, score.oov_recall, score.iv_recall) == (None, None, None)
    assert score.to_dict()["oov_rate"] is None


def test_division_by_zero_gives_zero():
    score = score_lines([[]], [[]], vocab=set())
    assert (score.precision, score.recall, score.f) == (0.0, 0.0, 0.0)
    assert (score.oov_rate, score.oov_recall, score.iv_recall) == (0.0, 0.0, 0.0)


def test_to_dict_has_counts_and_rates(tmp_path):
    result = score_texts(tmp_path, "中国  人民  银行\n", "中国人民  银行\n", words="中国\n").to_dict()
    assert result["correct"] == 1 and result["oov_words"] == 2
    assert result["precision"] == pytest.approx(0.5) and result["iv_recall"] == 0.0


def test_character_mismatch_names_file_and_line(tmp_path):
    with pytest.raises(ValueError, match=r"pred\.utf8: line 2: characters differ"):
        score_texts(tmp_path, "我们  是\n学生\n", "我们  是\n学员\n")


def test_line_count_mismatch(tmp_path):
    with pytest.raises(ValueError, match=r"gold\.utf8 has 3 lines, .*pred\.utf8 has 1;"):
        score_texts(tmp_path, "我们\n是\n学生\n", "我们\n")


def test_one_trailing_empty_line_is_ignored(tmp_path):
    score = score_texts(tmp_path, "我们  是\n\n", "我们  是\n")
    assert score.correct == 2


def test_two_trailing_empty_lines_are_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"gold\.utf8 has 3 lines, .*pred\.utf8 has 1;"):
        score_texts(tmp_path, "我们  是\n\n\n", "我们  是\n")


def test_invalid_utf8_names_file_and_line(tmp_path):
    gold = write(tmp_path / "gold.utf8", "我们\n是\n学生\n")
    pred = tmp_path / "pred.utf8"
    pred.write_bytes("我们\r\n是\r\n".encode() + b"\xe5\xad\r\n")
    with pytest.raises(ValueError, match=r"pred\.utf8: line 3: invalid UTF-8"):
        score_files(gold, pred)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m spacy_crf_lr ARGS` from the repository root."""
    command = [sys.executable, "-m", "spacy_crf_lr", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_prints_table_and_writes_json(tmp_path):
    gold = write(tmp_path / "gold.utf8", "中国  人民  银行\n")
    pred = write(tmp_path / "pred.utf8", "中国人民  银行\n")
    words = write(tmp_path / "words.utf8", "中国\n银行\n")
    out = tmp_path / "score.json"
    result = run_cli("score", str(gold), str(pred), "--words", str(words), "--json", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "precision     0.500   1 / 2" in lines
    assert "recall        0.333   1 / 3" in lines
    assert "F             0.400" in lines
    assert "OOV rate      0.333   1 / 3" in lines
    assert "OOV recall    0.000   0 / 1" in lines
    assert "IV recall     0.500   1 / 2" in lines
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["correct"] == 1 and report["gold_words"] == 3 and report["pred_words"] == 2
    assert report["f"] == pytest.approx(0.4)
    assert report["words"] == str(words)


def test_cli_error_exits_2_with_one_line(tmp_path):
    gold = write(tmp_path / "gold.utf8", "中国  人民\n")
    pred = write(tmp_path / "pred.utf8", "中国  人\n")
    result = run_cli("score", str(gold), str(pred))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "pred.utf8: line 1: characters differ" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text, what", [("", "the file is empty"), ("\n  \n", "its 2 lines are all blank")])
def test_cli_refuses_to_score_no_words(tmp_path, text, what):
    gold = write(tmp_path / "gold.utf8", text)
    pred = write(tmp_path / "pred.utf8", text)
    result = run_cli("score", str(gold), str(pred), "--json", str(tmp_path / "score.json"))
    assert result.returncode == 2
    assert result.stderr == f"error: {gold}: no words to score ({what}); give a segmented gold file\n"
    assert not (tmp_path / "score.json").exists()


def test_bom_and_unicode_whitespace_are_not_characters(tmp_path):
    gold = write(tmp_path / "gold.utf8", "\ufeff中国\xa0人民\u2029银行\n")
    pred = write(tmp_path / "pred.utf8", "中国  人民  银行\n")
    assert score_files(gold, pred).f == 1.0


def test_pku_gold_against_itself():
    gold = require_pku("pku_test_gold.utf8")
    score = score_files(gold, gold, require_pku("pku_training_words.utf8"))
    assert score.gold_words == score.correct == 104_372
    assert score.f == 1.0
    assert round(score.oov_rate, 3) == 0.058
    assert score.oov_recall == score.iv_recall == 1.0


def test_pku_unsegmented_input_scores_one_word_per_line():
    # pku_test.utf8 has the gold's characters line by line: each line is one predicted word
    score = score_files(require_pku("pku_test_gold.utf8"), require_pku("pku_test.utf8"))
    assert score.pred_words == 1_944
    assert score.recall < 0.001
