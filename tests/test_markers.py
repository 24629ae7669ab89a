"""Every test that launches `spacy train` or `spacy project` (itself, through a helper or through a fixture of its
module or of conftest.py) carries the `slow` marker, so `pytest -m "not slow"` stays quick."""

import ast

from conftest import ROOT

LAUNCHES = {("spacy", "train"), ("spacy", "project")}
TESTS = ROOT / "tests"


def launches(function: ast.AST) -> bool:
    """Whether a call in the function has the arguments "spacy", "train" (or "spacy", "project") in a row, as
    separate arguments or in a list or tuple literal."""
    for call in ast.walk(function):
        if not isinstance(call, ast.Call):
            continue
        for arguments in [call.args, *(a.elts for a in call.args if isinstance(a, (ast.List, ast.Tuple)))]:
            words = [a.value if isinstance(a, ast.Constant) else None for a in arguments]
            if LAUNCHES & set(zip(words, words[1:])):
                return True
    return False


def functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def used_names(function: ast.FunctionDef) -> set[str]:
    """The names the function reads and its parameters (which name the fixtures it requests)."""
    reads = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
    return reads | {argument.arg for argument in function.args.args}


def marked_slow(node: ast.AST) -> bool:
    return "pytest.mark.slow" in ast.unparse(node)


def unmarked_launchers(source: str, shared: dict[str, ast.FunctionDef]) -> list[str]:
    """Names of the tests in `source` that launch `spacy train`/`spacy project` without the slow marker; `shared`
    holds the functions of conftest.py (fixtures and helpers)."""
    tree = ast.parse(source)
    if any(
        isinstance(node, ast.Assign) and "pytestmark" in ast.unparse(node.targets[0]) and marked_slow(node.value)
        for node in tree.body
    ):
        return []
    known = {**shared, **functions(tree)}

    def reaches(name: str, seen: set[str]) -> bool:
        if name in seen or name not in known:
            return False
        seen.add(name)
        return launches(known[name]) or any(reaches(used, seen) for used in used_names(known[name]))

    return [
        name
        for name, function in functions(tree).items()
        if name.startswith("test_")
        and not any(marked_slow(decorator) for decorator in function.decorator_list)
        and reaches(name, set())
    ]


def test_every_test_that_launches_a_training_is_marked_slow():
    shared = functions(ast.parse((TESTS / "conftest.py").read_text(encoding="utf8")))
    unmarked = {
        path.name: names
        for path in sorted(TESTS.glob("test_*.py"))
        if (names := unmarked_launchers(path.read_text(encoding="utf8"), shared))
    }
    assert unmarked == {}, "mark them @pytest.mark.slow"


def test_launchers_are_found_through_helpers_and_fixtures():
    shared = functions(ast.parse("def python(*args):\n    pass\n"))
    source = """
import pytest

def train(tmp_path):
    python("-m", "spacy", "train", str(tmp_path))

@pytest.fixture
def trained(tmp_path):
    return train(tmp_path)

def test_direct():
    subprocess.run([sys.executable, "-m", "spacy", "project", "run", "all"])

def test_through_a_fixture(trained):
    pass

@pytest.mark.slow
def test_marked(trained):
    pass

def test_other_commands(tmp_path):
    python("-m", "spacy", "debug", "data", "train")
"""
    assert unmarked_launchers(source, shared) == ["test_direct", "test_through_a_fixture"]
    assert unmarked_launchers("import pytest\npytestmark = pytest.mark.slow\n" + source, shared) == []
