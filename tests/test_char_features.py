"""CharEmbed.v2 and v3: unseen characters keyed by script, dictionary features of the training words; KeyEmbed."""

import random

import numpy
import pytest
import spacy
from conftest import assert_windows_segment_as_whole, tiny_char_tok2vec
from thinc.api import fix_random_seed, set_dropout_rate

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.ml.features import (
    CharEmbedV2,
    CharEmbedV3,
    add_lexicon_words,
    fit_char_features,
    training_bigrams,
)
from spacy_crf_lr.ml.key_embed import KeyEmbed
from spacy_crf_lr.ml.keys import char_keys
from spacy_crf_lr.ml.lexicon import learn_lexicon, match_masks

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


def test_training_bigrams_count_each_doc_with_its_edges():
    nlp = spacy.blank("zh")
    rng = random.Random(3)
    texts = ["".join(rng.choice("中国人民ab1") for _ in range(rng.randint(0, 9))) for _ in range(300)]
    docs = [nlp.make_doc(text) for text in texts]
    counts: dict = {}
    for text in texts:
        norms = [char_keys(char)[0] for char in text]
        for pair in zip(["<"] + norms, norms + [">"]):
            if pair != ("<", ">"):
                counts[pair] = counts.get(pair, 0) + 1
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50)
    features = features_layer(model)
    for min_count in (1, 3, 40):
        known = set(training_bigrams(iter(docs), min_count).tolist())
        for text in texts[:50]:
            left, right = features.predict([nlp.make_doc(text)])[0][:, 2:4].T.tolist()
            pairs = list(zip(["<"] + [char_keys(c)[0] for c in text], [char_keys(c)[0] for c in text] + [">"]))
            for key, pair in zip(left + right[-1:], pairs):
                assert (key in known) == (counts[pair] >= min_count), (text, pair, min_count)
    assert len(training_bigrams([], 1)) == 0


def test_trigrams_key_each_character_with_both_neighbours_up_to_the_doc_edges():
    nlp = spacy.blank("zh")
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=2, trigram_rows=30)
    fit_char_features(model, WORDS * 2)
    features = features_layer(model)
    texts = ["中国人民", "国人民中", "人", "中国", "人民银行中国", "鑫犇国人"]
    keyed = features.predict([nlp.make_doc(text) for text in texts])
    trigrams = {}
    for text, keys in zip(texts, keyed):
        assert keys.shape == (len(text), 7)
        for i, key in enumerate(keys[:, 6].tolist()):
            trigram = (text[i - 1] if i else "<", text[i], text[i + 1] if i + 1 < len(text) else ">")
            trigram = tuple("?" if char in "鑫犇" else char for char in trigram)  # unseen: keyed by the script
            assert trigrams.setdefault(trigram, key) == key, trigram
    assert len(set(trigrams.values())) == len(trigrams)  # different trigrams, different keys
    without = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=2)
    fit_char_features(without, WORDS * 2)
    assert (keyed[4][:, :6] == features_layer(without).predict([nlp.make_doc(texts[4])])[0]).all()


def test_rare_bigrams_are_keyed_by_their_scripts():
    nlp = spacy.blank("zh")
    docs = [nlp.make_doc(text) for text in ["中国人民", "中国银行", "今天AB"]]
    plain, rare = (
        CharEmbedV2(width=8, rows=50, bigram_rows=50),
        CharEmbedV2(width=8, rows=50, bigram_rows=50, bigram_min_count=2),
    )
    for model in (plain, rare):
        fit_char_features(model, ["中国", "人民", "中国", "银行", "今天", "AB"] * 2, docs=docs)
    assert len(features_layer(plain).attrs["known_bigrams"]) == 0
    assert len(features_layer(rare).attrs["known_bigrams"]) == 2  # <edge>中 and 中国, seen twice
    doc = [nlp.make_doc("中国人银行民A")]
    before, after = features_layer(plain).predict(doc)[0], features_layer(rare).predict(doc)[0]
    assert (after[:, :2] == before[:, :2]).all()  # the character and script columns do not change
    assert after[0, 2] == before[0, 2] and after[0, 3] == before[0, 3]  # <edge>中, 中国: seen twice
    han_han = {after[i, 3] for i in range(1, 5)}  # 国人 (seen once), 人银, 银行, 行民 (never seen)
    assert len(han_han) == 1 and not han_han & set(before[:, 3].tolist())
    assert after[5, 3] == after[6, 2] not in han_han  # 民A: another pair of scripts
    assert after[6, 3] not in (after[6, 2], before[6, 3])  # A<edge>, never seen


def test_bigram_dropout_keys_bigrams_by_their_scripts_only_in_training():
    nlp = spacy.blank("zh")
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50, bigram_min_count=1, bigram_dropout=0.5)
    docs = [nlp.make_doc("".join(WORDS) * 3)]
    fit_char_features(model, WORDS * 2, docs=docs)
    features = features_layer(model)
    predicted = features.predict(docs)[0][:, 2:4]
    assert (features.predict(docs)[0][:, 2:4] == predicted).all()
    fix_random_seed(0)
    trained = features(docs, is_train=True)[0][0][:, 2:4]
    dropped = trained != predicted
    assert 0.35 < dropped.mean() < 0.65
    features.attrs["known_bigrams"] = numpy.array([1], dtype="uint64")  # now no bigram of the doc is known
    by_scripts = features.predict(docs)[0][:, 2:4]
    assert (trained[dropped] == by_scripts[dropped]).all() and len(set(by_scripts.ravel().tolist())) < 10


def test_leave_one_out_keys_rare_training_items_as_unseen_only_in_training():
    nlp = spacy.blank("zh")
    words = ["中国", "中国", "中国", "人民", "人民", "银行", "AB"]  # 中国 3 times, 人民 twice; 银, 行, A, B once
    docs = [nlp.make_doc(text) for text in ["中国人民", "中国人民", "中国银行AB"]]
    plain = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=2, bigram_min_count=1)
    held_out = CharEmbedV2(
        width=8, rows=50, bigram_rows=50, dictionary_length=2, bigram_min_count=1, leave_one_out=True
    )
    for model in (plain, held_out):
        fit_char_features(model, words, docs=docs)
    layer = features_layer(held_out)
    assert len(features_layer(plain).attrs["train_words"]) == 0
    assert (layer.attrs["words"] == features_layer(plain).attrs["words"]).all()  # 中国, 人民: seen twice
    assert len(layer.attrs["words"]) == 2 and len(layer.attrs["train_words"]) == 1  # only 中国 thrice
    doc = nlp.make_doc("中国人民银行A鑫")
    predicted = layer.predict([doc])[0]
    assert (predicted == features_layer(plain).predict([doc])[0]).all()  # outside training nothing changes
    trained = layer([doc], is_train=True)[0][0]
    unseen_chars = trained[:, 0] != predicted[:, 0]
    assert unseen_chars.tolist() == [False] * 4 + [True, True, True, False]  # 银 行 A seen once; 鑫 never
    assert (trained[4:6, 0] == layer.predict([nlp.make_doc("鑫鑫")])[0][:, 0]).all()  # keyed by script
    assert predicted[2, 4] == 1 and trained[2, 4] == 0  # 人民 starts a dictionary word, but not in training
    assert predicted[0, 4] == trained[0, 4] == 1  # 中国 does in both
    han_han = layer.predict([nlp.make_doc("鑫犇")])[0][0, 3]  # the right bigram key of two unseen Han characters
    # right bigrams 中国 (seen 3 times), 国人 (2), 人民 (2), 民银 (0), 银行 (1): keyed by script if seen < 1 / < 2
    assert [k == han_han for k in predicted[:5, 3]] == [False, False, False, True, False]
    assert [k == han_han for k in trained[:5, 3]] == [False, False, False, True, True]


def test_characters_are_counted_by_their_norm():
    once_each = ["Ａ", "A", "鑫"]  # full-width and ASCII A share a norm key: seen twice together
    chars, _ = learn_lexicon(once_each, min_count=2, max_length=2, char_min_count=2)
    assert chars.tolist() == [char_keys("A")[0]]
    assert len(learn_lexicon(once_each, min_count=2, max_length=2)[0]) == 2


def test_leave_one_out_words_added_by_the_user_count_in_training_too():
    model = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=3, leave_one_out=True)
    fit_char_features(model, ["中国", "中国"])
    add_lexicon_words(model, ["鑫犇"])
    layer = features_layer(model)
    assert len(layer.attrs["words"]) == 2 and len(layer.attrs["train_words"]) == 1


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
        (CharEmbedV2, {"bigram_min_count": -1}),
        (CharEmbedV2, {"bigram_min_count": 1.5}),
        (CharEmbedV2, {"bigram_dropout": 1.0}),
        (CharEmbedV2, {"trigram_rows": -5}),
        (CharEmbedV3, {"dictionary_length": 8}),
        (CharEmbedV3, {"dictionary_dropout": 1.0}),
    ],
)
def test_bad_settings_are_refused_naming_the_value(architecture, bad):
    with pytest.raises(ValueError, match=str(list(bad.values())[0])):
        architecture(width=8, **bad)


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


def test_embed_dropout_lets_training_dropout_reach_the_tables():
    nlp = spacy.blank("zh")
    docs = [nlp.make_doc("中国人民银行的发展很快")]
    for embed_dropout in (False, True):
        model = CharEmbedV2(width=8, rows=50, bigram_rows=50, dictionary_length=4, embed_dropout=embed_dropout)
        fit_char_features(model, WORDS * 2)
        model.initialize(X=docs)
        set_dropout_rate(model, 0.5)
        tables = [node for node in model.walk() if node.name == "hashembed"]
        assert len(tables) == 6
        assert all(("dropout_rate" in node.attrs) == embed_dropout for node in tables)
        fix_random_seed(0)
        trained = model(docs, is_train=True)[0][0]
        assert numpy.allclose(trained, model.predict(docs)[0]) != embed_dropout  # dropout in training only


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


def test_segmenter_learns_and_saves_the_known_and_held_out_bigrams(tmp_path):
    nlp = spacy.blank("zh")
    tok2vec = tiny_char_tok2vec(
        "spacy_crf_lr.CharEmbed.v2", dictionary_length=4, bigram_min_count=2, leave_one_out=True
    )
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": tok2vec}})
    rng = random.Random(0)
    examples = [make_example(nlp, [rng.choice(WORDS) for _ in range(rng.randint(3, 10))]) for _ in range(60)]
    optimizer = nlp.initialize(lambda: examples)
    nlp.update(examples, sgd=optimizer)
    layer = features_layer(nlp.get_pipe("crf_segmenter").model)
    expected = training_bigrams((eg.predicted for eg in examples), 2)
    held_out = training_bigrams((eg.predicted for eg in examples), 3)
    assert len(expected) > len(held_out) > 10 and (layer.attrs["known_bigrams"] == expected).all()
    assert (layer.attrs["train_bigrams"] == held_out).all()
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    loaded_layer = features_layer(loaded.get_pipe("crf_segmenter").model)
    assert (loaded_layer.attrs["known_bigrams"] == expected).all()
    assert (loaded_layer.attrs["train_bigrams"] == held_out).all()
    text = "中国人民银行的发展很快。鑫犇"
    assert [t.text for t in loaded(text)] == [t.text for t in nlp(text)]


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
