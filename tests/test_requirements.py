"""`pip install -e ".[test]"` (the README's and CI's install) provides every third-party module that the tests and
scripts import: setup.cfg's install_requires and `test` extra, with everything those require in turn."""

import ast
import configparser
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SOURCES = sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
FIRST_PARTY = {"spacy_crf_lr"} | {path.stem for path in SOURCES}


def declared_requirements(setup_cfg: str, extra: str) -> list[Requirement]:
    """install_requires and the requirements of `extra`, as setup.cfg's text lists them."""
    parser = configparser.ConfigParser()
    parser.read_string(setup_cfg)
    lines = parser["options"]["install_requires"].splitlines() + parser["options.extras_require"][extra].splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def provided_distributions(requirements: list[Requirement]) -> set[str]:
    """Canonical names of the required distributions and, where installed, of everything they require in turn
    (with the extras they ask for)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = requirement.extras | {""}
        if (name, frozenset(extras)) in seen:
            continue
        seen.add((name, frozenset(extras)))
        try:
            sub_requirements = requires(name) or []
        except PackageNotFoundError:
            continue
        for line in sub_requirements:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                sub.marker = None
                pending.append(sub)
    return {name for name, _ in seen}


def third_party_imports(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level module names imported anywhere in the files (functions included), without the standard library
    and the project's own modules, each with the names of the files that import it."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    found.setdefault(top, set()).add(path.name)
    return found


def unprovided(imports: dict[str, set[str]], provided: set[str], distributions_of: dict[str, list[str]]) -> list[str]:
    """'module (files)' for each import that no provided distribution installs."""
    return [
        f"{module} ({', '.join(sorted(files))})"
        for module, files in sorted(imports.items())
        if not provided & {canonicalize_name(d) for d in distributions_of.get(module, [])}
    ]


def test_the_test_extra_provides_every_module_the_tests_and_scripts_import():
    provided = provided_distributions(declared_requirements((ROOT / "setup.cfg").read_text(), "test"))
    missing = unprovided(third_party_imports(SOURCES), provided, packages_distributions())
    assert missing == [], f"add their distributions to the `test` extra in setup.cfg: {missing}"


def test_a_module_missing_from_the_test_extra_is_named():
    setup_cfg = (ROOT / "setup.cfg").read_text()
    without_ray = [r for r in declared_requirements(setup_cfg, "test") if canonicalize_name(r.name) != "ray"]
    provided = provided_distributions(without_ray)
    assert "ray" not in provided
    missing = unprovided(third_party_imports(SOURCES), provided, packages_distributions())
    assert "ray (test_ray.py)" in missing
    # ray[data]'s own requirements come along with the extra
    assert {"ray", "pyarrow", "thinc", "srsly"} <= provided_distributions(declared_requirements(setup_cfg, "test"))


def test_imports_in_functions_count_and_the_standard_library_and_local_modules_do_not(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "import os, json\nimport conftest\nfrom spacy_crf_lr.cli import main\ndef f():\n    import ray.data\n"
    )
    assert third_party_imports([source]) == {"ray": {"probe.py"}}
    assert unprovided({"ray": {"probe.py"}}, {"numpy"}, {"ray": ["ray"]}) == ["ray (probe.py)"]
    assert unprovided({"ray": {"probe.py"}}, {"ray"}, {"ray": ["ray"]}) == []
    assert unprovided({"unknown": {"probe.py"}}, {"ray"}, {}) == ["unknown (probe.py)"]
