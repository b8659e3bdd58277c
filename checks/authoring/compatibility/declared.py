"""The declared environments of the compatibility matrix (``[tool.mnist-course.compatibility]``)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from checks.compatibility import series

LIBRARIES = ("scikit-learn", "numpy", "scipy")


class DeclarationError(ValueError):
    """The compatibility matrix is declared wrongly in ``pyproject.toml``."""


@dataclass(frozen=True)
class Environment:
    """One column of the matrix: a scikit-learn release with a NumPy and a SciPy it supports."""

    name: str
    scikit_learn: str
    numpy: str
    scipy: str

    @property
    def minor(self) -> str:
        """The scikit-learn series (``"1.6"``): what answer keys are tagged with."""
        return series(self.scikit_learn)

    def versions(self) -> dict[str, str]:
        """Library -> version, for the three libraries that may shape answers."""
        return {"scikit-learn": self.scikit_learn, "numpy": self.numpy, "scipy": self.scipy}

    def requirements(self) -> list[str]:
        """The pip requirements that fix this environment's three libraries."""
        return [f"{name}=={version}" for name, version in self.versions().items()]


@dataclass(frozen=True)
class Declaration:
    """The whole matrix: its environments, the reference one, and what executing needs."""

    environments: tuple[Environment, ...]
    reference: Environment
    runner: tuple[str, ...]

    def named(self, names: list[str] | None) -> list[Environment]:
        """The environments called ``names`` (all of them when None), in declared order."""
        if not names:
            return list(self.environments)
        known = {environment.name: environment for environment in self.environments}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise DeclarationError(
                f"no declared environment {', '.join(unknown)} (declared: {', '.join(known)})"
            )
        return [e for e in self.environments if e.name in names]


def course_pins(project: dict) -> dict[str, str]:
    """Name -> version of every ``==`` pin in the ``course`` extra of a parsed pyproject."""
    pins = {}
    for requirement in project["project"]["optional-dependencies"]["course"]:
        match = re.match(r"^([A-Za-z0-9_.-]+)\s*==\s*([^\s;]+)", requirement)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def load_declaration(root: Path) -> Declaration:
    """Read the matrix from ``root/pyproject.toml``.

    Raises
    ------
    DeclarationError
        When no environment has exactly the course's pins, or a name is used twice.
    """
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    section = project["tool"]["mnist-course"]["compatibility"]
    environments = tuple(
        Environment(
            str(entry["name"]), str(entry["scikit-learn"]), str(entry["numpy"]), str(entry["scipy"])
        )
        for entry in section["environments"]
    )
    names = [environment.name for environment in environments]
    if len(set(names)) != len(names):
        raise DeclarationError(f"environment names must differ: {names}")
    pins = course_pins(project)
    pinned = {name: pins.get(name) for name in LIBRARIES}
    reference = next((e for e in environments if e.versions() == pinned), None)
    if reference is None:
        raise DeclarationError(f"no declared environment has the course's pins {pinned}")
    runner = tuple(
        f"{name}=={pins[name.lower()]}" if name.lower() in pins else name
        for name in section["runner"]
    )
    return Declaration(environments, reference, runner)
