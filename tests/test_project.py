"""End to end: the project's check-data, train and evaluate commands on a small slice."""

import json
import random
import shutil
import subprocess
import sys

import pytest
from conftest import PKU_DIR, ROOT, build_tiny_bert, python

pytestmark = pytest.mark.slow

N_TRAIN, N_TEST = 400, 60
TOY_WORDS = ["中国", "人民", "银行", "的", "发展", "很", "快", "。", "我们", "今天", "学习", "历史", "经济", "，"]


def data_slice(root):
    """Train/test/gold/word-list files: slices of ../shared/data/pku when present, else generated."""
    root.mkdir()
    if (PKU_DIR / "pd199801_train.utf8").is_file():

        def head(name, n):
            return (PKU_DIR / name).read_text(encoding="utf8").splitlines()[:n]

        train = head("pd199801_train.utf8", N_TRAIN)
        gold = head("pku_test_gold.utf8", N_TEST)
        test = head("pku_test.utf8", N_TEST)
        words = head("pku_training_words.utf8", 10**6)
    else:
        rng = random.Random(0)
        lines = ["  ".join(rng.choice(TOY_WORDS) for _ in range(rng.randint(4, 20))) for _ in range(N_TRAIN + N_TEST)]
        train, gold = lines[:N_TRAIN], lines[N_TRAIN:]
        test = [line.replace(" ", "") for line in gold]
        words = TOY_WORDS
    files = {}
    for name, lines in (("train", train), ("test_input", test), ("test_gold", gold), ("words", words)):
        files[name] = root / f"{name}.utf8"
        files[name].write_text("\r\n".join(lines) + "\r\n", encoding="utf8")
    return files


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of project.yml and configs/ with a data slice beside it."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "project.yml", root / "project.yml")
    shutil.copytree(ROOT / "configs", root / "configs")
    shutil.copytree(ROOT / "scripts", root / "scripts")
    return root, data_slice(root / "data")


def run_workflow(root, files, *overrides, workflow="all"):
    data_vars = [arg for name, path in files.items() for arg in (f"--vars.{name}", str(path))]
    python("-m", "spacy", "project", "run", workflow, str(root), *data_vars, *overrides, cwd=root)


def check_outputs(root, files, config, floor):
    metrics = json.loads((root / "metrics" / f"{config}_test.json").read_text())
    assert metrics["f"] > floor, metrics
    assert metrics["oov_rate"] is not None and 0 <= metrics["oov_recall"] <= 1
    dev = json.loads((root / "metrics" / f"{config}_dev.json").read_text())
    assert dev["token_f"] > floor * 0.8
    lines = files["test_input"].read_text(encoding="utf8").splitlines()
    script = (
        "import json, sys, spacy\n"
        f"nlp = spacy.load({str(root / 'training' / config / 'model-best')!r})\n"
        "lines = json.loads(sys.stdin.read())\n"
        "print(json.dumps([doc.text for doc in nlp.pipe(lines)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(lines), capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == lines
    segmented = (root / "metrics" / f"{config}_test.txt").read_text(encoding="utf8").splitlines()
    assert [line.replace(" ", "") for line in segmented] == lines


def test_cnn_workflow(project):
    root, files = project
    run_workflow(root, files, "--vars.epochs", "20", "--vars.eval_frequency", "100")
    check_outputs(root, files, "cnn_crf", floor=0.75)


def test_tiny_bert_workflow(project, tmp_path):
    root, files = project
    chars = set("".join(files[name].read_text(encoding="utf8") for name in ("train", "test_input")))
    bert = build_tiny_bert(tmp_path / "bert", [c for c in chars if not c.isspace()])
    run_workflow(
        root,
        files,
        "--vars.config",
        "bert_crf",
        "--vars.transformer",
        str(bert),
        "--vars.lr",
        "0.001",
        "--vars.crf_lr",
        "0.05",
        "--vars.max_steps",
        "80",
        "--vars.eval_frequency",
        "40",
        "--vars.warmup_steps",
        "10",
        workflow="all-bert",
    )
    check_outputs(root, files, "bert_crf", floor=0.3)


def test_missing_data_names_the_variable(tmp_path):
    shutil.copy(ROOT / "project.yml", tmp_path / "project.yml")
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    proc = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", "all", str(tmp_path), "--vars.train", "nowhere.utf8"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "vars.train: file not found: nowhere.utf8" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
