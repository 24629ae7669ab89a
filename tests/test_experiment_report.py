"""The experiment workflow's report (scripts/experiment_report.py): its wording comes from the runs."""

import json

from experiment_report import main

from spacy_crf_lr.cws.words import BMES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fake_arm(root, name, *, decoder="crf", scheme=None, lr=0.002, crf_lr=0.02, test_f=0.9, first_f=0.8, growth=1.0):
    """A training dir with a diagnostics JSONL (epoch 0 at steps 0 and 100, epoch 1 from step 200) and a test JSON."""
    directory = root / "training" / name
    directory.mkdir(parents=True)
    records = []
    for step, epoch, f in ((0, 0, 0.1), (100, 0, 0.5), (200, 1, first_f), (300, 2, first_f + 0.05)):
        mean_abs = 0.0 if decoder == "softmax" else growth * (step + 1) / 100
        records.append(
            {
                "step": step,
                "epoch": epoch,
                "score": f,
                "seconds": step,
                "component": "crf_segmenter",
                "decoder": decoder,
                "scheme": scheme,
                "labels": list(BMES),
                "transitions": [[mean_abs] * 4] * 4,
                "start": [0.0] * 4,
                "end": [0.0] * 4,
                "mean_abs_transition": mean_abs,
                "emission_margin": 4.0,
                "ratio": 4.0 / mean_abs if mean_abs else None,
                "sanity": 0.0 if decoder == "softmax" else 0.875,
                "sanity_scheme": "BMES",
                "learn_rate": lr,
                "crf_lr": crf_lr,
                "loss": 1.0,
                "n_dev_docs": 200,
                "averaged": True,
                "token_f": f,
                "token_p": f,
                "token_r": f,
            }
        )
    (directory / "crf_diagnostics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    metrics = root / "metrics" / f"{name}_test.json"
    metrics.parent.mkdir(exist_ok=True)
    metrics.write_text(json.dumps({"f": test_f, "precision": test_f, "recall": test_f}), encoding="utf8")
    return [name, str(directory), str(metrics)]


def test_experiment_report_writes_markdown_and_plot(tmp_path, capsys):
    arms = [
        ["--arm", "CRF-1", *fake_arm(tmp_path, "crf1", crf_lr=0.002, test_f=0.9012, first_f=0.8123)[1:]],
        ["--arm", "Softmax", *fake_arm(tmp_path, "softmax", decoder="softmax", crf_lr=0.002, test_f=0.88)[1:]],
        ["--arm", "CRF-1000×", *fake_arm(tmp_path, "crf1000", crf_lr=2.0, growth=50.0)[1:]],
    ]
    report, plot = tmp_path / "docs" / "experiment.md", tmp_path / "docs" / "experiment_transitions.png"
    argv = [*sum(arms, []), "--output", str(report), "--plot", str(plot), "--command", "make it so"]
    assert main(argv) == 0
    text = report.read_text(encoding="utf8")
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| arm")
    }
    assert rows["CRF-1"] == ["unconstrained", "0.002", "0.002", "81.23", "90.12", "0.875", f"{4.0 / 3.01:.3g}"]
    assert rows["Softmax"] == ["unconstrained", "0.002", "—", "80.00", "88.00", "— (not trained)", "∞"]
    assert rows["CRF-1000×"] == ["unconstrained", "0.002", "2", "80.00", "90.00", "0.875", f"{4.0 / (50 * 3.01):.3g}"]
    assert "(step 200)" in text and "make it so" in text
    assert "trained unconstrained (`scheme = null`" in text and "unknown (no saved config)" in text
    assert "](experiment_transitions.png)" in text
    assert plot.read_bytes()[:8] == PNG_MAGIC


def test_experiment_report_names_a_broken_diagnostics_file(tmp_path, capsys):
    arm = fake_arm(tmp_path, "crf1")
    with open(f"{arm[1]}/crf_diagnostics.jsonl", "a", encoding="utf8") as file:
        file.write("{not json\n")
    assert main(["--arm", *arm, "--output", str(tmp_path / "r.md")]) == 2
    assert "crf_diagnostics.jsonl: line 5: not JSON" in capsys.readouterr().err


def test_experiment_report_says_how_each_arm_was_constrained(tmp_path):
    arms = [
        ["--arm", "free", *fake_arm(tmp_path, "free")[1:]],
        ["--arm", "masked", *fake_arm(tmp_path, "masked", scheme="BMES")[1:]],
    ]
    report = tmp_path / "r.md"
    assert main([*sum(arms, []), "--output", str(report)]) == 0
    text = report.read_text(encoding="utf8")
    assert "trained BMES-constrained / unconstrained." in text and "**unconstrained**" not in text
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| arm")
    }
    assert rows["free"][0] == "unconstrained" and rows["free"][5] == "0.875"
    assert rows["masked"][0] == "BMES-constrained" and rows["masked"][5] == "n/a (masked by the scheme)"


def test_experiment_report_names_no_machines_directories(tmp_path, monkeypatch):
    """Absolute paths in the regenerate command become relative to the project directory where they lie inside it
    or next to it, and the option's name in capitals elsewhere."""
    project = tmp_path / "checkout"
    project.mkdir()
    monkeypatch.chdir(project)
    arm = fake_arm(project, "crf1")
    data, elsewhere = tmp_path / "shared" / "train.utf8", "/somewhere/else/pku_bert"
    command = f"python -m spacy project run x . --vars.train {data} --vars.bert_model {elsewhere} --vars.gpu_id -1"
    report = project / "r.md"
    assert main(["--arm", *arm, "--output", str(report), "--command", command]) == 0
    text = report.read_text(encoding="utf8")
    expected = "--vars.train ../shared/train.utf8 --vars.bert_model BERT_MODEL --vars.gpu_id -1"
    assert expected in text and str(tmp_path) not in text and "/somewhere" not in text


def test_portable_model_names_keep_names_and_shorten_directories(tmp_path):
    from experiment_report import portable_model_name

    assert portable_model_name("bert-base-chinese", tmp_path) == "bert-base-chinese"
    assert portable_model_name(str(tmp_path / "training" / "pku_bert"), tmp_path) == "training/pku_bert"
    assert portable_model_name("/somewhere/else/pku_bert", tmp_path) == "…/pku_bert"
