"""`sparse_tables`: embedding tables updated row-wise (lazy Adam), their averages caught up exactly when read."""

import random

import numpy
import pytest
import spacy
from conftest import tiny_char_tok2vec
from test_char_features import WORDS
from thinc.api import fix_random_seed, registry

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.training.sparse_rows import average_decay

KEY = (1, "E")


def make_optimizer(**settings):
    return registry.resolve({"o": {"@optimizers": "spacy_crf_lr.Adam.v1", **settings}})["o"]


def test_with_every_row_in_the_gradient_it_is_thincs_adam():
    rng = numpy.random.default_rng(0)
    start = rng.normal(size=(40, 4)).astype("f")
    results = []
    for sparse in (False, True):
        optimizer, weights = make_optimizer(learn_rate=0.01, grad_clip=1.0, sparse_tables=sparse), start.copy()
        grads = numpy.random.default_rng(1)
        for _ in range(20):
            weights, gradient = optimizer(KEY, weights, grads.normal(size=weights.shape).astype("f"))
            assert not gradient.any()
        results.append((weights.copy(), optimizer.averages[KEY].copy()))
    (dense_w, dense_avg), (sparse_w, sparse_avg) = results
    assert numpy.allclose(sparse_w, dense_w, atol=1e-5) and numpy.allclose(sparse_avg, dense_avg, atol=1e-5)


@pytest.mark.parametrize("read_midway", [False, True])
def test_rows_without_gradient_stay_and_their_averages_are_caught_up_exactly(read_midway):
    rng = numpy.random.default_rng(2)
    optimizer = make_optimizer(learn_rate=0.05, grad_clip=0.0, sparse_tables=True)
    weights = rng.normal(size=(30, 3)).astype("f")
    trajectory = []
    for step in range(1, 41):
        gradient = numpy.zeros_like(weights)
        rows = rng.choice(29, size=5, replace=False)  # row 29 never has a gradient
        gradient[rows] = rng.normal(size=(5, 3))
        before = weights.copy()
        weights, gradient = optimizer(KEY, weights, gradient)
        others = numpy.setdiff1d(numpy.arange(30), rows)
        assert (weights[others] == before[others]).all() and not gradient.any()
        assert not numpy.allclose(weights[rows], before[rows])
        trajectory.append(weights.copy())
        if read_midway and step % 7 == 0:
            assert KEY in optimizer.averages and optimizer.averages[KEY].shape == weights.shape
    expected = numpy.zeros_like(weights, dtype="float64")  # thinc's averages, updated at every step
    for step, after in enumerate(trajectory, 1):
        expected -= (1 - average_decay(step)) * (expected - after)
    assert numpy.allclose(optimizer.averages[KEY], expected, atol=1e-5)
    assert dict(optimizer.averages.items())[KEY] is optimizer.averages.get(KEY)


def test_other_parameters_are_left_to_thinc():
    weights = numpy.ones((6, 2), dtype="f")
    for key in [(1, "W"), (1, "b")]:
        optimizer = make_optimizer(learn_rate=0.1, sparse_tables=True)
        gradient = numpy.zeros_like(weights)
        gradient[0] = 1.0
        optimizer(key, weights, gradient)
        optimizer(key, weights, numpy.zeros_like(weights))
        assert not optimizer._tables and (weights[1:] == 1).all() and weights[0, 0] < 1


def train_segmenter(sparse: bool, steps: int):
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    tok2vec = tiny_char_tok2vec("spacy_crf_lr.CharEmbed.v2", dictionary_length=4)
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": tok2vec}})
    rng = random.Random(0)
    examples = [make_example(nlp, [rng.choice(WORDS) for _ in range(rng.randint(3, 10))]) for _ in range(40)]
    optimizer = make_optimizer(learn_rate=0.01, crf_lr=0.1, sparse_tables=sparse)
    nlp.initialize(lambda: examples, sgd=optimizer)
    initial = nlp.get_pipe("crf_segmenter").model.to_bytes()
    for i in range(steps):
        nlp.update(examples[(i % 4) * 10 : (i % 4) * 10 + 10], sgd=optimizer)
    return nlp, optimizer, initial


def test_a_segmenter_trains_with_sparse_tables_and_its_first_step_is_adams():
    dense, _, start = train_segmenter(False, 1)
    sparse, optimizer, start_sparse = train_segmenter(True, 1)
    assert start == start_sparse
    one, two = (nlp.get_pipe("crf_segmenter").model for nlp in (dense, sparse))
    for a, b in zip(one.walk(), two.walk()):
        for name in a.param_names:
            if a.has_param(name):
                assert numpy.allclose(a.get_param(name), b.get_param(name), atol=1e-6), (a.name, name)
    sparse, optimizer, _ = train_segmenter(True, 8)
    assert len(optimizer._tables) == 6  # character, script, two bigram and two dictionary tables
    with sparse.use_params(optimizer.averages):
        averaged = [t.text for t in sparse("中国人民银行的发展很快")]
    assert "".join(averaged) == "中国人民银行的发展很快"


def test_epochs_scale_every_rate_by_the_passes_left():
    optimizer = make_optimizer(learn_rate=0.1, crf_lr=1.0, epochs=2, use_averages=False)
    assert optimizer.epoch_factor == 1.0
    optimizer.report_epochs("crf_segmenter", 0.5)
    assert optimizer.epoch_factor == 0.75
    weights = numpy.zeros((3,), dtype="f")
    optimizer((1, "b"), weights, numpy.ones((3,), dtype="f"))
    assert numpy.allclose(weights, -0.075, rtol=1e-3)  # Adam's first step moves by its rate
    optimizer.report_epochs("crf_segmenter", 2.5)
    before = weights.copy()
    optimizer((1, "b"), weights, numpy.ones((3,), dtype="f"))
    assert optimizer.epoch_factor == 0.0 and (weights == before).all()
    for bad in (0, -1):
        with pytest.raises(ValueError, match="epochs must be a number > 0"):
            make_optimizer(epochs=bad)
    for bad in (True, "2"):  # refused by the config's type check, which names the setting
        with pytest.raises(Exception, match="epochs"):
            make_optimizer(epochs=bad)


def test_warmup_rises_then_stays():
    schedule = registry.resolve({"s": {"@schedules": "spacy_crf_lr.warmup.v1", "initial_rate": 0.4, "warmup_steps": 4}})
    assert [round(next(schedule["s"]), 6) for _ in range(7)] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.4, 0.4]
    at_once = registry.resolve({"s": {"@schedules": "spacy_crf_lr.warmup.v1", "initial_rate": 0.4, "warmup_steps": 0}})
    assert [next(at_once["s"]) for _ in range(3)] == [0.4, 0.4, 0.4]  # no warmup: the rate from the first step
    with pytest.raises(ValueError, match="warmup_steps an integer"):
        registry.resolve({"s": {"@schedules": "spacy_crf_lr.warmup.v1", "initial_rate": 0.4, "warmup_steps": -1}})


@pytest.mark.parametrize("embed", ["spacy_crf_lr.CharEmbed.v1", "spacy_crf_lr.CharEmbed.v2"])  # without / with lexicon
def test_a_segmenter_reports_the_passes_it_was_updated_on(embed):
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"model": {"tok2vec": tiny_char_tok2vec(embed)}})
    rng = random.Random(0)
    examples = [make_example(nlp, [rng.choice(WORDS) for _ in range(rng.randint(3, 10))]) for _ in range(40)]
    optimizer = make_optimizer(learn_rate=0.01, epochs=4)
    nlp.initialize(lambda: examples, sgd=optimizer)
    for start in range(0, 40, 10):
        nlp.update(examples[start : start + 10], sgd=optimizer)
    assert optimizer.epoch_factor == pytest.approx(0.75)
    nlp.update(examples[:20], sgd=optimizer)
    share = sum(len(eg.predicted) for eg in examples[:20]) / sum(len(eg.predicted) for eg in examples)
    assert optimizer.epoch_factor == pytest.approx(0.75 - share / 4)
