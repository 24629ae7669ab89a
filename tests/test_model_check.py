"""A model's config.cfg is checked before the model loads: each problem is one line naming the model and setting."""

import shutil
import subprocess
import sys

import pytest

from spacy_crf_lr.cli import EXIT_ERROR, main
from spacy_crf_lr.run.model_check import check_model

OLD = "an earlier run's output\n"


@pytest.fixture
def damaged(tiny_segmenter, tmp_path):
    """A copy of the tiny segmenter whose config.cfg a test rewrites, and the input and output of a run."""
    model = tmp_path / "model"
    shutil.copytree(tiny_segmenter, model)
    (tmp_path / "in.txt").write_text("中国人民\n", encoding="utf-8")
    (tmp_path / "out.txt").write_text(OLD, encoding="utf-8")
    return model


def edit_config(model, old: str, new: str) -> None:
    config = model / "config.cfg"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def segment_error(model, monkeypatch, capsys) -> str:
    """The one line `segment` prints for model (exit 2, the output untouched), with spacy.load never reached."""
    import spacy

    def no_load(*args, **kwargs):
        raise AssertionError("spacy.load was called: the config should have been refused before")

    monkeypatch.setattr(spacy, "load", no_load)
    folder = model.parent
    assert main(["segment", str(model), str(folder / "in.txt"), str(folder / "out.txt"), "--quiet"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: model {model}: config.cfg"), err
    assert "<string>" not in err
    assert (folder / "out.txt").read_text(encoding="utf-8") == OLD
    return err


def test_a_garbage_config_is_one_line(damaged, monkeypatch, capsys):
    (damaged / "config.cfg").write_text("garbage [[[ = =\n", encoding="utf-8")
    err = segment_error(damaged, monkeypatch, capsys)
    assert "cannot be read: File contains no section headers. line: 1 'garbage [[[ = =\\n'" in err


def test_a_config_that_is_not_text_is_one_line(damaged, monkeypatch, capsys):
    (damaged / "config.cfg").write_bytes(b"\xff\xfe\x00")
    assert "cannot be read: 'utf-8' codec can't decode byte 0xff" in segment_error(damaged, monkeypatch, capsys)


def test_a_config_without_the_pipeline_sections_is_refused(damaged, monkeypatch, capsys):
    (damaged / "config.cfg").write_text("[paths]\ntrain = null\n", encoding="utf-8")
    assert "has no [nlp] section" in segment_error(damaged, monkeypatch, capsys)


def test_an_unknown_architecture_names_the_setting_and_close_names_not_the_registry(damaged, monkeypatch, capsys):
    edit_config(damaged, '"spacy_crf_lr.CharEmbed.v1"', '"spacy_crf_lr.CharEmbed.v9"')
    err = segment_error(damaged, monkeypatch, capsys)
    assert (
        "[components.crf_segmenter.model.tok2vec.embed] @architectures = 'spacy_crf_lr.CharEmbed.v9' is not registered"
        in err
    )
    assert "close: " in err and "spacy_crf_lr.CharEmbed.v1" in err
    assert "spacy-legacy" not in err and "Available names" not in err


def test_an_unknown_factory_names_the_component(damaged, monkeypatch, capsys):
    edit_config(damaged, 'factory = "crf_segmenter"', 'factory = "crf_segmentr"')
    err = segment_error(damaged, monkeypatch, capsys)
    assert "[components.crf_segmenter] factory = 'crf_segmentr' is not registered; close: crf_segmenter" in err
    assert "Available factories" not in err


def test_an_unknown_language_is_named(damaged, monkeypatch, capsys):
    edit_config(damaged, 'lang = "zh"', 'lang = "qq"')
    assert "[nlp] lang = 'qq' is not a language spaCy has" in segment_error(damaged, monkeypatch, capsys)


def test_a_sound_model_passes(tiny_segmenter):
    check_model(str(tiny_segmenter))


def test_a_plugins_own_registries_are_known_once_its_factory_is_loaded(tmp_path):
    """A transformer pipeline names `@span_getters`, a registry spacy-transformers adds when its module is imported
    (through the `transformer` factory's entry point): checked in a fresh interpreter, where nothing imported it."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.cfg").write_text(
        '[nlp]\nlang = "zh"\npipeline = ["transformer"]\n\n[components]\n\n[components.transformer]\n'
        'factory = "transformer"\n\n[components.transformer.model]\n'
        '@architectures = "spacy-transformers.TransformerModel.v3"\nname = "bert-base-chinese"\n\n'
        '[components.transformer.model.get_spans]\n@span_getters = "spacy-transformers.strided_spans.v1"\n'
        "window = 128\nstride = 96\n",
        encoding="utf-8",
    )
    code = (
        "import sys; from spacy_crf_lr.run.model_check import check_model; check_model(sys.argv[1]); "
        "assert 'spacy_transformers' in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
