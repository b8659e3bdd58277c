"""environment.yml and pyproject.toml pin the same versions (conda is not installable here)."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import ROOT

# The extras `make setup` installs, all pinned and mirrored by environment.yml.
EXTRAS = ("course", "dev", "grading", "deep")


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for extra in EXTRAS:
        for requirement in project["optional-dependencies"][extra]:
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", requirement).groups()
            pins[name.lower()] = version
    return pins


def conda_pins() -> tuple[dict[str, str], list]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins, pip_section = {}, []
    for dependency in environment["dependencies"]:
        if isinstance(dependency, dict):
            pip_section = dependency["pip"]
            continue
        name, _, version = dependency.partition("=")
        if name not in ("python", "pip"):
            pins[name.lower()] = version
    return pins, pip_section


def test_same_packages_and_versions():
    conda, pip_section = conda_pins()
    assert conda == pyproject_pins()
    assert pip_section == ["-e ."]


def test_every_course_requirement_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for extra in EXTRAS:
        for requirement in project["optional-dependencies"][extra]:
            assert "==" in requirement, f"{requirement} in [{extra}] is not pinned"


def test_jupyter_book_stays_on_1x():
    version = pyproject_pins()["jupyter-book"]
    assert version.startswith("1.") and tuple(map(int, version.split(".")[:3])) >= (1, 0, 4)


def test_python_version_agrees():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(
        d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python=")
    )
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = requires.removeprefix(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))
