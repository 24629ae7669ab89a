"""What a saved crf_segmenter needs: its training word list travels inside it, and a damaged or incomplete
component directory fails at load, naming the file."""

import json
import random

import pytest
import spacy
from conftest import python
from spacy.tokens import Doc, DocBin
from spacy.util import load_config
from test_segmenter import TINY_CHAR_CNN, sentences
from test_user_dictionary import segmenter_from_config

from spacy_crf_lr.cws.corpus import make_example


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(model directory, dev.spacy) of a briefly trained segmenter whose [initialize.components.crf_segmenter] named
    a relative word list."""
    root = tmp_path_factory.mktemp("saved")
    train_dir = root / "train"
    train_dir.mkdir()
    (train_dir / "words.txt").write_text("中国\n人民\n银行\n的\n", encoding="utf8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(train_dir)
        nlp = segmenter_from_config({"words": "words.txt"})
        examples = [make_example(nlp, words) for words in sentences(60)]
        optimizer = nlp.initialize(lambda: examples)
        for epoch in range(4):
            random.Random(epoch).shuffle(examples)
            nlp.update(examples, sgd=optimizer)
        nlp.to_disk(root / "model")
    dev = DocBin(docs=[Doc(nlp.vocab, words=words) for words in sentences(20, seed=5)])
    dev.to_disk(root / "dev.spacy")
    return root / "model", root / "dev.spacy"


def test_a_model_evaluates_anywhere_with_its_own_word_list(saved, tmp_path):
    model, dev = saved
    assert (model / "crf_segmenter" / "words").is_file()
    out = tmp_path / "scores.json"
    proc = python(
        "-m", "spacy", "evaluate", str(model), str(dev), "--output", str(out), "--spans-key", "words", cwd=tmp_path
    )
    scores = json.loads(out.read_text(encoding="utf8"))
    assert 0.0 <= scores["token_oov_recall"] <= 1.0 and 0.0 <= scores["token_iv_recall"] <= 1.0
    assert "SPAN F" in proc.stdout and f"{scores['token_f'] * 100:.2f}" in proc.stdout


def test_the_saved_config_names_no_word_list_where_loading_reads(saved):
    components = load_config(saved[0] / "config.cfg", interpolate=False)["components"]
    assert components["crf_segmenter"]["scorer"]["words"] is None
    assert spacy.load(saved[0]).get_pipe("crf_segmenter").known_words == frozenset(["中国", "人民", "银行", "的"])


def dev_examples(nlp, dev):
    from spacy.training import Example

    return [Example(nlp.make_doc(doc.text), doc) for doc in DocBin().from_disk(dev).get_docs(nlp.vocab)]


def test_without_a_kept_word_list_oov_recall_is_left_out(saved):
    model, dev = saved
    nlp = spacy.load(model)
    nlp.get_pipe("crf_segmenter").known_words = None
    scores = nlp.evaluate(dev_examples(nlp, dev))
    assert "token_oov_recall" not in scores and scores["token_f"] is not None


def test_the_scorer_words_of_0_2_0_still_work_with_a_deprecation_warning(saved, tmp_path, monkeypatch):
    model, dev = saved
    monkeypatch.chdir(tmp_path)
    (tmp_path / "words.txt").write_text("中国\n人民\n", encoding="utf8")
    scorer = {"@scorers": "spacy_crf_lr.segmentation_scorer.v1", "words": "words.txt"}
    nlp = segmenter_from_config({}, scorer=scorer)
    examples = dev_examples(nlp, dev)
    with pytest.warns(DeprecationWarning, match=r"set \[initialize.components.crf_segmenter\] words instead"):
        nlp.initialize(lambda: examples)
    segmenter = nlp.get_pipe("crf_segmenter")
    assert segmenter.known_words == frozenset(["中国", "人民"])
    segmenter.known_words = None  # as in a model that keeps no list: the scorer reads its own file, if there
    (tmp_path / "words.txt").unlink()
    with pytest.warns(UserWarning, match="words.txt does not exist"):
        scores = nlp.evaluate(examples)
    assert "token_oov_recall" not in scores


def copy_model(model, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(model, target)
    return target


def test_a_missing_cfg_fails_at_load_naming_it(saved, tmp_path):
    target = copy_model(saved[0], tmp_path)
    (target / "crf_segmenter" / "cfg").unlink()
    with pytest.raises(ValueError, match=r"crf_segmenter[/\\]cfg is missing"):
        spacy.load(target)


@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_damaged_weights_fail_at_load_naming_the_file(saved, tmp_path, damage):
    target = copy_model(saved[0], tmp_path)
    weights = target / "crf_segmenter" / "model"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"")
    with pytest.raises(ValueError, match=r"from .*crf_segmenter[/\\]model: the data is damaged"):
        spacy.load(target)


def test_bytes_round_trip_keeps_the_word_list(saved):
    nlp = spacy.load(saved[0])
    segmenter = nlp.get_pipe("crf_segmenter")
    copy = spacy.blank("zh").add_pipe("crf_segmenter", config={"model": {"tok2vec": TINY_CHAR_CNN}})
    copy.from_bytes(segmenter.to_bytes())
    assert copy.known_words == segmenter.known_words == frozenset(["中国", "人民", "银行", "的"])


def test_a_missing_word_list_is_an_error_at_initialize(tmp_path):
    nlp = segmenter_from_config({"words": str(tmp_path / "nope.txt")})
    with pytest.raises(ValueError, match=r"training word list \(words\) .*nope.txt.* does not exist"):
        nlp.initialize(lambda: [make_example(nlp, ["中国"])])
