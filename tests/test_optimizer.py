"""`spacy_crf_lr.Adam.v1`: the CRF parameters move at crf_lr, everything else at learn_rate."""

import numpy
import pytest
import spacy
import torch
from conftest import ROOT, python
from test_crf_tagger import TINY_CNN, alternating
from thinc.api import PyTorchWrapper, registry

from spacy_crf_lr.crf.layer import CRF_PARAM_NAMES
from spacy_crf_lr.training.optimizer import Adam


def make_optimizer(**settings):
    return registry.resolve({"o": {"@optimizers": "spacy_crf_lr.Adam.v1", **settings}})["o"]


def snapshot(model):
    return {
        (node.id, name): node.ops.to_numpy(node.get_param(name)).copy()
        for node in model.walk()
        for name in node.param_names
        if node.has_param(name)
    }


@pytest.mark.parametrize("use_averages", [False, True])
def test_one_update_moves_crf_params_by_crf_lr_and_the_rest_by_learn_rate(use_averages):
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    examples = [alternating(nlp, n) for n in range(3, 9)]
    nlp.initialize(lambda: examples)
    # give the emission layer non-zero weights so that every tok2vec weight gets a gradient
    out = tagger.model.get_ref("output_layer")
    out.set_param("W", out.ops.asarray2f(numpy.random.default_rng(0).normal(0, 0.1, out.get_param("W").shape)))
    before = snapshot(tagger.model)
    optimizer = make_optimizer(learn_rate=1e-4, crf_lr=1e-2, use_averages=use_averages, L2=0.0)
    nlp.update(examples, sgd=optimizer)
    after = snapshot(tagger.model)
    crf_moves, body_moves = [], []
    for key, old in before.items():
        moved = numpy.abs(after[key] - old).ravel()
        (crf_moves if key[1] in CRF_PARAM_NAMES else body_moves).append(moved)
    crf_moves, body_moves = numpy.concatenate(crf_moves), numpy.concatenate(body_moves)
    assert crf_moves.size == 2 * 2 + 2 + 2
    numpy.testing.assert_allclose(crf_moves, 1e-2, rtol=1e-2)
    body_moves = body_moves[body_moves > 0]
    assert body_moves.size > 100
    # Adam's first step is lr * g / (|g| + eps): lr wherever the gradient is not tiny
    assert numpy.median(body_moves) == pytest.approx(1e-4, rel=1e-2)
    assert body_moves.max() <= 1e-4 * 1.01  # float32 rounding of the weights
    if use_averages:
        assert optimizer.averages


def test_schedules_set_the_ratio_step_by_step():
    optimizer = make_optimizer(
        learn_rate={"@schedules": "warmup_linear.v1", "initial_rate": 1e-3, "warmup_steps": 3, "total_steps": 10},
        crf_lr={"@schedules": "compounding.v1", "start": 1e-2, "stop": 1.0, "compound": 2.0},
    )
    expected_body = [1e-3 * min(1, t / 3) if t < 3 else 1e-3 * (10 - t) / 7 for t in range(6)]
    expected_crf = [1e-2 * 2**t for t in range(6)]
    for step in range(6):
        # fresh keys each step: Adam's first step moves a weight by exactly the rate
        crf_weights, body_weights = numpy.zeros(4, "f"), numpy.zeros(4, "f")
        crf_weights, _ = optimizer((step, "transitions"), crf_weights, numpy.ones(4, "f"))
        body_weights, _ = optimizer((step, "W"), body_weights, numpy.ones(4, "f"))
        numpy.testing.assert_allclose(-crf_weights, expected_crf[step], rtol=1e-4)
        numpy.testing.assert_allclose(-body_weights, expected_body[step], rtol=1e-4, atol=1e-12)
        optimizer.step_schedules()


def test_null_crf_lr_means_learn_rate():
    optimizer = make_optimizer(learn_rate=1e-3, crf_lr=None)
    moved, _ = optimizer((1, "transitions"), numpy.zeros(3, "f"), numpy.ones(3, "f"))
    numpy.testing.assert_allclose(-moved, 1e-3, rtol=1e-4)


def test_torch_weights_through_the_same_optimizer_move_at_learn_rate():
    torch.manual_seed(0)
    model = PyTorchWrapper(torch.nn.Linear(3, 2))
    X = model.ops.asarray2f(numpy.ones((4, 3), "f"))
    Y, backprop = model.begin_update(X)
    backprop(model.ops.asarray2f(numpy.ones_like(Y)))
    before = [p.detach().numpy().copy() for p in model.shims[0]._model.parameters()]
    model.finish_update(make_optimizer(learn_rate=1e-3, crf_lr=1.0))
    after = [p.detach().numpy() for p in model.shims[0]._model.parameters()]
    for old, new in zip(before, after):
        numpy.testing.assert_allclose(numpy.abs(new - old), 1e-3, rtol=1e-3)


@pytest.mark.parametrize("bad", [0, -1e-3, "fast", True, [1e-3, -1.0]])
def test_bad_crf_lr_names_the_value(bad):
    with pytest.raises(
        ValueError, match="crf_lr.*" + ("-1.0" if isinstance(bad, list) else repr(bad).replace("(", r"\(")[:6])
    ):
        optimizer = Adam(1e-3, crf_lr=bad)
        optimizer.step_schedules()


def test_bad_crf_lr_in_a_config_is_refused():
    with pytest.raises(Exception, match="crf_lr"):
        make_optimizer(learn_rate=1e-3, crf_lr=-1.0)


def test_optimizer_resolves_in_spacy_debug_config():
    out = python(
        "-m",
        "spacy",
        "debug",
        "config",
        str(ROOT / "configs" / "tagger_cnn.cfg"),
        "--paths.train",
        "unused.spacy",
        "--paths.dev",
        "unused.spacy",
        "--training.optimizer.crf_lr",
        "0.05",
    ).stdout
    assert "Config is valid" in out
