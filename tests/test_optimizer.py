"""`spacy_crf_lr.Adam.v1`: the CRF parameters move at crf_lr, everything else at learn_rate."""

import numpy
import pytest
import spacy
import torch
from conftest import ROOT, python
from test_crf_tagger import TINY_CNN, alternating
from thinc.api import ArgsKwargs, Model, PyTorchWrapper, chain, registry

from spacy_crf_lr.crf.layer import CRF, CRF_PARAM_NAMES
from spacy_crf_lr.pipeline.base import applied_update
from spacy_crf_lr.training.optimizer import Adam, is_crf_layer


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


def crf_layers(n):
    """n CRF layers (fresh node ids), registered with nothing yet."""
    return [CRF(2) for _ in range(n)]


def test_schedules_set_the_ratio_step_by_step():
    optimizer = make_optimizer(
        learn_rate={"@schedules": "warmup_linear.v1", "initial_rate": 1e-3, "warmup_steps": 3, "total_steps": 10},
        crf_lr={"@schedules": "compounding.v1", "start": 1e-2, "stop": 1.0, "compound": 2.0},
    )
    layers = crf_layers(6)
    for layer in layers:
        optimizer.register_crf_layers(layer)
    expected_body = [1e-3 * min(1, t / 3) if t < 3 else 1e-3 * (10 - t) / 7 for t in range(6)]
    expected_crf = [1e-2 * 2**t for t in range(6)]
    for step in range(6):
        # fresh keys each step: Adam's first step moves a weight by exactly the rate
        crf_weights, body_weights = numpy.zeros(4, "f"), numpy.zeros(4, "f")
        crf_weights, _ = optimizer((layers[step].id, "transitions"), crf_weights, numpy.ones(4, "f"))
        body_weights, _ = optimizer((step, "W"), body_weights, numpy.ones(4, "f"))
        numpy.testing.assert_allclose(-crf_weights, expected_crf[step], rtol=1e-4)
        numpy.testing.assert_allclose(-body_weights, expected_body[step], rtol=1e-4, atol=1e-12)
        optimizer.step_schedules()


def first_move(optimizer, key):
    """How far Adam's first step moves a weight of parameter `key` (= its rate)."""
    moved, _ = optimizer(key, numpy.zeros(3, "f"), numpy.ones(3, "f"))
    return float(-moved[0])


def test_only_the_crf_layers_own_params_get_crf_lr():
    """A param called `start` elsewhere (or a bare key) gets the body rate; the CRF's get crf_lr,
    also in a copy of the model and after a serialization round trip."""
    other = Model("other", lambda model, X, is_train: (X, lambda dY: dY), params={"start": None, "end": None})
    crf = CRF(2)
    model = chain(other, crf)
    optimizer = make_optimizer(learn_rate=1e-3, crf_lr=1e-1)
    optimizer.register_crf_layers(model)
    assert first_move(optimizer, (other.id, "start")) == pytest.approx(1e-3, rel=1e-4)
    assert first_move(optimizer, (other.id, "end")) == pytest.approx(1e-3, rel=1e-4)
    assert first_move(optimizer, (12345678, "transitions")) == pytest.approx(1e-3, rel=1e-4)
    assert first_move(optimizer, (crf.id, "start")) == pytest.approx(1e-1, rel=1e-4)
    copy = model.copy()
    copied_crf = copy.layers[1]
    assert copied_crf.id != crf.id
    optimizer.register_crf_layers(copy)
    assert first_move(optimizer, (copied_crf.id, "transitions")) == pytest.approx(1e-1, rel=1e-4)
    assert first_move(optimizer, (copy.layers[0].id, "start")) == pytest.approx(1e-3, rel=1e-4)
    assert is_crf_layer(copied_crf) and not is_crf_layer(copy.layers[0])


def test_a_crf_pipeline_registers_its_crf_after_a_round_trip():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    examples = [alternating(nlp, n) for n in range(3, 9)]
    nlp.initialize(lambda: examples)
    loaded = spacy.blank("en")
    loaded.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    loaded.from_bytes(nlp.to_bytes())
    crf = loaded.get_pipe("crf_tagger").model.get_ref("crf")
    before = crf.get_param("transitions").copy()
    loaded.update(examples, sgd=make_optimizer(learn_rate=1e-5, crf_lr=1e-1, L2=0.0))
    numpy.testing.assert_allclose(numpy.abs(crf.get_param("transitions") - before), 1e-1, rtol=1e-2)


@pytest.mark.parametrize("use_averages", [False, True])
def test_param_lrs_move_each_group_at_its_own_rate(use_averages):
    optimizer = make_optimizer(
        learn_rate=1e-4,
        crf_lr=1e-1,
        param_lrs={"^W$": 1e-2, "b": {"@schedules": "compounding.v1", "start": 1e-3, "stop": 1.0, "compound": 2.0}},
        use_averages=use_averages,
        L2=0.0,
    )
    crf = CRF(2)
    optimizer.register_crf_layers(crf)
    assert first_move(optimizer, (1, "W")) == pytest.approx(1e-2, rel=1e-4)
    assert first_move(optimizer, (2, "b")) == pytest.approx(1e-3, rel=1e-4)
    assert first_move(optimizer, (3, "Wb")) == pytest.approx(1e-3, rel=1e-4)  # first match wins: "^W$" fails
    assert first_move(optimizer, (4, "other")) == pytest.approx(1e-4, rel=1e-4)
    assert first_move(optimizer, (crf.id, "start")) == pytest.approx(1e-1, rel=1e-4)  # crf_lr before param_lrs
    optimizer.step_schedules()
    assert first_move(optimizer, (5, "b")) == pytest.approx(2e-3, rel=1e-4)
    assert optimizer.param_lrs == {"^W$": 1e-2, "b": pytest.approx(2e-3)}
    assert bool(optimizer.averages) == use_averages


@pytest.mark.parametrize("use_averages", [False, True])
def test_param_lrs_in_a_pipeline_update(use_averages):
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    examples = [alternating(nlp, n) for n in range(3, 9)]
    nlp.initialize(lambda: examples)
    out = tagger.model.get_ref("output_layer")
    out.set_param("W", out.ops.asarray2f(numpy.random.default_rng(0).normal(0, 0.1, out.get_param("W").shape)))
    before = snapshot(tagger.model)
    optimizer = make_optimizer(learn_rate=1e-4, crf_lr=1e-1, param_lrs={"^b$": 1e-2}, use_averages=use_averages, L2=0.0)
    nlp.update(examples, sgd=optimizer)
    optimizer.step_schedules()
    after = snapshot(tagger.model)
    moves = {"crf": [], "b": [], "body": []}
    for key, old in before.items():
        group = "crf" if key[1] in CRF_PARAM_NAMES else "b" if key[1] == "b" else "body"
        moved = numpy.abs(after[key] - old).ravel()
        moves[group].append(moved[moved > 0])
    medians = {group: numpy.median(numpy.concatenate(found)) for group, found in moves.items()}
    assert medians == {
        "crf": pytest.approx(1e-1, rel=1e-2),
        "b": pytest.approx(1e-2, rel=1e-2),
        "body": pytest.approx(1e-4, rel=1e-2),
    }


def test_a_param_lrs_pattern_that_matches_nothing_names_the_parameters_seen():
    optimizer = make_optimizer(learn_rate=1e-3, param_lrs={"encoder\\.layer\\.7": 1e-2, "W": 1e-2})
    first_move(optimizer, (1, "W"))
    first_move(optimizer, (1, "b"))
    with pytest.raises(ValueError, match=r"encoder\\\\.layer\\\\.7.*matched no parameter.*\['W', 'b'\]"):
        optimizer.step_schedules()


def test_bad_param_lrs_are_refused():
    with pytest.raises(ValueError, match="not a regular expression"):
        make_optimizer(learn_rate=1e-3, param_lrs={"(": 1e-2})
    with pytest.raises(ValueError, match=r"param_lrs\['W'\].*-1"):
        make_optimizer(learn_rate=1e-3, param_lrs={"W": -1})
    with pytest.raises(ValueError, match="n_layers"):
        make_optimizer(learn_rate=1e-3, layer_decay=0.9)


def test_layer_decay_gives_lower_layers_smaller_rates():
    optimizer = make_optimizer(learn_rate=1e-3, layer_decay=0.5, n_layers=2)
    assert first_move(optimizer, (1, "encoder.layer.1.output.dense.weight")) == pytest.approx(5e-4, rel=1e-4)
    assert first_move(optimizer, (2, "encoder.layer.0.output.dense.weight")) == pytest.approx(2.5e-4, rel=1e-4)
    assert first_move(optimizer, (3, "embeddings.word_embeddings.weight")) == pytest.approx(1.25e-4, rel=1e-4)
    assert first_move(optimizer, (4, "pooler.dense.weight")) == pytest.approx(1e-3, rel=1e-4)


@pytest.mark.parametrize("use_averages", [False, True])
def test_param_lrs_reach_a_tiny_berts_torch_params(tiny_bert, use_averages):
    """A tiny BERT's torch params, named as thinc's PyTorch shim passes them: each group at its own rate."""
    from transformers import BertModel

    torch.manual_seed(0)
    bert = BertModel.from_pretrained(str(tiny_bert))

    def last_hidden(model, inputs_outputs, is_train):
        hidden = inputs_outputs[1].last_hidden_state
        return hidden, lambda d_hidden: ArgsKwargs(args=(hidden,), kwargs={"grad_tensors": d_hidden})

    model = PyTorchWrapper(bert, convert_outputs=last_hidden)
    before = {name: p.detach().numpy().copy() for name, p in bert.named_parameters()}
    ids = torch.tensor([[2, 7, 8, 9, 3]])
    hidden, backprop = model.begin_update(ids)
    backprop(
        torch.randn(hidden.shape, generator=torch.Generator().manual_seed(1))
    )  # not ones: LayerNorm kills a constant
    groups = {r"layer\.0\.": 1e-2, r"^embeddings\.": 1e-3}
    optimizer = make_optimizer(
        learn_rate=1e-5, crf_lr=1e-1, param_lrs=groups, use_averages=use_averages, L2=0.0, grad_clip=0.0
    )
    model.finish_update(optimizer)
    optimizer.step_schedules()  # every pattern matched a name: no error
    moves = {"layer0": [], "embeddings": [], "rest": []}
    for name, p in bert.named_parameters():
        moved = numpy.abs(p.detach().numpy() - before[name]).ravel()
        group = "layer0" if "layer.0." in name else "embeddings" if name.startswith("embeddings.") else "rest"
        moves[group].append(moved[moved > 1e-9])
    medians = {g: float(numpy.median(numpy.concatenate(m))) for g, m in moves.items()}
    assert medians == {
        "layer0": pytest.approx(1e-2, rel=0.05),
        "embeddings": pytest.approx(1e-3, rel=0.05),
        "rest": pytest.approx(1e-5, rel=0.05),
    }
    assert bool(optimizer.averages) == use_averages


def test_applied_rates_are_the_rates_an_update_moves_by():
    """Schedules, epochs, param_lrs and layer_decay together: the report is what each group's first Adam step moves."""
    optimizer = make_optimizer(
        learn_rate=1e-3,
        crf_lr={"@schedules": "compounding.v1", "start": 1e-2, "stop": 1.0, "compound": 2.0},
        param_lrs={"^b$": {"@schedules": "compounding.v1", "start": 1e-4, "stop": 1.0, "compound": 3.0}},
        layer_decay=0.5,
        n_layers=1,
        epochs=2,
    )
    crf = CRF(2)
    optimizer.register_crf_layers(crf)
    layer, embeddings = r"encoder\.layer\.0\.", r"embeddings\."
    names = {
        "learn_rate": "W",
        "crf_lr": "transitions",
        "^b$": "b",
        layer: "encoder.layer.0.W",
        embeddings: "embeddings.W",
    }
    key_id = iter(range(100, 1000))  # fresh keys: Adam's first step moves a weight by exactly the rate
    for step, done in enumerate([0.5, 1.0, 1.5, 2.5]):  # passes done; past `epochs`: nothing moves
        optimizer.report_epochs("crf_segmenter", done)
        left = max(0.0, 1 - done / 2)
        expected = {
            "learn_rate": 1e-3 * left,
            "crf_lr": 1e-2 * 2**step * left,
            "param_lrs": {"^b$": 1e-4 * 3**step * left, layer: 5e-4 * left, embeddings: 2.5e-4 * left},
        }
        rates = optimizer.applied_rates()
        assert rates["learn_rate"] == pytest.approx(expected["learn_rate"], abs=1e-15)
        assert rates["crf_lr"] == pytest.approx(expected["crf_lr"], abs=1e-15)
        assert rates["param_lrs"] == pytest.approx(expected["param_lrs"], abs=1e-15)
        assert applied_update(optimizer) == {**rates, "averaged": True}
        moved = {
            group: first_move(optimizer, (crf.id if group == "crf_lr" else next(key_id), name))
            for group, name in names.items()
        }
        reported = {"learn_rate": rates["learn_rate"], "crf_lr": rates["crf_lr"], **rates["param_lrs"]}
        assert moved == pytest.approx(reported, rel=1e-4, abs=1e-12)
        optimizer.step_schedules()


def test_applied_rates_without_a_crf_rate_of_its_own_and_of_thincs_adam():
    optimizer = make_optimizer(learn_rate=1e-3, use_averages=False)
    assert applied_update(optimizer) == {"learn_rate": 1e-3, "crf_lr": 1e-3, "param_lrs": {}, "averaged": False}
    schedule = {"@schedules": "compounding.v1", "start": 1e-3, "stop": 1.0, "compound": 2.0}
    plain = registry.resolve({"o": {"@optimizers": "Adam.v1", "learn_rate": schedule}})["o"]
    plain.step_schedules()
    assert applied_update(plain) == {"learn_rate": 2e-3, "crf_lr": 2e-3, "param_lrs": {}, "averaged": True}


def test_a_crf_pipe_reports_the_rates_of_its_last_update_in_its_score():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_tagger", config={"model": {"tok2vec": TINY_CNN}})
    examples = [alternating(nlp, n) for n in range(3, 9)]
    optimizer = make_optimizer(learn_rate=1e-3, crf_lr=1e-2, param_lrs={"^b$": 1e-4}, epochs=4)
    nlp.initialize(lambda: examples, sgd=optimizer)
    assert nlp.evaluate(examples)["crf_tagger_crf"]["last_update"] is None  # no update in this process yet
    for passes in (1, 2):
        nlp.update(examples, sgd=optimizer)  # one pass over the training examples each
        optimizer.step_schedules()
        left = 1 - passes / 4
        assert nlp.evaluate(examples)["crf_tagger_crf"]["last_update"] == {
            "learn_rate": pytest.approx(1e-3 * left),
            "crf_lr": pytest.approx(1e-2 * left),
            "param_lrs": {"^b$": pytest.approx(1e-4 * left)},
            "averaged": True,
        }


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
