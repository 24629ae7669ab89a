"""The README and docs/: a short manual, a module map that names every module, links that resolve, no machine's
paths, and a first command that names only the project's vars."""

import re
import shlex

import pytest
import srsly
from conftest import ROOT

PACKAGE = ROOT / "spacy_crf_lr"
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
MANUAL_PAGES = [page for page in PAGES if not page.name.startswith(("benchmarks", "experiment"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
MACHINE_PATHS = ("/work/", "/tmp/", "/root/", "/home/", "/Users/")
# CharEmbed.v2 settings measured and dropped in 0.3.0: docs/benchmarks.md keeps the measurements
REMOVED_SETTINGS = ("embed_dropout", "bigram_min_count", "bigram_dropout", "leave_one_out", "trigram_rows")


def test_the_module_map_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf8")
    modules = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"]
    assert modules
    missing = sorted(module for module in modules if f"`{module}`" not in text)
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_the_readme_is_a_short_manual():
    assert len(README.read_text(encoding="utf8").splitlines()) <= 200


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda page: page.name)
def test_no_page_names_a_machines_directories(page):
    text = page.read_text(encoding="utf8")
    lines = enumerate(text.splitlines(), 1)
    found = [(number, line) for number, line in lines if any(path in line for path in MACHINE_PATHS)]
    assert not found, f"{page.name}: machine-specific paths at {found}"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda page: page.name)
def test_every_relative_link_points_to_a_file(page):
    targets = [target.split("#", 1)[0] for target in LINK.findall(page.read_text(encoding="utf8"))]
    relative = [target for target in targets if target and not re.match(r"[a-z]+:", target)]
    broken = [target for target in relative if not (page.parent / target).exists()]
    assert not broken, f"{page.name}: links to missing files {broken}"


@pytest.mark.parametrize("page", [README, *MANUAL_PAGES], ids=lambda page: page.name)
def test_the_manual_documents_no_removed_setting(page):
    text = page.read_text(encoding="utf8")
    assert not [name for name in REMOVED_SETTINGS if name in text]


def test_the_readmes_first_commands_install_train_and_test():
    """The README opens with the install-and-train command and the test command; the first names only vars that
    project.yml defines, and a workflow it has."""
    block = re.search(r"```bash\n(.*?)```", README.read_text(encoding="utf8"), re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2 and commands[1] == "python -m pytest -q"
    steps = [shlex.split(step) for step in commands[0].split(" && ")]
    assert steps[1][:3] == ["pip", "install", "-e"] and steps[1][3] == ".[test]"
    run = steps[-1]
    assert run[:6] == ["python", "-m", "spacy", "project", "run", "all"]
    project = srsly.read_yaml(ROOT / "project.yml")
    assert "all" in project["workflows"]
    given = [arg[len("--vars.") :] for arg in run if arg.startswith("--vars.")]
    assert given and set(given) <= set(project["vars"])
