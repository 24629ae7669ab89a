"""The house rules: which subpackage may import what, saved pipelines of earlier releases still load,
no runtime state in serialized bytes, and the private APIs we rely on still exist."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from conftest import ROOT
from spacy.tokens import Doc

import spacy_crf_lr

PACKAGE = ROOT / "spacy_crf_lr"
FIXTURES = ROOT / "tests" / "fixtures" / "release_0_1_0"
FIXTURES_0_2_0 = ROOT / "tests" / "fixtures" / "release_0_2_0"
# room (subpackage, nested subpackage or top-level module) -> the rooms its modules may import from (besides itself)
ALLOWED_IMPORTS = {
    "crf": set(),  # the CRF library: thinc and numpy only
    "ml": {"crf"},  # generic architectures
    "ml.chars": set(),  # the character features for segmentation: layers, architectures, fitting
    "pipeline": {"crf", "ml", "util"},  # the generic components: no Chinese-segmentation code
    "cws": {"crf", "ml", "ml.chars", "pipeline", "util"},  # Chinese word segmentation, its component included
    "run": {"cws", "util"},  # running a pipeline over many lines: worker processes, files, Ray
    "training": {"crf", "pipeline"},
    "cli": {"crf", "cws", "pipeline", "run", "util"},
    "util": set(),
}


def room_of(parts: tuple) -> str:
    """The room of a module inside spacy_crf_lr (its dotted name's parts below the package): the longest room
    its name starts with ("" for the package itself)."""
    rooms = [room for room in ALLOWED_IMPORTS if tuple(room.split(".")) == parts[: room.count(".") + 1]]
    return max(rooms, key=len, default="")


def internal_imports(path: Path) -> set:
    """The rooms a module imports from (absolute or relative imports)."""
    package = path.relative_to(PACKAGE).with_suffix("").parts[:-1]  # the package that relative imports start from
    targets = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                if node.module:
                    targets.append(base + tuple(node.module.split(".")))
                else:
                    targets.extend(base + (alias.name,) for alias in node.names)
            elif (node.module or "").startswith("spacy_crf_lr."):
                targets.append(tuple(node.module.split(".")[1:]))
        elif isinstance(node, ast.Import):
            targets.extend(tuple(a.name.split(".")[1:]) for a in node.names if a.name.startswith("spacy_crf_lr."))
    return {room_of(target) for target in targets} - {""}


def room_modules(room: str) -> list:
    """The modules of a room: a (nested) subpackage's own files, or the top-level module itself."""
    folder = PACKAGE.joinpath(*room.split("."))
    return [folder.with_suffix(".py")] if folder.with_suffix(".py").is_file() else sorted(folder.glob("*.py"))


def test_import_rooms_resolve_nested_and_relative_imports():
    assert room_of(("ml", "chars", "keys")) == "ml.chars" and room_of(("ml", "tagger")) == "ml"
    assert room_of(("cws", "segmenter")) == "cws" and room_of(("__init__",)) == ""
    assert internal_imports(PACKAGE / "ml" / "chars" / "fitting.py") == {"ml.chars"}
    assert "ml.chars" in internal_imports(PACKAGE / "cws" / "segmenter.py")
    assert internal_imports(PACKAGE / "ml" / "tagger.py") <= {"crf", "ml"}


def test_every_module_is_in_a_room():
    modules = {path for path in PACKAGE.rglob("*.py")} - {PACKAGE / "__init__.py", PACKAGE / "__main__.py"}
    assert modules == {module for room in ALLOWED_IMPORTS for module in room_modules(room)}


@pytest.mark.parametrize("room", sorted(ALLOWED_IMPORTS))
def test_rooms_import_only_what_the_architecture_allows(room):
    for module in room_modules(room):
        extra = internal_imports(module) - ALLOWED_IMPORTS[room] - {room}
        assert not extra, f"{module.relative_to(ROOT)} imports {sorted(extra)}"


def modules_loaded_by(statement: str, full_names: bool = False) -> set:
    """Top-level modules (or, with full_names, all modules) loaded by a fresh interpreter running `statement`."""
    names = "sys.modules" if full_names else "{m.split('.')[0] for m in sys.modules}"
    code = f"import sys; {statement}; print(' '.join(sorted({names})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_crf_library_needs_only_thinc_and_numpy():
    loaded = modules_loaded_by(
        "import spacy_crf_lr.crf.chain_ops, spacy_crf_lr.crf.layer, spacy_crf_lr.crf.schemes, spacy_crf_lr"
    )
    assert {"thinc", "numpy"} <= loaded
    assert "spacy" not in loaded


def test_the_generic_components_load_no_chinese_segmentation_code():
    loaded = modules_loaded_by(
        "import spacy_crf_lr.pipeline.tagger, spacy_crf_lr.pipeline.ensemble, spacy_crf_lr.training.logger",
        full_names=True,
    )
    assert "spacy_crf_lr.pipeline.tagger" in loaded
    assert not {name for name in loaded if name.startswith(("spacy_crf_lr.cws", "spacy_crf_lr.ml.chars"))}


def test_sighan_files_and_bakeoff_scoring_need_no_spacy():
    loaded = modules_loaded_by("import spacy_crf_lr.cws.sighan, spacy_crf_lr.cws.bakeoff")
    assert "spacy" not in loaded and "thinc" not in loaded


def test_version_and_public_names():
    from importlib.metadata import version

    assert spacy_crf_lr.__version__ == version("spacy-crf-lr")
    for name in spacy_crf_lr.__all__:
        assert getattr(spacy_crf_lr, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        spacy_crf_lr.nope  # noqa: B018


@pytest.mark.parametrize("pipeline", ["segmenter", "char_segmenter", "tagger"])
def test_pipelines_saved_by_release_0_1_0_still_load_and_predict_the_same(pipeline):
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf8"))[pipeline]
    nlp = spacy.load(FIXTURES / pipeline)
    attr = "tag_" if pipeline == "tagger" else "text"
    for text, output in expected.items():
        assert [getattr(token, attr) for token in nlp(text)] == output


@pytest.mark.parametrize("pipeline", ["segmenter", "segmenter_v3", "ensemble"])
def test_segmenters_saved_by_release_0_2_0_still_load_and_predict_the_same(pipeline, tmp_path, monkeypatch):
    """Words, probabilities and n-best of 0.2.0's saved segmenters (shipped recipe with a user dictionary and the
    scorer's word list; CharEmbed.v3 with user words as features; an ensemble), loaded from elsewhere."""
    expected = json.loads((FIXTURES_0_2_0 / "expected.json").read_text(encoding="utf8"))[pipeline]
    monkeypatch.chdir(tmp_path)  # the saved config's file paths do not resolve here: nothing may need them
    # 0.2.0's layers saved the attrs of settings removed in 0.3.0 (bigram_min_count, known_bigrams, ...)
    assert b"known_bigrams" in (FIXTURES_0_2_0 / pipeline / "crf_segmenter" / "model").read_bytes()
    nlp = spacy.load(FIXTURES_0_2_0 / pipeline)
    segmenter = nlp.get_pipe("crf_segmenter")
    for text, output in expected.items():
        doc = nlp(text)
        assert doc.text == text
        assert [token.text for token in doc] == output["words"]
        assert [token._.crf_prob for token in doc] == pytest.approx(output["probs"], abs=1e-5)
        nbest = segmenter.nbest(nlp.make_doc(text), 3)
        assert [words for words, _ in nbest] == [words for words, _ in output["nbest"]]
        assert [log_prob for _, log_prob in nbest] == pytest.approx([lp for _, lp in output["nbest"]], abs=1e-4)


def test_a_tagger_saved_by_release_0_2_0_still_loads_and_predicts_the_same():
    expected = json.loads((FIXTURES_0_2_0 / "expected.json").read_text(encoding="utf8"))["tagger"]
    nlp = spacy.load(FIXTURES_0_2_0 / "tagger")
    for text, output in expected.items():
        doc = nlp(text)
        assert [token.tag_ for token in doc] == output["tags"]
        assert [token._.crf_prob for token in doc] == pytest.approx(output["probs"], abs=1e-5)


def test_predicting_leaves_the_serialized_component_unchanged():
    nlp = spacy.load(FIXTURES / "char_segmenter")
    segmenter = nlp.get_pipe("crf_segmenter")
    before = segmenter.to_bytes(exclude=["vocab"])  # the vocab's strings grow with new text: that is spaCy's
    list(nlp.pipe(["从未见过的字：龘靐齉爩", "ｱｲｳ ＡＢＣ １２３ 😀"] + [chr(0x4E00 + i) * 3 for i in range(2000)]))
    assert segmenter.to_bytes(exclude=["vocab"]) == before


def test_the_character_key_cache_is_bounded():
    from spacy_crf_lr.ml.chars.keys import CHAR_KEY_CACHE_SIZE, char_keys

    assert char_keys.cache_info().maxsize == CHAR_KEY_CACHE_SIZE


def test_private_doc_context_still_exists():
    """`words_doc` copies `Doc._context` (spaCy's private slot for nlp.pipe(as_tuples=True) contexts) to the
    new Doc of words; spaCy offers no public way. This fails loudly if an upgrade removes it."""
    nlp = spacy.blank("zh")
    doc = nlp.make_doc("你好")
    assert hasattr(doc, "_context")
    segmenter = spacy.load(FIXTURES / "segmenter")
    (out, context), *_ = segmenter.pipe([("共同创造", {"id": 7})], as_tuples=True)
    assert context == {"id": 7} and isinstance(out, Doc) and out.text == "共同创造"


def test_private_process_pool_workers_still_exist():
    """`cws.parallel._stop` ends a failed run's workers through ProcessPoolExecutor's private `_processes`
    (there is no public handle). This fails loudly if an upgrade removes or renames it."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as executor:
        executor.submit(int, "1").result()
        workers = executor._processes
        assert isinstance(workers, dict) and all(hasattr(w, "terminate") for w in workers.values())
