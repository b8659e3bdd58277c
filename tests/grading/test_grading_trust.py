"""Grading: the grader's own files verified before it grades."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT

from checks.grading import trust
from checks.grading.trust import UntrustedInstallation, verify_installation

# --- Trust anchors ---------------------------------------------------------------------------


def git(folder, *arguments):
    subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True)


@pytest.fixture
def committed_package(tmp_path, monkeypatch):
    """A copy of the package in a git repository of its own, as the grader would verify it."""
    repository = tmp_path / "course"
    shutil.copytree(
        ROOT / "checks", repository / "checks", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course")
    monkeypatch.setattr(trust, "package_folder", lambda: repository / "checks")
    monkeypatch.setattr(trust.metadata, "distribution", _no_distribution)
    return repository / "checks"


def _no_distribution(name):
    raise trust.metadata.PackageNotFoundError(name)


def test_the_package_as_committed_is_trusted(committed_package):
    assert verify_installation().startswith("git commit ")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda p: (p / "answer_keys.json").write_text("{}"), "answer_keys.json"),
        (lambda p: (p / "checker.py").open("a").write("\n# changed\n"), "checker.py"),
        (lambda p: (p / "grading" / "planted.py").write_text(""), "planted.py"),
        (lambda p: (p / "flags.toml").unlink(), "flags.toml"),
    ],
)
def test_a_changed_added_or_missing_file_stops_grading_and_is_named(
    committed_package, change, named
):
    change(committed_package)
    with pytest.raises(UntrustedInstallation, match=named):
        verify_installation()
