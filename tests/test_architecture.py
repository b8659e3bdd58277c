"""The package's architecture, enforced: import-linter's contracts in pyproject.toml hold.

A student's kernel imports the top-level modules only; ``running``, ``authoring`` and
``grading`` are the author's and the instructor's programs, and grading may use the other two,
never the reverse.
"""

from __future__ import annotations

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
    assert "4 kept, 0 broken" in completed.stdout


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


def test_every_own_digit_module_but_its_command_line_is_bound_by_its_contract():
    contract = next(c for c in CONFIG["contracts"] if c["id"] == "own-digit")
    modules = {
        f"checks.own_digit.{path.stem}"
        for path in (ROOT / "checks" / "own_digit").glob("*.py")
        if path.stem not in ("__init__", "__main__", "cli")
    }
    assert modules == set(contract["source_modules"])
    top_level = next(c for c in CONFIG["contracts"] if c["id"] == "student-api")
    cli_contract = next(c for c in CONFIG["contracts"] if c["id"] == "own-digit-cli")
    assert cli_contract["source_modules"] == top_level["source_modules"]


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
