"""CRF diagnostics: the metric functions, the training logger in a real `spacy train`, `inspect`,
the experiment report and the project's `experiment` workflow."""

import json
import random
import re
from pathlib import Path
from typing import Optional

import numpy
import pytest
from conftest import ROOT, python

from spacy_crf_lr.cli import main
from spacy_crf_lr.crf.diagnostics import (
    emission_margin,
    infer_scheme,
    mean_abs_transition,
    scale_ratio,
    transition_sanity,
)
from spacy_crf_lr.crf.schemes import constraint_masks
from spacy_crf_lr.training.logger import DEFAULT_FILE, advise_crf_lr

BMES = ("B", "M", "E", "S")
IMPOSSIBLE = {("S", "M"), ("S", "E"), ("B", "S"), ("B", "B"), ("M", "S"), ("M", "B"), ("E", "M"), ("E", "E")}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOY_WORDS = ["中国", "人民", "银行", "的", "发展", "很", "快", "。", "我们", "今天", "学习", "历史", "经济", "，"]
DOCUMENTED_KEYS = {
    "step",
    "epoch",
    "score",
    "seconds",
    "component",
    "decoder",
    "scheme",
    "labels",
    "transitions",
    "start",
    "end",
    "mean_abs_transition",
    "emission_margin",
    "ratio",
    "sanity",
    "sanity_scheme",
    "learn_rate",
    "crf_lr",
    "loss",
    "n_dev_docs",
    "averaged",
    "token_f",
    "token_p",
    "token_r",
}
TINY = [
    "--components.crf_segmenter.model.tok2vec.embed.rows",
    "500",
    "--components.crf_segmenter.model.tok2vec.embed.bigram_rows",
    "500",
    "--components.crf_segmenter.model.tok2vec.embed.width",
    "32",
    "--components.crf_segmenter.model.tok2vec.encode.width",
    "32",
    "--components.crf_segmenter.model.tok2vec.encode.depth",
    "2",
    "--training.batcher.size.start",
    "300",
    "--training.batcher.size.stop",
    "300",
    "--training.max_steps",
    "40",
    "--training.max_epochs",
    "0",
    # step-bounded runs: rates that do not fall by passes (test_logged_rates_are_the_applied_ones_falling_by_epochs)
    "--training.optimizer.epochs",
    "null",
    "--training.eval_frequency",
    "20",
    "--vars.holdout",
    "0.1",
]
LOGGER = ["--training.logger.@loggers", "spacy_crf_lr.CRFDiagnosticsLogger.v1"]
# constant rates in place of cnn_crf.cfg's warmup schedules (rate 0 at step 0), to check the records
CONSTANT_RATES = ["--training.optimizer.learn_rate", "0.002", "--training.optimizer.crf_lr", "0.02"]


def bmes_matrix(impossible: float, possible: float, labels=BMES) -> numpy.ndarray:
    return numpy.array([[impossible if (a, b) in IMPOSSIBLE else possible for b in labels] for a in labels])


# ----- metric functions -----


def test_the_scheme_forbids_exactly_the_eight_impossible_bmes_moves():
    allowed, _, _ = constraint_masks("BMES", BMES)
    assert {(BMES[i], BMES[j]) for i, j in zip(*numpy.nonzero(~allowed))} == IMPOSSIBLE


def test_sanity_is_one_for_a_sane_bmes_matrix():
    assert transition_sanity(bmes_matrix(-2.0, 1.0), BMES) == 1.0
    # any order of the labels; possible moves of different sizes; scheme given or inferred
    labels = ("S", "E", "B", "M")
    matrix = bmes_matrix(-3.0, 0.0, labels) + numpy.where(bmes_matrix(0, 1, labels) > 0, numpy.arange(4.0) * 0.5, 0)
    assert transition_sanity(matrix, labels) == 1.0
    assert transition_sanity(matrix, labels, "BMES") == 1.0


def test_sanity_is_zero_when_every_impossible_move_is_preferred():
    assert transition_sanity(bmes_matrix(2.0, -1.0), BMES) == 0.0
    assert transition_sanity(numpy.zeros((4, 4)), BMES) == 0.0  # a tie is not "below"


def test_sanity_counts_each_impossible_move_against_its_own_row():
    matrix = bmes_matrix(-1.0, 1.0)
    matrix[0, 0] = 5.0  # B→B beats B's possible moves
    matrix[2, 1] = 0.5  # E→M is below E's possible moves (1.0) though above other rows' impossible ones
    matrix[3, 0] = 0.4  # S→B, a possible move, now the lowest of S's: S→M and S→E (-1) are still below
    assert transition_sanity(matrix, BMES) == pytest.approx(7 / 8)
    matrix[3, 3] = -1.0  # S→S ties S→M and S→E: both no longer strictly below
    assert transition_sanity(matrix, BMES) == pytest.approx(5 / 8)


def test_sanity_for_other_schemes_and_for_labels_without_one():
    labels = ("B-X", "I-X", "O")
    assert infer_scheme(labels) == "BIO"
    sane = numpy.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, -5.0, 1.0]])  # only O→I-X is impossible
    assert transition_sanity(sane, labels) == 1.0
    assert transition_sanity(sane.T, labels) == 0.0
    assert infer_scheme(("NOUN", "VERB")) is None
    assert transition_sanity(numpy.zeros((2, 2)), ("NOUN", "VERB")) is None
    with pytest.raises(ValueError, match="shape"):
        transition_sanity(numpy.zeros((3, 3)), BMES)


def test_scale_measures():
    assert mean_abs_transition(numpy.array([[1.0, -3.0], [0.0, 2.0]])) == 1.5
    emissions = [numpy.array([[3.0, 1.0, 0.0], [0.0, 0.5, 0.5]]), numpy.zeros((0, 3)), numpy.array([[1.0, 5.0, 2.0]])]
    assert emission_margin(emissions) == pytest.approx((2.0 + 0.0 + 3.0) / 3)
    assert emission_margin([numpy.zeros((0, 4))]) is None
    assert scale_ratio(2.0, 0.5) == 4.0
    assert scale_ratio(2.0, 0.0) is None and scale_ratio(None, 1.0) is None


# ----- the logger in a real `spacy train` -----


def write_toy_corpus(path, n=300, seed=0):
    rng = random.Random(seed)
    lines = ["  ".join(rng.choice(TOY_WORDS) for _ in range(rng.randint(4, 20))) for _ in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


def train_cnn_crf(corpus: Path, output: Optional[Path], *options: str, **run):
    """`spacy train configs/cnn_crf.cfg` on corpus (train and dev), into output if given, with more options;
    `run`: subprocess settings (cwd, ...)."""
    where = ["--output", str(output)] if output is not None else []
    return python("-m", "spacy", "train", str(ROOT / "configs" / "cnn_crf.cfg"), *where,
                  "--paths.train", str(corpus), "--paths.dev", str(corpus), *options, **run)  # fmt: skip


@pytest.fixture(scope="module")
def unconstrained_run(tmp_path_factory):
    """A tiny unconstrained segmenter trained by `spacy train --output` with the diagnostics logger."""
    root = tmp_path_factory.mktemp("diag")
    corpus = write_toy_corpus(root / "train.utf8")
    output = root / "out"
    proc = train_cnn_crf(
        corpus,
        output,
        "--vars.scheme",
        "null",
        *CONSTANT_RATES,
        *LOGGER,
        *TINY,
    )
    lines = (output / "crf_diagnostics.jsonl").read_text(encoding="utf8").splitlines()
    return output, proc.stdout, [json.loads(line) for line in lines]


@pytest.mark.slow
def test_logger_writes_jsonl_with_the_documented_keys(unconstrained_run):
    _, _, records = unconstrained_run
    assert [r["step"] for r in records] == [0, 20, 40]
    for record in records:
        assert DOCUMENTED_KEYS <= set(record), DOCUMENTED_KEYS - set(record)
        assert record["component"] == "crf_segmenter" and record["decoder"] == "crf"
        assert record["scheme"] is None and record["sanity_scheme"] == "BMES"
        assert record["labels"] == list(BMES)
        transitions = numpy.array(record["transitions"])
        assert transitions.shape == (4, 4) and len(record["start"]) == len(record["end"]) == 4
        assert record["mean_abs_transition"] == pytest.approx(numpy.abs(transitions).mean())
        assert record["sanity"] == transition_sanity(transitions, BMES)
        assert record["emission_margin"] > 0 and record["n_dev_docs"] == 30
        assert record["ratio"] == pytest.approx(record["emission_margin"] / record["mean_abs_transition"])
        assert record["learn_rate"] == 0.002 and record["crf_lr"] == 0.02 and record["averaged"] is True
        assert record["score"] == pytest.approx(record["token_f"])  # token_f is the only weighted score
    assert records[-1]["epoch"] >= 1 and records[-1]["token_f"] > 0.9
    # unconstrained training learns the scheme on this easy data: transitions grow, impossible moves sink
    assert records[-1]["mean_abs_transition"] > 10 * records[0]["mean_abs_transition"]
    assert records[-1]["sanity"] >= 0.75


@pytest.mark.slow
def test_logger_reads_the_averaged_parameters_that_are_saved(unconstrained_run):
    output, _, records = unconstrained_run
    import spacy

    saved = spacy.load(output / "model-last").get_pipe("crf_segmenter").transitions
    numpy.testing.assert_allclose(records[-1]["transitions"], saved, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_console_table_shows_sanity_and_ratio_without_changing_the_score(unconstrained_run):
    output, stdout, records = unconstrained_run
    header = next(line for line in stdout.splitlines() if "CRF_SANITY" in line)
    columns = header.split()
    assert "CRF_RATIO" in columns and "SCORE" in columns
    rows = [line.split() for line in stdout.splitlines() if re.match(r"^\s*\d+\s+\d+\s", line)]
    assert len(rows) == len(records)
    for row, record in zip(rows, records):
        shown = dict(zip(reversed(columns), reversed(row)))  # right to left: "LOSS CRF_S..." is two words
        assert float(shown["CRF_SANITY"]) == pytest.approx(100 * record["sanity"], abs=0.01)
        assert float(shown["CRF_RATIO"]) == pytest.approx(record["ratio"], abs=0.01)
        assert float(shown["SCORE"]) == pytest.approx(record["score"], abs=0.01)
    config = (output / "model-best" / "config.cfg").read_text(encoding="utf8")
    assert "crf_sanity" not in config and "crf_ratio" not in config
    meta = json.loads((output / "model-best" / "meta.json").read_text(encoding="utf8"))
    assert not any(key.startswith("crf_") and key != "crf_segmenter_loss" for key in meta["performance"])


@pytest.mark.slow
def test_logger_with_constrained_training_an_explicit_path_and_no_output_dir(tmp_path):
    corpus = write_toy_corpus(tmp_path / "train.utf8", n=200, seed=1)
    target = tmp_path / "logs" / "diag.jsonl"
    proc = train_cnn_crf(
        corpus,
        None,
        *CONSTANT_RATES,
        *LOGGER,
        *TINY,
        "--training.max_steps",
        "20",
        "--training.logger.path",
        str(target),
        "--training.logger.max_dev_docs",
        "5",
        cwd=tmp_path,
    )
    assert "CRF_SANITY" in proc.stdout
    records = [json.loads(line) for line in target.read_text(encoding="utf8").splitlines()]
    assert [r["step"] for r in records] == [0, 20]
    allowed, _, _ = constraint_masks("BMES", BMES)
    for record in records:
        assert record["scheme"] == "BMES" and record["n_dev_docs"] == 5
        transitions = numpy.array(record["transitions"])
        # the learned, unmasked parameters: impossible moves are never trained and stay at their initial 0
        assert numpy.all(transitions[~allowed] == 0.0)
        # so their sanity means nothing: n/a, not 0.000
        assert record["sanity"] is None and record["sanity_note"] == "n/a: masked by the scheme"
        assert record["sanity_scheme"] == "BMES"
    assert numpy.abs(numpy.array(records[-1]["transitions"])[allowed]).min() > 0
    header = next(line for line in proc.stdout.splitlines() if "CRF_SANITY" in line).split()
    rows = [line.split() for line in proc.stdout.splitlines() if re.match(r"^\s*\d+\s+\d+\s", line)]
    assert [dict(zip(reversed(header), reversed(row)))["CRF_SANITY"] for row in rows] == ["n/a", "n/a"]


def write_even_corpus(path, n_lines: int, n_chars: int, seed=0):
    """n_lines lines of exactly n_chars characters each (words of TOY_WORDS without punctuation)."""
    rng = random.Random(seed)
    words = [word for word in TOY_WORDS if word not in "。，"]
    lines = []
    for _ in range(n_lines):
        line: list = []
        while sum(map(len, line)) < n_chars:
            line.append(rng.choice([w for w in words if len(w) <= n_chars - sum(map(len, line))]))
        lines.append("  ".join(line))
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


@pytest.mark.slow
def test_logged_rates_are_the_applied_ones_falling_by_epochs(tmp_path):
    """epochs = 2 over max_epochs = 2: the records carry the rates each step applied, falling linearly to 0.
    240 training lines of 10 characters in batches of 300: 8 steps a pass, step s ends (s + 1) / 8 passes."""
    corpus = write_even_corpus(tmp_path / "train.utf8", n_lines=300, n_chars=10)
    train_cnn_crf(
        corpus,
        tmp_path / "out",
        *CONSTANT_RATES,
        *LOGGER,
        *TINY,
        "--training.optimizer.param_lrs",
        '{"^b$": 0.001}',
        "--training.optimizer.epochs",
        "2",
        "--training.max_epochs",
        "2",
        "--training.max_steps",
        "0",
        "--training.eval_frequency",
        "5",
        "--vars.holdout",
        "0.2",
    )
    records = [json.loads(line) for line in (tmp_path / "out" / DEFAULT_FILE).read_text(encoding="utf8").splitlines()]
    assert [r["step"] for r in records] == [0, 5, 10, 15] and [r["epoch"] for r in records] == [0, 0, 1, 1]
    left = [1 - (r["step"] + 1) / 8 / 2 for r in records]  # the share of the rates still applied at each step
    assert [r["learn_rate"] for r in records] == pytest.approx([0.002 * f for f in left], abs=1e-12)
    assert [r["crf_lr"] for r in records] == pytest.approx([0.02 * f for f in left], abs=1e-12)
    assert [r["param_lrs"] for r in records] == [{"^b$": pytest.approx(0.001 * f, abs=1e-12)} for f in left]
    crf_lrs = [r["crf_lr"] for r in records]
    assert all(a > b for a, b in zip(crf_lrs, crf_lrs[1:])) and crf_lrs[-1] == pytest.approx(0.0, abs=1e-12)
    assert all(r["averaged"] is True for r in records)


@pytest.mark.slow
def test_advisor_warns_once_with_a_larger_crf_lr_when_the_crf_does_nothing(tmp_path):
    """crf_lr = learn_rate: the transitions stay tiny against the emissions; one warning names a crf_lr."""
    corpus = write_toy_corpus(tmp_path / "train.utf8", n=200, seed=2)
    proc = train_cnn_crf(
        corpus,
        tmp_path / "out",
        "--vars.scheme",
        "null",
        "--training.optimizer.learn_rate",
        "0.002",
        "--training.optimizer.crf_lr",
        "0.002",
        *LOGGER,
        *TINY,
        "--training.logger.advise_evals",
        "2",
    )
    records = [json.loads(line) for line in (tmp_path / "out" / DEFAULT_FILE).read_text(encoding="utf8").splitlines()]
    assert [r["step"] for r in records] == [0, 20, 40]
    assert all(r["ratio"] > 20 for r in records[1:]), [r["ratio"] for r in records]
    warnings = [line for line in proc.stdout.splitlines() if "Try crf_lr = " in line]
    assert len(warnings) == 1
    suggested = float(re.search(r"Try crf_lr = ([0-9.e+-]+)", warnings[0]).group(1))
    assert suggested == records[-1]["advice_crf_lr"] == advise_crf_lr(records) and suggested > 10 * 0.002
    assert "advice_crf_lr" not in records[0] and "advice_crf_lr" not in records[1]
    text = " ".join(proc.stdout.split())  # the console wraps long warnings
    assert "emission/transition ratio above 20 for the first 2 evaluations after step 0" in text


def test_advice_scales_crf_lr_by_the_growth_still_needed():
    first = {"step": 0, "mean_abs_transition": 0.0, "emission_margin": 5.0, "crf_lr": 1e-3}
    last = {"step": 100, "mean_abs_transition": 0.01, "emission_margin": 5.0, "crf_lr": 1e-3}
    # ratio 5 needs mean |T| = 1: 100x the growth seen
    assert advise_crf_lr([first, last]) == pytest.approx(0.1)
    assert advise_crf_lr([first, {**last, "mean_abs_transition": 0.0}]) == pytest.approx(0.1)  # no growth: 100x
    assert advise_crf_lr([first, {**last, "mean_abs_transition": 2.0}]) is None  # already there
    assert advise_crf_lr([first, {**last, "emission_margin": None}]) is None


def test_logger_refuses_a_useless_dev_cap():
    from spacy_crf_lr.training.logger import crf_diagnostics_logger

    with pytest.raises(ValueError, match="max_dev_docs"):
        crf_diagnostics_logger(max_dev_docs=0)


# ----- inspect -----


@pytest.mark.slow
def test_inspect_prints_the_labelled_matrix_and_plots_it(unconstrained_run, tmp_path):
    output, _, records = unconstrained_run
    plot = tmp_path / "plots" / "heat.png"
    proc = python("-m", "spacy_crf_lr", "inspect", str(output / "model-last"), "--plot", str(plot))
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("from\\to"))
    assert lines[header].split()[1:] == list(BMES)
    table = [lines[header + 1 + i].split() for i in range(4)]
    assert [row[0] for row in table] == list(BMES)
    shown = numpy.array([[float(v) for v in row[1:]] for row in table])
    numpy.testing.assert_allclose(shown, records[-1]["transitions"], atol=0.0015)
    start = next(line.split() for line in lines if line.startswith("start "))
    end = next(line.split() for line in lines if line.startswith("end "))
    numpy.testing.assert_allclose([float(v) for v in start[1:]], records[-1]["start"], atol=0.0015)
    numpy.testing.assert_allclose([float(v) for v in end[1:]], records[-1]["end"], atol=0.0015)
    sanity = next(line for line in lines if line.startswith("sanity:"))
    assert float(sanity.split()[1]) == pytest.approx(records[-1]["sanity"], abs=0.001)
    assert plot.read_bytes()[:8] == PNG_MAGIC


def test_inspect_says_sanity_is_not_applicable_to_a_constrained_model(tmp_path):
    import spacy

    from spacy_crf_lr.crf.diagnostics import describe

    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter", config={"scheme": "BMES"})
    nlp.initialize()
    nlp.to_disk(tmp_path / "model")
    out = python("-m", "spacy_crf_lr", "inspect", str(tmp_path / "model")).stdout
    sanity = next(line for line in out.splitlines() if line.startswith("sanity:"))
    assert sanity.startswith("sanity: n/a: masked by the scheme") and "0.000" not in sanity
    # unconstrained: measured, judged by the scheme the labels fit
    text, value, scheme = describe(BMES, bmes_matrix(-1.0, 1.0), numpy.zeros(4), numpy.zeros(4), None)
    assert value == 1.0 and scheme == "BMES" and "sanity: 1.000" in text
    text, value, scheme = describe(BMES, bmes_matrix(-1.0, 1.0), numpy.zeros(4), numpy.zeros(4), "BMES")
    assert value is None and scheme == "BMES" and "n/a: masked by the scheme" in text


@pytest.mark.slow
def test_inspect_names_a_missing_component(unconstrained_run, capsys):
    output, _, _ = unconstrained_run
    assert main(["inspect", str(output / "model-last"), "--component", "nope"]) == 2
    assert "no CRF component named 'nope'" in capsys.readouterr().err


# ----- the project's experiment workflow -----


def test_experiment_workflow_trains_the_grid_unconstrained():
    from weasel.util import load_project_config

    project = load_project_config(ROOT)
    variables = project["vars"]
    assert variables["exp_lr_10x"] == pytest.approx(10 * variables["exp_lr"])
    assert variables["exp_lr_1000x"] == pytest.approx(1000 * variables["exp_lr"])
    assert project["workflows"]["all"] == ["check-data", "train", "evaluate"]
    commands = {c["name"]: c for c in project["commands"]}
    grid = {  # arm: (config, body lr, crf lr)
        "crf1": ("cnn_crf_large", variables["exp_lr"], variables["exp_lr"]),
        "crf2": ("cnn_crf_large", variables["exp_lr"], variables["exp_lr_10x"]),
        "crf3": ("cnn_crf_large", variables["exp_lr_10x"], variables["exp_lr_10x"]),
        "softmax": ("cnn_softmax_large", variables["exp_lr"], variables["exp_lr"]),
        "crf1000": ("cnn_crf_large", variables["exp_lr"], variables["exp_lr_1000x"]),
    }
    assert project["workflows"]["experiment"] == ["check-data", *[f"exp-train-{arm}" for arm in grid], "exp-report"]
    for arm, (config, lr, crf_lr) in grid.items():
        command = commands[f"exp-train-{arm}"]
        train, segment, score = command["script"]
        assert train.startswith(f"python -m spacy train configs/{config}.cfg --output training/exp_{arm} ")
        assert (
            f" --vars.scheme null --training.optimizer.learn_rate {lr} --training.optimizer.crf_lr {crf_lr} " in train
        )
        assert "--training.logger.@loggers spacy_crf_lr.CRFDiagnosticsLogger.v1" in train
        assert f"training/exp_{arm}/model-best" in segment and score.endswith(f"--json metrics/exp_{arm}_test.json")
        assert f"metrics/exp_{arm}_test.json" in command["outputs"]
        assert f"training/exp_{arm}/crf_diagnostics.jsonl" in command["outputs"]
        assert not any(", " in path for path in command["deps"] + command["outputs"])  # weasel merge quirk
    report = commands["exp-report"]["script"][0]
    for arm, name in zip(grid, ["CRF-1", "CRF-2", "CRF-3", "Softmax", "CRF-1000×"]):
        assert f"--arm {name} training/exp_{arm} metrics/exp_{arm}_test.json" in report
    assert "--output docs/experiment.md --plot docs/experiment_transitions.png" in report


def test_experiment_bert_workflow_pretrains_on_training_text_then_trains_the_crf_lr_grid():
    from weasel.util import load_project_config

    project = load_project_config(ROOT)
    variables = project["vars"]
    for factor in (10, 100, 1000):
        assert variables[f"expbert_lr_{factor}x"] == pytest.approx(factor * variables["expbert_lr"])
    commands = {c["name"]: c for c in project["commands"]}
    arms = {"crf1": "", "crf10": "_10x", "crf100": "_100x", "crf1000": "_1000x", "softmax": ""}
    assert project["workflows"]["experiment-bert"] == [
        "check-data",
        "pretrain-bert",
        *[f"exp-bert-{arm}" for arm in arms],
        "exp-bert-report",
    ]
    pretrain = commands["pretrain-bert"]["script"][0]
    assert pretrain.startswith(f"python scripts/pretrain_bert.py {variables['train']} {variables['bert_model']} ")
    assert f"--holdout {variables['holdout']}" in pretrain  # the dev lines are left out, test text never read
    for arm, suffix in arms.items():
        train, segment, score = commands[f"exp-bert-{arm}"]["script"]
        config = "bert_softmax" if arm == "softmax" else "bert_crf"
        assert train.startswith(f"python -m spacy train configs/{config}.cfg --output training/expbert_{arm} ")
        assert f" --vars.scheme null --vars.transformer {variables['bert_model']} " in train
        assert f" --training.optimizer.learn_rate.initial_rate {variables['expbert_lr']} " in train
        assert f" --training.optimizer.crf_lr {variables['expbert_lr' + suffix]} " in train
        assert "--training.logger.@loggers spacy_crf_lr.CRFDiagnosticsLogger.v1" in train
        assert f"training/expbert_{arm}/model-best" in segment and score.endswith(f"metrics/expbert_{arm}_test.json")
    assert "--output docs/experiment_bert.md" in commands["exp-bert-report"]["script"][0]


def test_pretraining_text_is_the_training_part_only(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from pretrain_bert import chunks, training_texts

    corpus = tmp_path / "train.utf8"
    corpus.write_text("甲乙  丙\n丁  戊\n己庚  辛\n", encoding="utf8")
    assert training_texts(corpus, holdout=1 / 3) == ["甲乙丙", "丁戊"]  # the last third (dev) is left out
    assert chunks(["甲乙丙丁戊"], 2) == ["甲乙", "丙丁", "戊"]
