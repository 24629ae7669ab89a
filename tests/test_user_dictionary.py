"""User dictionaries for `crf_segmenter`: matching, constrained decoding, serialization, n-best."""

import random

import pytest
import spacy
from conftest import python
from spacy.util import load_config, load_model_from_config
from test_segmenter import TINY_CHAR_CNN, sentences
from thinc.api import Config

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.cws.dictionary import UserDictionary, bmes_mask, read_user_words


@pytest.fixture(scope="module")
def trained():
    """A small segmenter trained on the toy vocabulary (its own copy: the tests add words)."""
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": TINY_CHAR_CNN}})
    examples = [make_example(nlp, words) for words in sentences(150)]
    optimizer = nlp.initialize(lambda: examples)
    for epoch in range(12):
        random.Random(epoch).shuffle(examples)
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], sgd=optimizer)
    return nlp


def words_of(nlp, text):
    return [t.text for t in nlp(text)]


def test_leftmost_longest_matching():
    dictionary = UserDictionary(["中国", "中国人民", "人民银行", "银行", "行的"])
    # 中国人民 (longest at 0) wins over 中国; 人民银行 overlaps it and is not taken; then 银行 at 4.
    assert dictionary.find("中国人民银行的") == [(0, 4), (4, 6)]
    assert dictionary.find("国人民银行的") == [(1, 5)]  # leftmost: 人民银行 at 1 before 银行 at 3
    assert dictionary.find("") == [] and UserDictionary().find("中国") == []
    assert dictionary.find("中国人") == [(0, 2)]  # the walk past 中国 finds no longer word


def test_matching_is_a_trie_walk_not_a_scan_per_word():
    words = [f"词{i:06d}" for i in range(100_000)]
    dictionary = UserDictionary(words)
    assert len(dictionary) == 100_000 and dictionary.max_length == 7
    text = "今天词000123和词099999，" * 1000
    matches = dictionary.find(text)
    assert len(matches) == 2000 and text[matches[1][0] : matches[1][1]] == "词099999"


def test_bad_words_are_refused(tmp_path):
    with pytest.raises(ValueError, match="without whitespace"):
        UserDictionary(["中 国"])
    with pytest.raises(ValueError, match="non-empty"):
        UserDictionary([""])
    with pytest.raises(ValueError, match="not one string"):
        UserDictionary("中国")
    with pytest.raises(ValueError, match="not found"):
        read_user_words(tmp_path / "missing.txt")
    path = tmp_path / "words.txt"
    path.write_text("\ufeff中国  n\n\n 人民银行 \r\n", encoding="utf-8")
    assert read_user_words(path) == ["中国", "人民银行"]


def test_bmes_mask_of_matches():
    labels = ("B", "M", "E", "S")
    mask = bmes_mask(9, [(0, 2), (3, 7), (8, 9)], labels)
    allowed = ["".join(label for label, ok in zip(labels, row) if ok) for row in mask]
    assert allowed == ["B", "E", "BMES", "B", "M", "M", "E", "BMES", "S"]
    with pytest.raises(ValueError, match="token indices"):
        bmes_mask(3, [(2, 4)], labels)


def test_matches_are_token_spans_that_never_cross_whitespace(trained):
    segmenter = trained.get_pipe("crf_segmenter")
    segmenter.add_words(["中国", "国人", "人民"])
    try:
        doc = trained.make_doc("中国 人民\n中国人")
        chars = [t.text for t in doc]
        assert [chars[a:b] for a, b in segmenter.word_matches(doc)] == [["中", "国"], ["人", "民"], ["中", "国"]]
        assert segmenter.word_matches(trained.make_doc("中 国")) == []
    finally:
        segmenter.dictionary.clear()


def test_dictionary_words_come_out_whole_decided_with_the_sentence(trained):
    segmenter = trained.get_pipe("crf_segmenter")
    text = "中国人民银行的发展很快。"
    assert words_of(trained, text)[:3] == ["中国", "人民", "银行"]
    segmenter.add_words(["人民银行", "发展很"])
    try:
        words = words_of(trained, text)
        assert "人民银行" in words and "发展很" in words
        assert "".join(words) == text
        assert words[0] == "中国"  # the rest of the sentence is still decoded by the CRF
        doc = trained(text)
        assert all(0.0 < t._.crf_prob <= 1.0 for t in doc)
        assert [d.text for d in trained.pipe(["人民银行", "银行"])] == ["人民银行", "银行"]
    finally:
        segmenter.dictionary.clear()


def test_single_character_and_whitespace_around_matches(trained):
    segmenter = trained.get_pipe("crf_segmenter")
    segmenter.add_words(["国人", "快"])
    try:
        words = [t.text for t in trained("中国人 快快 中国") if not t.is_space]
        assert "国人" in words and words.count("快") == 2
    finally:
        segmenter.dictionary.clear()


def test_softmax_decoder_also_keeps_dictionary_words():
    nlp = spacy.blank("zh")
    segmenter = nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": TINY_CHAR_CNN}, "decoder": "softmax"})
    examples = [make_example(nlp, words) for words in sentences(60)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(4):
        nlp.update(examples, sgd=optimizer)
    segmenter.add_words(["银行的发展"])
    assert "银行的发展" in words_of(nlp, "中国人民银行的发展很快。")
    best = segmenter.nbest(nlp.make_doc("中国人民银行的发展很快。"), 3)  # independent tokens: log-softmax sums
    assert best[0][0] == words_of(nlp, "中国人民银行的发展很快。")
    assert len(best) == 3 and best[0][1] >= best[1][1] >= best[2][1] and best[0][1] <= 0.0


def segmenter_from_config(initialize: dict, **component) -> spacy.Language:
    """A blank pipeline of one tiny crf_segmenter built from a config, as `spacy train` builds it: `initialize`
    is its [initialize.components.crf_segmenter] block, `component` more factory settings."""
    segmenter = {"factory": "crf_segmenter", "model": {"tok2vec": TINY_CHAR_CNN}, **component}
    config = {
        "nlp": {"lang": "zh", "pipeline": ["crf_segmenter"]},
        "components": {"crf_segmenter": segmenter},
        "initialize": {"components": {"crf_segmenter": initialize}},
    }
    return load_model_from_config(Config(config), auto_fill=True)


def user_file(tmp_path):
    path = tmp_path / "user.txt"
    path.write_text("人民银行\n发展很\n", encoding="utf-8")
    return path


def test_user_words_setting_is_read_at_initialize_and_saved(tmp_path):
    path = user_file(tmp_path)
    nlp = segmenter_from_config({"user_words": str(path)})
    examples = [make_example(nlp, words) for words in sentences(30)]
    nlp.initialize(lambda: examples)
    segmenter = nlp.get_pipe("crf_segmenter")
    assert segmenter.user_words == ["人民银行", "发展很"]
    segmenter.add_words(["今天学习"])
    expected = words_of(nlp, "中国人民银行的发展很快。我们今天学习历史")
    assert "人民银行" in expected and "今天学习" in expected
    nlp.to_disk(tmp_path / "model")
    path.unlink()  # the words are in the model: the file is not needed any more
    assert (tmp_path / "model" / "crf_segmenter" / "user_words").is_file()
    saved = load_config(tmp_path / "model" / "config.cfg", interpolate=False)
    assert saved["components"]["crf_segmenter"]["user_words"] is None  # what loading reads names no file
    assert str(path) not in Config({"components": saved["components"]}).to_str()
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("crf_segmenter").user_words == ["人民银行", "今天学习", "发展很"]
    assert words_of(loaded, "中国人民银行的发展很快。我们今天学习历史") == expected
    from_bytes = spacy.blank("zh")
    from_bytes.add_pipe("crf_segmenter", config={"model": {"tok2vec": TINY_CHAR_CNN}})
    from_bytes.from_bytes(nlp.to_bytes())
    assert from_bytes.get_pipe("crf_segmenter").user_words == ["人民银行", "今天学习", "发展很"]
    # A fresh process that has never seen the word file
    script = (
        "import spacy, sys; nlp = spacy.load(sys.argv[1]); "
        "print('|'.join(t.text for t in nlp('中国人民银行的发展很快。我们今天学习历史')))"
    )
    out = python("-c", script, str(tmp_path / "model")).stdout.strip().splitlines()[-1]
    assert out.split("|") == expected


def test_missing_user_words_file_is_an_error_at_initialize(tmp_path):
    nlp = segmenter_from_config({"user_words": str(tmp_path / "x")})
    with pytest.raises(ValueError, match="User dictionary not found"):
        nlp.initialize(lambda: [make_example(nlp, ["中国"])])


def test_the_factory_user_words_of_0_2_0_still_work_with_a_deprecation_warning(tmp_path):
    path = user_file(tmp_path)
    nlp = segmenter_from_config({}, user_words=str(path))
    with pytest.warns(DeprecationWarning, match=r"set \[initialize.components.crf_segmenter\] user_words instead"):
        nlp.initialize(lambda: [make_example(nlp, words) for words in sentences(10)])
    assert nlp.get_pipe("crf_segmenter").user_words == ["人民银行", "发展很"]


def test_user_words_in_both_places_are_refused_naming_both(tmp_path):
    path = user_file(tmp_path)
    nlp = segmenter_from_config({"user_words": str(path)}, user_words="old.txt")
    with pytest.raises(ValueError, match=r"user_words is set twice: .*user.txt.* and 'old.txt'"):
        nlp.initialize(lambda: [make_example(nlp, ["中国"])])


def test_segmenter_nbest(trained):
    segmenter = trained.get_pipe("crf_segmenter")
    text = "中国人民银行的发展很快。"
    doc = trained.make_doc(text)
    best = segmenter.nbest(doc, 5)
    assert len(best) == 5
    assert best[0][0] == words_of(trained, text)
    assert all("".join(words) == text for words, _ in best)
    log_probs = [lp for _, lp in best]
    assert log_probs == sorted(log_probs, reverse=True) and log_probs[0] <= 0.0
    assert len({tuple(words) for words, _ in best}) == 5
    assert segmenter.nbest(doc, 1) == best[:1]
    segmenter.add_words(["人民银行"])
    try:
        constrained = segmenter.nbest(doc, 3)
        assert constrained[0][0] == words_of(trained, text)
        assert all("人民银行" in words for words, _ in constrained)
    finally:
        segmenter.dictionary.clear()
    assert segmenter.nbest(trained.make_doc(""), 2) == [([], 0.0)]
    with pytest.raises(ValueError, match="k must be a positive integer"):
        segmenter.nbest(doc, 0)
