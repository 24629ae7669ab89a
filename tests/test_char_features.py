"""CharEmbed.v2 and v3: unseen characters keyed by script, dictionary features of the training words; KeyEmbed."""

import random

import numpy
import pytest
import spacy
from conftest import assert_windows_segment_as_whole, tiny_char_tok2vec
from spacy.util import registry
from thinc.api import Config, fix_random_seed

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.ml.chars.architectures import REMOVED_V2_SETTINGS, CharEmbedV2, CharEmbedV3
from spacy_crf_lr.ml.chars.fitting import fit_char_features
from spacy_crf_lr.ml.chars.key_embed import KeyEmbed
from spacy_crf_lr.ml.chars.keys import char_keys
from spacy_crf_lr.ml.chars.lexicon import learn_lexicon, match_masks

WORDS = ["中国", "人民", "银行", "中华人民", "发展", "的", "很", "快", "。", "今天", "学习", "ＡＢ"]


def features_layer(model):
    return next(node for node in model.walk() if node.name == "lexicon_features")


def brute_force_masks(text: str, words, max_length: int):
    starts, ends = [0] * len(text), [0] * len(text)
    for i in range(len(text)):
        for length in range(2, max_length + 1):
            if text[i : i + length] in words and i + length <= len(text):
                starts[i] |= 1 << (length - 2)
                ends[i + length - 1] |= 1 << (length - 2)
    return starts, ends


def test_dictionary_masks_equal_brute_force_substring_search():
    rng = random.Random(1)
    words = {w for w in WORDS if 2 <= len(w) <= 4}
    _, word_keys = learn_lexicon(list(words) * 2 + ["快快"], min_count=2, max_length=4)
    for _ in range(50):
        text = "".join(rng.choice(WORDS + ["国", "人", "快快"]) for _ in range(rng.randint(0, 12)))
        norms = numpy.array([char_keys(c)[0] for c in text], dtype="uint64")
        got = match_masks(norms, word_keys, 4, numpy.zeros(len(text), dtype="int64"))
        assert [m.tolist() for m in got] == [list(m) for m in brute_force_masks(text, words, 4)], text


def test_dictionary_needs_min_count_and_ignores_longer_words():
    _, keys = learn_lexicon(["中国", "中国", "人民", "中华人民共和国", "中华人民共和国"], min_count=2, max_length=4)
    assert len(keys) == 1  # 人民 is seen once, the 7-character word is longer than max_length


def test_no_dictionary_word_spans_two_docs_of_a_batch():
    nlp = spacy.blank("zh")
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=4)
    fit_char_features(model, ["中国", "中国"])
    features = features_layer(model)
    docs = [nlp.make_doc("人中"), nlp.make_doc("国人")]
    batch = features.predict(docs)
    assert [b[:, 4:].tolist() for b in batch] == [[[0, 0], [0, 0]], [[0, 0], [0, 0]]]
    assert features.predict([nlp.make_doc("人中国")])[0][:, 4:].tolist() == [[0, 0], [1, 0], [0, 1]]


def test_batch_keys_equal_one_doc_at_a_time():
    nlp = spacy.blank("zh")
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=4)
    fit_char_features(model, WORDS * 2)
    features = features_layer(model)
    texts = ["中国人民银行的发展很快。", "", "ＡＢ 今天  学习\n中华人民", "快", "未见过的字"]
    docs = [nlp.make_doc(text) for text in texts]
    for doc, keys in zip(docs, features.predict(docs)):
        assert keys.shape == (len(doc), 6)
        assert (keys == features.predict([doc])[0]).all()
    assert features.predict([]) == []


def test_unseen_characters_are_keyed_by_their_script():
    nlp = spacy.blank("zh")
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50)
    features = features_layer(model)
    before = features.predict([nlp.make_doc("中国鑫犇x")])[0]
    fit_char_features(model, WORDS * 2)
    after = features.predict([nlp.make_doc("中国鑫犇x")])[0]
    assert (after[:2, 0] == before[:2, 0]).all()  # seen in training: keyed by the character
    assert after[2, 0] == after[3, 0] != before[2, 0]  # two unseen CJK characters: one key, their script's
    assert after[4, 0] not in (after[2, 0], before[4, 0])  # an unseen Latin letter: another script's key
    assert (after[:, 1] == before[:, 1]).all()  # the script column itself does not change


def test_characters_are_known_by_their_norm():
    chars, _ = learn_lexicon(["Ａ", "A", "鑫 "], min_count=2, max_length=2)  # full-width and ASCII A: one norm key
    assert chars.tolist() == sorted([char_keys("A")[0], char_keys("鑫")[0]])


def test_full_width_and_ascii_share_keys():
    nlp = spacy.blank("zh")
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=3)
    fit_char_features(model, ["ＡＢ", "ＡＢ"])
    keys = features_layer(model).predict([nlp.make_doc("AB"), nlp.make_doc("ＡＢ")])
    assert (keys[0] == keys[1]).all() and keys[0][0, 4] == 1


def test_unseen_dropout_only_in_training():
    nlp = spacy.blank("zh")
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50, unseen_dropout=0.5)
    fit_char_features(model, WORDS * 2)
    features = features_layer(model)
    doc = nlp.make_doc("中国人民银行的发展很快" * 5)
    fix_random_seed(0)
    trained, _ = features([doc], is_train=True)
    predicted = features.predict([doc])[0]
    assert (predicted == features.predict([doc])[0]).all()
    changed = (trained[0][:, 0] != predicted[:, 0]).mean()
    assert 0.3 < changed < 0.7


@pytest.mark.parametrize(
    "architecture, bad",
    [
        (CharEmbedV2, {"dictionary_length": 1}),
        (CharEmbedV2, {"dictionary_length": 17}),
        (CharEmbedV2, {"unseen_dropout": 1.0}),
        (CharEmbedV2, {"dictionary_dropout": -0.1}),
        (CharEmbedV3, {"dictionary_length": 8}),
        (CharEmbedV3, {"dictionary_dropout": 1.0}),
    ],
)
def test_bad_settings_are_refused_naming_the_value(architecture, bad):
    with pytest.raises(ValueError, match=str(list(bad.values())[0])):
        architecture(width=8, **bad)


REMOVED_ON = {
    "embed_dropout": True,
    "bigram_min_count": 2,
    "bigram_dropout": 0.1,
    "leave_one_out": True,
    "trigram_rows": 9,
}


def embed_block(**settings) -> Config:
    lines = "".join(f"{key} = {str(value).lower()}\n" for key, value in settings.items())
    return Config().from_str(f'[embed]\n@architectures = "spacy_crf_lr.CharEmbed.v2"\nwidth = 8\n{lines}')


def test_settings_removed_in_0_3_0_are_accepted_at_their_off_values_as_0_2_0_saved_them():
    assert set(REMOVED_V2_SETTINGS) == set(REMOVED_ON)
    nlp = spacy.blank("zh")
    docs = [nlp.make_doc("中国人民银行的发展很快")]
    old, new = (registry.resolve(block)["embed"] for block in (embed_block(**REMOVED_V2_SETTINGS), embed_block()))
    for model in (old, new):
        fit_char_features(model, WORDS * 2)
        model.initialize(X=docs)
    new.from_bytes(old.to_bytes())
    assert numpy.array_equal(old.predict(docs)[0], new.predict(docs)[0])


@pytest.mark.parametrize("setting", sorted(REMOVED_ON))
def test_a_removed_setting_switched_on_is_refused_naming_it_and_its_last_release(setting):
    with pytest.raises(ValueError, match=rf"CharEmbed.v2: {setting} was removed in 0.3.0 .*0\.2\.0"):
        registry.resolve(embed_block(**{setting: REMOVED_ON[setting]}))


def test_key_embed_sums_each_columns_rows_and_backprops_into_them():
    model = KeyEmbed(3, [(10, 4), (7, 1), (5, 0)], seed=7)
    model.initialize()
    keys = numpy.array([[3, 9, 4], [123456789, 2, 0], [3, 8, 4]], dtype="uint64")
    ops, table = model.ops, model.get_param("E")
    rows = numpy.concatenate(
        [ops.hash(keys[:, 0].copy(), 7)[:, :4] % 10, ops.hash(keys[:, 1].copy(), 8)[:, :1] % 7 + 10, keys[:, 2:] + 17],
        axis=1,
    ).astype("int64")
    vectors, backprop = model(keys, is_train=True)
    assert numpy.allclose(vectors, table[rows].sum(axis=1))
    d_vectors = numpy.random.default_rng(0).normal(size=vectors.shape).astype("f")
    backprop(d_vectors)
    expected = numpy.zeros_like(table)
    numpy.add.at(expected, rows, numpy.broadcast_to(d_vectors[:, None, :], (*rows.shape, 3)))
    assert numpy.allclose(model.get_grad("E"), expected)
    assert model.predict(keys[:0]).shape == (0, 3)
    with pytest.raises(ValueError, match="hashes in 0..4"):
        KeyEmbed(3, [(10, 5)])


def test_v3_has_v2s_keys_with_one_joint_dictionary_column():
    nlp = spacy.blank("zh")
    v2 = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=4)
    v3 = CharEmbedV3(width=8, rows=50, bigram_rows=50, dictionary_length=4)
    for model in (v2, v3):
        fit_char_features(model, WORDS * 2)
    docs = [nlp.make_doc(text) for text in ["中国人民银行的发展很快。", "", "中华人民今天学习ＡＢ", "鑫"]]
    for two, joint in zip(features_layer(v2).predict(docs), features_layer(v3).predict(docs)):
        assert (joint[:, :4] == two[:, :4]).all()
        assert (joint[:, 4] == two[:, 4] | (two[:, 5] << numpy.uint64(3))).all()
    v3.initialize(X=docs)
    for doc, vectors in zip(docs, v3.predict(docs)):
        assert vectors.shape == (len(doc), 8)
        assert numpy.allclose(vectors, v3.predict([doc])[0])


@pytest.mark.parametrize("architecture", [CharEmbedV2, CharEmbedV3])
def test_dictionary_dropout_hides_words_only_in_training(architecture):
    nlp = spacy.blank("zh")
    model = architecture(width=8, rows=50, bigram_rows=50, dictionary_length=4, dictionary_dropout=0.5)
    fit_char_features(model, WORDS * 2)
    features = features_layer(model)
    docs = [nlp.make_doc("中国人民银行的发展很快，今天学习中华人民")]
    predicted = features.predict(docs)[0][:, 4:]
    assert (features.predict(docs)[0][:, 4:] == predicted).all()
    fix_random_seed(0)
    trained = [features(docs, is_train=True)[0][0][:, 4:] for _ in range(40)]
    assert all((keys & ~predicted == 0).all() for keys in trained)  # matches of hidden words only go away
    kept = numpy.mean([numpy.count_nonzero(keys) for keys in trained]) / numpy.count_nonzero(predicted)
    assert 0.25 < kept < 0.75


@pytest.fixture(scope="module", params=["spacy_crf_lr.CharEmbed.v2", "spacy_crf_lr.CharEmbed.v3"])
def trained_lexicon(request):
    """A crf_segmenter on CharEmbed.v2 or v3 features trained for a few steps on the toy words."""
    nlp = spacy.blank("zh")
    tok2vec = tiny_char_tok2vec(request.param, dictionary_length=4, unseen_dropout=0.05, dictionary_dropout=0.1)
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": tok2vec}})
    rng = random.Random(0)
    examples = [make_example(nlp, [rng.choice(WORDS) for _ in range(rng.randint(3, 10))]) for _ in range(60)]
    optimizer = nlp.initialize(lambda: examples)
    for i in range(0, len(examples), 20):
        nlp.update(examples[i : i + 20], sgd=optimizer)
    return nlp


def test_segmenter_learns_and_saves_the_lexicon(trained_lexicon, tmp_path):
    nlp = trained_lexicon
    layer = features_layer(nlp.get_pipe("crf_segmenter").model)
    assert len(layer.attrs["words"]) == len({w for w in WORDS if len(w) > 1})
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    loaded_layer = features_layer(loaded.get_pipe("crf_segmenter").model)
    assert (loaded_layer.attrs["words"] == layer.attrs["words"]).all()
    assert (loaded_layer.attrs["known_chars"] == layer.attrs["known_chars"]).all()
    text = "中国人民银行的发展很快。鑫"
    assert [t.text for t in loaded(text)] == [t.text for t in nlp(text)]
    assert loaded(text).text == text


def test_a_long_doc_in_windows_is_segmented_as_a_whole(trained_lexicon, monkeypatch):
    from spacy_crf_lr.pipeline.windows import context_width

    segmenter = trained_lexicon.get_pipe("crf_segmenter")
    assert context_width(segmenter.model) == 4  # dictionary words of up to 4 characters, one window-1 CNN layer
    text = "".join(["中国人民银行的发展很快。", "中华人民今天学习 ", "\n"][i % 3] for i in range(400))
    assert_windows_segment_as_whole(trained_lexicon, text, monkeypatch)


def test_user_words_mode_features_feeds_the_dictionary_features_only(trained_lexicon, tmp_path):
    segmenter = trained_lexicon.get_pipe("crf_segmenter")
    layer = features_layer(segmenter.model)
    before = len(layer.attrs["words"])
    trained_lexicon.config["components"]["crf_segmenter"]["user_words_mode"] = "features"
    segmenter.cfg["user_words_mode"] = "features"
    try:
        assert segmenter.add_words(["鑫犇", "学习很快", "一二三四五"]) == 3
        assert len(layer.attrs["words"]) == before + 2  # five characters: longer than dictionary_length 4
        doc = trained_lexicon.make_doc("鑫犇学习很快")
        assert segmenter.allowed_tags([doc]) is None  # no forced words
        keys = layer.predict([doc])[0]
        assert keys[0, 4] == 1 and keys[2, 4] == 1 | 4  # 鑫犇 (new) starts there; 学习 (trained) and 学习很快 (new)
        trained_lexicon.to_disk(tmp_path / "model")
        loaded = spacy.load(tmp_path / "model")
        loaded_layer = features_layer(loaded.get_pipe("crf_segmenter").model)
        assert (loaded_layer.attrs["words"] == layer.attrs["words"]).all()
        assert loaded.get_pipe("crf_segmenter").user_words == ["一二三四五", "学习很快", "鑫犇"]
    finally:
        trained_lexicon.config["components"]["crf_segmenter"]["user_words_mode"] = "force"
        segmenter.cfg["user_words_mode"] = "force"


def test_user_words_mode_features_needs_dictionary_features(tiny_segmenter):
    with pytest.raises(ValueError, match="user_words_mode 'features' needs a model with dictionary features"):
        spacy.load(tiny_segmenter, config={"components": {"crf_segmenter": {"user_words_mode": "features"}}})
    nlp = spacy.blank("zh")
    with pytest.raises(Exception, match="user_words_mode"):
        nlp.add_pipe("crf_segmenter", config={"user_words_mode": "soft"})
