"""Tests for reading, splitting and writing SIGHAN files, and the SighanCorpus reader."""

import random
from pathlib import Path

import pytest
import spacy
from conftest import require_pku

from spacy_crf_lr.cws.corpus import create_sighan_corpus
from spacy_crf_lr.cws.sighan import (
    read_lines,
    read_lines_and_bom,
    read_segmented,
    read_word_list,
    split_sentence,
    split_words,
    write_segmented,
)
from spacy_crf_lr.cws.whitespace import SEPARATORS

LINES = ["我们  是  学生  。", "", "今天  天气  很  好", "你们  来  了  吗  ？", "中国  人民  银行"]


def write_lines(path: Path, lines: list, newline: str = "\r\n") -> Path:
    """Write lines, each ended by newline, as UTF-8 and return the path."""
    path.write_bytes("".join(line + newline for line in lines).encode("utf-8"))
    return path


@pytest.fixture
def nlp():
    """A blank Chinese pipeline with the character segmenter."""
    return spacy.blank("zh")


@pytest.mark.parametrize(
    "line",
    [
        "中国 人民 银行",
        "中国  人民  银行",
        "中国\u3000人民\u3000\u3000银行",
        "中国\t人民 \u3000银行",
        "  中国  人民  银行  ",
    ],
)
def test_split_words_on_any_separator_run(line):
    assert split_words(line) == ["中国", "人民", "银行"]


@pytest.mark.parametrize("space", list(SEPARATORS))
def test_every_whitespace_character_separates_words(space):
    assert split_words(f"{space}中国{space}人民{space}{space}银行{space}") == ["中国", "人民", "银行"]


@pytest.mark.parametrize("mark", ["\u200b", "\ufeff", "\u0301", "\x00"])
def test_other_characters_are_part_of_words(mark):
    assert split_words(f"中{mark}国  人民") == [f"中{mark}国", "人民"]


def test_leading_bom_is_encoding_not_a_word(tmp_path):
    path = tmp_path / "bom.utf8"
    path.write_bytes("\ufeff中国  人民\r\n\ufeff银行\r\n".encode())
    assert read_lines_and_bom(path) == (["中国  人民", "\ufeff银行"], True)
    assert read_segmented(path) == [["中国", "人民"], ["\ufeff银行"]]
    write_segmented(tmp_path / "out.utf8", [["中国", "人民"]], bom=True)
    assert (tmp_path / "out.utf8").read_bytes() == "\ufeff中国  人民\n".encode()
    assert read_lines_and_bom(tmp_path / "out.utf8") == (["中国  人民"], True)
    assert read_lines_and_bom(write_lines(tmp_path / "plain.utf8", ["中国"])) == (["中国"], False)
    write_segmented(tmp_path / "none.utf8", [], bom=True)
    assert (tmp_path / "none.utf8").read_bytes() == b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    "data, line", [("中国\r人民\r", 1), ("中国\r\n人民\r银行\n", 2), ("中国\r\r\n", 1), ("中国\n人民\r", 2)]
)
def test_a_cr_not_before_lf_is_refused_naming_the_line(tmp_path, data, line):
    path = tmp_path / "mac.utf8"
    path.write_bytes(data.encode())
    with pytest.raises(ValueError, match=f"mac.utf8: line {line}: a CR that is not followed by LF"):
        read_lines(path)
    with pytest.raises(ValueError, match="a CR that is not followed by LF"):
        read_segmented(path)


def test_reading_a_directory_or_missing_file_says_so(tmp_path):
    with pytest.raises(ValueError, match="is a directory, not a file"):
        read_lines(tmp_path)
    with pytest.raises(ValueError, match="nowhere.utf8: file not found"):
        read_lines(tmp_path / "nowhere.utf8")


def test_read_segmented_crlf_trailing_spaces_and_empty_lines(tmp_path):
    path = tmp_path / "gold.utf8"
    path.write_bytes("中国  人民  \r\n\r\n银行\u3000 。  \r\n  \r\n".encode("utf-8"))
    assert read_segmented(path) == [["中国", "人民"], [], ["银行", "。"], []]


def test_read_segmented_lf_without_final_newline(tmp_path):
    path = tmp_path / "gold.utf8"
    path.write_bytes("中国 人民\n\n银行".encode())
    assert read_segmented(path) == [["中国", "人民"], [], ["银行"]]


def test_read_segmented_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "bad.utf8"
    path.write_bytes("中国\r\n\r\n人民  ".encode() + b"\xff\r\n")
    with pytest.raises(ValueError, match=r"bad\.utf8: line 3: invalid UTF-8"):
        read_segmented(path)


def test_read_word_list_strips_and_skips_empty(tmp_path):
    path = write_lines(tmp_path / "words.utf8", ["中国", " 人民 ", "", "银行"], newline="\n")
    assert read_word_list(path) == {"中国", "人民", "银行"}


def test_write_segmented_exact_bytes_and_round_trip(tmp_path):
    sentences = [["中国", "人民"], [], ["银行"]]
    path = tmp_path / "out.utf8"
    write_segmented(path, sentences)
    assert path.read_bytes() == "中国  人民\n\n银行\n".encode()
    assert read_segmented(path) == sentences


def test_split_prefers_cut_after_punctuation():
    words = ["我们", "走", "，", "你们", "留下", "吧"]
    # without the punctuation rule the first chunk would be 我们走，你们 (6 characters)
    assert split_sentence(words, 6) == [["我们", "走", "，"], ["你们", "留下", "吧"]]


def test_split_ascii_punctuation():
    assert split_sentence(["ab", ",", "cd", "ef", "g"], 6) == [["ab", ","], ["cd", "ef", "g"]]


def test_split_without_punctuation_cuts_at_last_fitting_word():
    assert split_sentence(["一二三", "四五", "六七八"], 5) == [["一二三", "四五"], ["六七八"]]


def test_split_keeps_long_word_whole():
    assert split_sentence(["一二三四五六七", "八", "九"], 3) == [["一二三四五六七"], ["八", "九"]]


@pytest.mark.parametrize("max_length", [0, None])
def test_split_disabled(max_length):
    words = ["一二三", "四五", "。"] * 50
    assert split_sentence(words, max_length) == [words]


def test_split_empty_and_short_sentences():
    assert split_sentence([], 5) == []
    assert split_sentence(["一二", "三"], 3) == [["一二", "三"]]


def test_split_negative_max_length():
    with pytest.raises(ValueError, match="max_length .* got -1"):
        split_sentence(["一"], -1)


def check_chunks(words: list, max_length: int) -> None:
    """Assert the chunks of words keep every word in order and respect max_length."""
    chunks = split_sentence(words, max_length)
    assert [word for chunk in chunks for word in chunk] == words
    for chunk in chunks:
        assert chunk and (len(chunk) == 1 or sum(map(len, chunk)) <= max_length)


def test_split_random_sentences_respect_max_length():
    rng = random.Random(0)
    vocab = ["一", "二三", "四五六", "七八九十零", "，", "。", "、"]
    for _ in range(300):
        check_chunks(rng.choices(vocab, k=rng.randint(1, 40)), rng.randint(1, 12))


def test_corpus_examples_align(tmp_path, nlp):
    path = write_lines(tmp_path / "train.utf8", LINES)
    corpus = spacy.registry.resolve({"c": {"@readers": "spacy_crf_lr.SighanCorpus.v1", "path": str(path)}})["c"]
    examples = list(corpus(nlp))
    expected = [split_words(line) for line in LINES if line]
    assert [[token.text for token in eg.reference] for eg in examples] == expected
    for eg, words in zip(examples, expected):
        assert eg.predicted.text == eg.reference.text == "".join(words)
        assert [token.text for token in eg.predicted] == list("".join(words))
        word_spans = [eg.reference[i : i + 1] for i in range(len(eg.reference))]
        assert [span.text for span in eg.get_aligned_spans_y2x(word_spans)] == words
        assert list(eg.alignment.x2y.lengths) == [1] * len(eg.predicted)


def test_corpus_holdout_partition_is_disjoint_and_complete(tmp_path, nlp):
    lines = [f"第{i}  句" if i != 4 else "" for i in range(10)]
    path = write_lines(tmp_path / "train.utf8", lines)

    def texts(part: str) -> list:
        return [eg.reference.text for eg in create_sighan_corpus(path, holdout=0.3, part=part)(nlp)]

    train, dev, everything = texts("train"), texts("dev"), texts("all")
    assert dev == ["第7句", "第8句", "第9句"]
    assert train == ["第0句", "第1句", "第2句", "第3句", "第5句", "第6句"]
    assert train + dev == everything


def test_corpus_max_length_and_limit(tmp_path, nlp):
    path = write_lines(tmp_path / "train.utf8", ["我们  走  ，  你们  留下  吧", "中国  人民  银行"])
    texts = [eg.reference.text for eg in create_sighan_corpus(path, max_length=6)(nlp)]
    assert texts == ["我们走，", "你们留下吧", "中国人民银行"]
    assert len(list(create_sighan_corpus(path, max_length=6, limit=2)(nlp))) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"part": "test"}, "unknown part 'test'; allowed: train, dev, all"),
        ({"holdout": 1.0}, r"holdout must be in \[0, 1\), got 1.0"),
        ({"holdout": -0.1}, r"holdout must be in \[0, 1\), got -0.1"),
        ({"part": "dev"}, "part 'dev' needs holdout > 0"),
        ({"max_length": -5}, "max_length must be >= 0 .* got -5"),
        ({"limit": -1}, "limit must be >= 0 .* got -1"),
    ],
)
def test_corpus_argument_errors(tmp_path, kwargs, message):
    path = write_lines(tmp_path / "train.utf8", LINES)
    with pytest.raises(ValueError, match=message):
        create_sighan_corpus(path, **kwargs)


def test_nbsp_inside_a_gold_word_separates_and_trains(tmp_path, nlp):
    path = write_lines(tmp_path / "train.utf8", ["中\xa0国  人民\u2009银行", "我们\u3000学习"] * 4)
    examples = list(create_sighan_corpus(path)(nlp))
    assert [token.text for token in examples[0].reference] == ["中", "国", "人民", "银行"]
    segmenter = nlp.add_pipe("crf_segmenter")
    optimizer = nlp.initialize(lambda: examples)
    losses = nlp.update(examples, sgd=optimizer)
    assert losses[segmenter.name] > 0


@pytest.mark.parametrize(
    "lines, kwargs, message",
    [
        (
            LINES,
            {"holdout": 0.05, "part": "dev"},
            r"part 'dev' of .*train.utf8 is empty: holdout = 0.05 of its 5 lines",
        ),
        (["中国", "", ""], {"holdout": 0.5, "part": "dev"}, r"selects 2 lines, none with words; raise holdout"),
        (["中国", "人民"], {"holdout": 0.9, "part": "train"}, r"part 'train' .* lower holdout"),
        ([], {}, r"train.utf8 has no words \(the file is empty\)"),
        (["", "  "], {"part": "all"}, r"train.utf8 has no words \(its 2 lines are all blank\)"),
    ],
)
def test_empty_part_stops_when_the_reader_is_created(tmp_path, lines, kwargs, message):
    path = write_lines(tmp_path / "train.utf8", lines)
    with pytest.raises(ValueError, match=message):
        spacy.registry.resolve({"c": {"@readers": "spacy_crf_lr.SighanCorpus.v1", "path": str(path), **kwargs}})


def test_corpus_directory_is_not_a_file(tmp_path):
    with pytest.raises(ValueError, match=r"is a directory, not a file"):
        create_sighan_corpus(tmp_path)


def test_corpus_missing_file_names_path_and_variable(tmp_path):
    missing = tmp_path / "nowhere.utf8"
    with pytest.raises(ValueError, match=r"file not found: .*nowhere\.utf8.*paths\.train"):
        create_sighan_corpus(missing)


def test_corpus_without_path_names_variable():
    with pytest.raises(ValueError, match=r"no path given.*paths\.train"):
        create_sighan_corpus(None)


def test_pku_gold_counts():
    lines = read_segmented(require_pku("pku_test_gold.utf8"))
    assert len(lines) == 1_945 and lines[-1] == []
    assert sum(1 for words in lines if words) == 1_944
    assert sum(map(len, lines)) == 104_372
    assert sum(len(word) for words in lines for word in words) == 172_733


def test_pku_proxy_counts():
    lines = read_segmented(require_pku("pd199801_train.utf8"))
    assert len(lines) == 19_484
    assert sum(map(len, lines)) == 1_121_447
    assert sum(len(word) for words in lines for word in words) == 1_841_657


def test_pku_gold_corpus_first_examples(nlp):
    gold = require_pku("pku_test_gold.utf8")
    examples = list(create_sighan_corpus(gold, part="all", limit=5)(nlp))
    assert len(examples) == 5
    assert all(eg.predicted.text == eg.reference.text for eg in examples)
    assert all(len(eg.predicted) == len(eg.reference.text) for eg in examples)
