"""spacy_crf_lr.CRFEnsemble.v1 and `python -m spacy_crf_lr ensemble`: several trained pipelines as one."""

import json
import random
import subprocess
import sys

import numpy
import pytest
import spacy
from conftest import TOY_WORDS, python, tiny_char_tok2vec
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import fix_random_seed

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.pipeline.ensemble import ensemble_pipeline

TEXTS = ["我们今天学习历史。", "中国人民银行的发展很快", "AB中国", "快"]


def examples_of(nlp, n=80):
    rng = random.Random(0)
    return [make_example(nlp, [rng.choice(TOY_WORDS) for _ in range(rng.randint(3, 10))]) for _ in range(n)]


def train_member(seed: int, decoder: str = "crf", steps: int = 2):
    """A crf_segmenter with dictionary features trained for a few passes from random seed `seed`."""
    fix_random_seed(seed)
    nlp = spacy.blank("zh")
    tok2vec = tiny_char_tok2vec("spacy_crf_lr.CharEmbed.v2", dictionary_length=3)
    nlp.add_pipe("crf_segmenter", config={"decoder": decoder, "model": {"tok2vec": tok2vec}})
    examples = examples_of(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], sgd=optimizer)
    return nlp


@pytest.fixture(scope="module")
def members():
    return [train_member(0), train_member(1)]


def scores_of(nlp, texts=TEXTS):
    return nlp.get_pipe("crf_segmenter").model.predict([nlp.make_doc(text) for text in texts])


def words(nlp, texts=TEXTS):
    return [[token.text for token in doc] for doc in nlp.pipe(texts)]


def test_ensemble_scores_are_the_mean_of_the_members(members):
    members[0].meta["performance"] = {"token_f": 0.5}  # as spacy train saves it: pipeline 0's, not the ensemble's
    try:
        ensemble = ensemble_pipeline(members)
    finally:
        del members[0].meta["performance"]
    got, each = scores_of(ensemble), [scores_of(nlp) for nlp in members]
    assert not numpy.allclose(each[0].emissions, each[1].emissions)  # two different members
    assert "performance" not in ensemble.meta and "averages 2 trained pipelines" in ensemble.meta["description"]
    for name in ("emissions", "transitions", "start", "end"):
        mean = (getattr(each[0], name) + getattr(each[1], name)) / 2
        numpy.testing.assert_allclose(getattr(got, name), mean, rtol=1e-5, atol=1e-5)
    assert [doc.text for doc in ensemble.pipe(TEXTS)] == TEXTS


def test_an_ensemble_of_one_model_twice_segments_like_it(members):
    twice = ensemble_pipeline([members[0], members[0]])
    assert words(twice) == words(members[0])
    probs = [[token._.crf_prob for token in doc] for doc in twice.pipe(TEXTS)]
    assert probs == [pytest.approx([token._.crf_prob for token in doc], rel=1e-5) for doc in members[0].pipe(TEXTS)]


def test_saved_ensemble_loads_in_a_fresh_process(members, tmp_path):
    paths = []
    for i, nlp in enumerate(members):
        paths.append(tmp_path / f"member{i}")
        nlp.to_disk(paths[-1])
    out = tmp_path / "ensemble"
    proc = python("-m", "spacy_crf_lr", "ensemble", str(out), *map(str, paths))
    assert "wrote the ensemble of 2 pipelines" in proc.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    script = (
        "import json, sys, spacy\n"
        f"nlp = spacy.load({str(out)!r})\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps({'words': [[t.text for t in doc] for doc in nlp.pipe(texts)],"
        " 'arch': nlp.config['components']['crf_segmenter']['model']['@architectures']}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(TEXTS), capture_output=True, text=True, check=True
    )
    loaded = json.loads(proc.stdout)
    assert loaded["arch"] == "spacy_crf_lr.CRFEnsemble.v1"
    assert loaded["words"] == words(ensemble_pipeline(members))


def test_members_must_share_the_settings(members):
    with pytest.raises(ValueError, match=r"settings \['decoder'\]"):
        ensemble_pipeline([members[0], train_member(2, decoder="softmax", steps=1)])
    with pytest.raises(ValueError, match="at least 2"):
        ensemble_pipeline(members[:1])
    with pytest.raises(ValueError, match="no component 'crf_tagger'"):
        ensemble_pipeline(members, component="crf_tagger")
    with pytest.raises(ValueError, match="built by spacy_crf_lr.CRFTagger.v1"):
        ensemble_pipeline([ensemble_pipeline(members), members[0]])


def test_user_words_of_the_first_member_come_along(members):
    first = train_member(3, steps=1)
    first.get_pipe("crf_segmenter").add_words(["今天学习"])
    ensemble = ensemble_pipeline([first, members[1]])
    assert ensemble.get_pipe("crf_segmenter").user_words == ["今天学习"]
    assert "今天学习" in words(ensemble, ["我们今天学习历史"])[0]


def test_command_refuses_an_existing_output(members, tmp_path):
    members[0].to_disk(tmp_path / "a")
    command = [sys.executable, "-m", "spacy_crf_lr", "ensemble", *[str(tmp_path / "a")] * 3]
    proc = subprocess.run(command, capture_output=True, text=True)
    assert proc.returncode == 2 and "exists; give a new directory" in proc.stderr


def test_an_ensemble_config_trains_from_scratch():
    fix_random_seed(0)
    member = {
        "@architectures": "spacy_crf_lr.CRFTagger.v1",
        "tok2vec": tiny_char_tok2vec("spacy_crf_lr.CharEmbed.v1"),
    }
    model = {"@architectures": "spacy_crf_lr.CRFEnsemble.v1", "*": {"a": member, "b": member}}
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"model": model})
    examples = examples_of(nlp)
    optimizer = nlp.initialize(lambda: examples)
    losses = [nlp.update(examples, sgd=optimizer, losses={})["crf_segmenter"] for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    model_of = nlp.get_pipe("crf_segmenter").model
    assert all(model_of.get_ref(f"output_layer{i}").get_param("W").any() for i in range(2))  # both members learn
    loaded = spacy.blank("zh")
    loaded.add_pipe("crf_segmenter", config={"model": model})
    loaded.from_bytes(nlp.to_bytes())
    assert words(loaded) == words(nlp)


def tagger_pipeline(tok2vec: dict):
    """A crf_tagger (after initialize) on a toy corpus of tagged words."""
    nlp = spacy.blank("en")
    if tok2vec["@architectures"] == "spacy.Tok2VecListener.v1":
        nlp.add_pipe("tok2vec")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": tok2vec}})
    words = ["a", "b", "c", "a"]
    examples = [Example(nlp.make_doc(" ".join(words)), Doc(nlp.vocab, words=words, tags=["X", "Y", "X", "Y"]))]
    nlp.initialize(lambda: examples)
    return nlp


def test_crf_tagger_members_with_their_own_encoder_and_not_with_a_listener():
    own = tagger_pipeline(tiny_char_tok2vec("spacy_crf_lr.CharEmbed.v1"))
    twice = ensemble_pipeline([own, own], component="crf_tagger")
    assert [t.tag_ for t in twice("a b c a")] == [t.tag_ for t in own("a b c a")]
    shared = tagger_pipeline({"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "*"})
    with pytest.raises(ValueError, match="reads a shared encoder"):
        ensemble_pipeline([shared, shared], component="crf_tagger")
