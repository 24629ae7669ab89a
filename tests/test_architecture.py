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
# subpackage -> the subpackages its modules may import from (besides itself)
ALLOWED_IMPORTS = {
    "crf": set(),
    "ml": {"crf"},
    "cws": set(),
    "pipeline": {"crf", "cws", "ml"},  # ml: the component tells its features the training words
    "training": {"crf", "pipeline"},
}


def internal_imports(path: Path) -> set:
    """The spacy_crf_lr subpackages a module imports (absolute or relative imports)."""
    found = set()
    subpackage = path.relative_to(PACKAGE).parts[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.add(subpackage)
            elif node.level == 2 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("spacy_crf_lr."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("spacy_crf_lr."))
    return found


@pytest.mark.parametrize("subpackage", sorted(ALLOWED_IMPORTS))
def test_subpackages_import_only_what_the_architecture_allows(subpackage):
    for module in sorted((PACKAGE / subpackage).glob("*.py")):
        extra = internal_imports(module) - ALLOWED_IMPORTS[subpackage] - {subpackage}
        assert not extra, f"{module.relative_to(ROOT)} imports {sorted(extra)}"


def modules_loaded_by(statement: str) -> set:
    """Top-level modules loaded by a fresh interpreter running `statement`."""
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_crf_library_needs_only_thinc_and_numpy():
    loaded = modules_loaded_by(
        "import spacy_crf_lr.crf.chain_ops, spacy_crf_lr.crf.layer, spacy_crf_lr.crf.schemes, spacy_crf_lr"
    )
    assert {"thinc", "numpy"} <= loaded
    assert "spacy" not in loaded


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


def test_predicting_leaves_the_serialized_component_unchanged():
    nlp = spacy.load(FIXTURES / "char_segmenter")
    segmenter = nlp.get_pipe("crf_segmenter")
    before = segmenter.to_bytes(exclude=["vocab"])  # the vocab's strings grow with new text: that is spaCy's
    list(nlp.pipe(["从未见过的字：龘靐齉爩", "ｱｲｳ ＡＢＣ １２３ 😀"] + [chr(0x4E00 + i) * 3 for i in range(2000)]))
    assert segmenter.to_bytes(exclude=["vocab"]) == before


def test_the_character_key_cache_is_bounded():
    from spacy_crf_lr.ml.features import CHAR_KEY_CACHE_SIZE, char_keys

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
