"""The package's architecture, enforced: import-linter's contracts in pyproject.toml hold, and
the import graph stays shallow and without a cycle.

A student's kernel imports the top-level modules only; ``running``, ``authoring`` and
``grading`` are the author's and the instructor's programs, and grading may use the other two,
never the reverse. ``own_digit`` (chapter 10) is a leaf that needs only a few top-level modules.
The longest import chain of the package is at most 8 modules, of the student API at most 6.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]
SUBPACKAGES = ("running", "authoring", "grading")
STUDENT_SUBPACKAGES = ("own_digit",)  # importable by a student's kernel, bound by its own contract


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the ``checks`` package found in ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(Path(sys.executable).parent)},
        timeout=120,
    )


def test_the_import_contracts_are_kept():
    completed = lint_imports(ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"{len(CONFIG['contracts'])} kept, 0 broken" in completed.stdout


def test_a_student_module_importing_the_grader_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "checks", tmp_path / "checks", ignore=shutil.ignore_patterns("*.pyc"))
    checker = tmp_path / "checks" / "checker.py"
    checker.write_text(checker.read_text() + "\nfrom checks.grading import grade_folder\n")
    completed = lint_imports(tmp_path)
    assert completed.returncode != 0
    assert "checks.checker -> checks.grading" in completed.stdout


def test_every_top_level_module_is_bound_by_the_student_contract():
    contract = next(c for c in CONFIG["contracts"] if c["id"] == "student-api")
    top_level = {
        f"checks.{path.stem}"
        for path in (ROOT / "checks").glob("*.py")
        if path.stem not in ("__init__", "__main__", "cli")
    }
    assert top_level == set(contract["source_modules"])
    subpackages = {
        path.name for path in (ROOT / "checks").iterdir() if (path / "__init__.py").is_file()
    }
    assert subpackages == set(SUBPACKAGES) | set(STUDENT_SUBPACKAGES)


#: What chapter 10's package may import of the rest of ``checks``.
OWN_DIGIT_NEEDS = {"checks.distribution", "checks.files", "checks.layout", "checks.mnist"}


def test_own_digit_may_import_only_what_it_needs():
    contract = next(c for c in CONFIG["contracts"] if c["id"] == "own-digit")
    assert contract["source_modules"] == ["checks.own_digit"]
    top_level = {
        f"checks.{path.stem}"
        for path in (ROOT / "checks").glob("*.py")
        if path.stem not in ("__init__", "__main__")
    }
    others = {f"checks.{name}" for name in SUBPACKAGES}
    assert set(contract["forbidden_modules"]) == (top_level | others) - OWN_DIGIT_NEEDS
    graph = import_graph()
    own_digit = {module for module in graph if module.startswith("checks.own_digit")}
    needed = {target for module in own_digit for target in graph[module]} - own_digit
    assert needed <= OWN_DIGIT_NEEDS, needed  # the package itself (checks) included
    student = next(c for c in CONFIG["contracts"] if c["id"] == "student-api")
    assert "checks.own_digit" in student["forbidden_modules"]


def test_importing_checks_loads_no_running_authoring_or_grading_module():
    code = "import checks, sys; print(sorted(m for m in sys.modules if m.startswith('checks')))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert "checks.checker" in loaded
    for subpackage in (*SUBPACKAGES, "cli"):
        assert f"checks.{subpackage}" not in loaded, loaded


@pytest.mark.parametrize(
    "name", ["checks.check", "checks.progress", "checks.fetch_mnist", "checks.grading.grade_folder"]
)
def test_public_functions_are_documented_in_numpydoc(name):
    from numpydoc.validate import validate

    report = validate(name)
    assert report["errors"] == [], report["errors"]
    assert "Parameters" in report["docstring"] or name == "checks.progress"
    assert "Examples" in report["docstring"]


# --- The shape of the import graph, measured ---------------------------------------------------
# Every import counts, one inside a function too (grimp reads them all). A chain is the modules
# on one path of imports, importer first; the modules of a cycle all count. The ``__main__``
# modules are left out: nothing imports them, they only call a command line's ``main``.

LONGEST_CHAIN, LONGEST_STUDENT_CHAIN = 8, 6


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Each module of the ``checks`` package found in ``root`` -> the modules of it it imports."""
    code = (
        "import json, grimp\n"
        "graph = grimp.build_graph('checks', cache_dir=None)\n"
        "print(json.dumps({module: sorted(graph.find_modules_directly_imported_by(module))"
        " for module in graph.modules}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(Path(sys.executable).parent)},
        timeout=120,
    )
    graph = json.loads(completed.stdout)
    return {
        module: {target for target in targets if not target.endswith(".__main__")}
        for module, targets in graph.items()
        if not module.endswith(".__main__")
    }


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The import cycles: each group of modules that import one another, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component: set[str] = set()
            while module not in component:
                component.add(stack.pop())
            found.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return [component for component in found if len(component) > 1]


def longest_chain(graph: dict[str, set[str]], within: set[str] | None = None) -> list[str]:
    """The longest chain of imports among ``within`` (every module by default), importer first."""
    allowed = set(graph) if within is None else within
    group = {module: frozenset({module}) for module in graph}
    for cycle in cycles(graph):
        group.update(dict.fromkeys(cycle, frozenset(cycle)))
    below: dict[frozenset[str], list[str]] = {}

    def chain(members: frozenset[str]) -> list[str]:
        if members not in below:
            targets = {group[t] for m in members for t in graph[m] if t in allowed} - {members}
            longest = max(
                (chain(target) for target in sorted(targets, key=sorted)), key=len, default=[]
            )
            below[members] = sorted(members & allowed) + longest
        return below[members]

    return max((chain(group[module]) for module in sorted(allowed)), key=len)


def floors(graph: dict[str, set[str]]) -> int:
    """How many floors the modules stand on: the longest chain, a cycle counting as one floor."""
    chain = longest_chain(graph)
    crossed = {frozenset(cycle) for cycle in cycles(graph) if cycle & set(chain)}
    return len(chain) - sum(len(cycle) - 1 for cycle in crossed)


def student_api(graph: dict[str, set[str]]) -> set[str]:
    """What ``import checks`` can reach: the package and its top-level modules but the CLI."""
    return {
        module
        for module in graph
        if module == "checks"
        or (
            module.count(".") == 1
            and module != "checks.cli"
            and module.removeprefix("checks.") not in (*SUBPACKAGES, *STUDENT_SUBPACKAGES)
        )
    }


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_no_module_imports_itself_back(graph):
    assert cycles(graph) == []


def test_the_longest_import_chain_is_short(graph):
    chain = longest_chain(graph)
    assert len(chain) <= LONGEST_CHAIN, " -> ".join(chain)


def test_the_student_apis_longest_import_chain_is_shorter(graph):
    chain = longest_chain(graph, student_api(graph))
    assert chain[0] == "checks" or len(chain) < LONGEST_STUDENT_CHAIN
    assert len(chain) <= LONGEST_STUDENT_CHAIN, " -> ".join(chain)


def test_the_measure_sees_a_cycle_and_a_longer_chain(tmp_path, graph):
    shutil.copytree(ROOT / "checks", tmp_path / "checks", ignore=shutil.ignore_patterns("*.pyc"))
    files = tmp_path / "checks" / "files.py"
    files.write_text(files.read_text() + "\nimport checks.cli\n")  # the lowest imports the top
    changed = import_graph(tmp_path)
    assert any({"checks.files", "checks.cli"} <= cycle for cycle in cycles(changed))
    assert len(longest_chain(changed)) > len(longest_chain(graph))
    assert floors(changed) < len(longest_chain(changed))  # a cycle is one floor
