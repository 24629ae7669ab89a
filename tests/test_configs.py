"""The shipped configs: spaCy can resolve their optimizer on its own (nlp.resume_training, spacy debug data /
debug model), also from a trained model's saved config."""

import random
from pathlib import Path

import pytest
import spacy
from conftest import ROOT, python
from spacy.util import load_config, registry

CONFIGS = sorted((ROOT / "configs").glob("*.cfg"))
WORDS = ["中国", "人民", "银行", "的", "发展", "很", "快", "。", "我们", "今天", "学习", "历史"]


def strings_in(section) -> list:
    """Every string value in a config section and its subsections."""
    found = []
    for value in section.values():
        found.extend(strings_in(value) if isinstance(value, dict) else [value] if isinstance(value, str) else [])
    return found


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.name)
def test_the_optimizer_resolves_without_the_rest_of_the_config(config):
    raw = load_config(config, interpolate=False)
    optimizer = raw["training"]["optimizer"]
    assert not [s for s in strings_in(optimizer) if "${" in s], "a variable in [training.optimizer]"
    resolved = registry.resolve({"optimizer": optimizer})["optimizer"]  # what nlp.create_optimizer() does
    assert isinstance(resolved.learn_rate, float)  # a warmup schedule starts at 0


def sighan_file(path: Path, n: int) -> Path:
    rng = random.Random(0)
    lines = ["  ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) for _ in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


@pytest.fixture(scope="module")
def trained_cnn(tmp_path_factory):
    """(model-best, train file) of configs/cnn_crf.cfg trained for a few steps by `spacy train`, with a training
    word list and a user dictionary (deleted after training)."""
    root = tmp_path_factory.mktemp("cnn")
    train = sighan_file(root / "train.utf8", 200)
    (root / "words.utf8").write_text("中国\n人民\n", encoding="utf8")
    (root / "user.utf8").write_text("人民银行\n", encoding="utf8")
    python(
        "-m", "spacy", "train", str(ROOT / "configs" / "cnn_crf.cfg"), "--output", str(root / "out"),
        "--paths.train", str(train), "--paths.dev", str(train), "--training.max_steps", "8",
        "--paths.words", str(root / "words.utf8"), "--paths.user_words", str(root / "user.utf8"),
        "--training.eval_frequency", "4", "--training.optimizer.learn_rate.initial_rate", "0.003",
        "--training.optimizer.learn_rate.warmup_steps", "0",
    )  # fmt: skip
    (root / "words.utf8").unlink()
    (root / "user.utf8").unlink()
    return root / "out" / "model-best", train


@pytest.mark.slow
def test_paths_words_and_user_words_are_kept_in_the_trained_model(trained_cnn):
    model, _ = trained_cnn
    segmenter = spacy.load(model).get_pipe("crf_segmenter")
    assert segmenter.known_words == frozenset(["中国", "人民"]) and segmenter.user_words == ["人民银行"]
    components = load_config(model / "config.cfg", interpolate=False)["components"]
    assert not [s for s in strings_in(components) if ".utf8" in s]  # loading reads no file path


@pytest.mark.slow
def test_a_trained_model_resumes_training_with_its_own_rates(trained_cnn):
    model, _ = trained_cnn
    nlp = spacy.load(model)
    optimizer = nlp.resume_training()
    assert optimizer.learn_rate == pytest.approx(0.003)
    assert nlp.config["training"]["optimizer"]["crf_lr"]["initial_rate"] == pytest.approx(0.04)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["cnn_crf.cfg", "model"])
def test_spacy_debug_data_and_debug_model_run(trained_cnn, config):
    model, train = trained_cnn
    path = model / "config.cfg" if config == "model" else ROOT / "configs" / config
    paths = [
        "--paths.train",
        str(train),
        "--paths.dev",
        str(train),
        "--paths.words",
        "null",
        "--paths.user_words",
        "null",
    ]
    python("-m", "spacy", "debug", "data", str(path), *paths)
    python("-m", "spacy", "debug", "model", str(path), "crf_segmenter", *paths)


def test_pip_users_get_every_shipped_config_in_one_command(tmp_path):
    from spacy_crf_lr.cli.init_config import config_names

    assert config_names() == [path.stem for path in CONFIGS]
    for path in CONFIGS:
        python("-m", "spacy_crf_lr", "init-config", path.stem, str(tmp_path), cwd=tmp_path)
        assert (tmp_path / path.name).read_bytes() == path.read_bytes()


def test_the_packaged_configs_are_the_top_level_configs():
    packaged = ROOT / "spacy_crf_lr" / "configs"
    assert packaged.is_symlink() and packaged.resolve() == (ROOT / "configs").resolve()
    assert "configs/*.cfg" in (ROOT / "setup.cfg").read_text(encoding="utf8")


def test_the_segmenter_default_model_is_the_cnn_crf_recipe():
    from spacy_crf_lr.cws.segmenter import DEFAULT_MODEL

    recipe = load_config(ROOT / "configs" / "cnn_crf.cfg", interpolate=False)["components"]["crf_segmenter"]["model"]
    assert DEFAULT_MODEL == recipe
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter")
    assert nlp.config["components"]["crf_segmenter"]["model"] == registry.fill({"model": recipe})["model"]


REMOVED_SETTINGS = ["embed_dropout", "bigram_min_count", "bigram_dropout", "leave_one_out", "trigram_rows"]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.name)
def test_the_shipped_configs_name_no_removed_setting_and_no_file_outside_initialize(config):
    raw = load_config(config, interpolate=False)
    text = config.read_text(encoding="utf8")
    assert not [setting for setting in REMOVED_SETTINGS if f"\n{setting} =" in text]
    for name, component in raw["components"].items():
        assert "user_words" not in component and "words" not in component.get("scorer", {}), name
    if "crf_segmenter" in raw["components"]:
        assert raw["initialize"]["components"]["crf_segmenter"] == {
            "user_words": "${paths.user_words}",
            "words": "${paths.words}",
        }
