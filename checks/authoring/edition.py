"""The student edition: the course as instructors publish it, without ``solutions/``.

It holds the book's pages, the student notebooks, the ``checks`` package with its hashed answer
keys, and what builds and installs them (configs, ``pyproject.toml``, ``Makefile``, the book's
workflow). The tests stay out: they execute the solutions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from checks.authoring.release import release

EDITION_PATHS = (
    "book",
    "notebooks",
    "checks",
    "_config.yml",
    "_toc.yml",
    "environment.yml",
    "pyproject.toml",
    "Makefile",
    "README.md",
    "LICENSE",
    ".gitignore",
    ".github/workflows/book.yml",
)
_LEFT_OUT = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".ipynb_checkpoints", "_build", "*.lock", "*.egg-info"
)


class EditionError(ValueError):
    """The student edition cannot be written there."""


def write_student_edition(root: Path, target: Path) -> list[Path]:
    """Bring ``notebooks/`` up to date, then copy the publishable tree into ``target``.

    ``target`` must not exist or be empty (nothing of the instructor's is ever overwritten).
    Returns the top-level paths written.
    """
    root, target = root.resolve(), target.resolve()
    sources = [root / relative for relative in EDITION_PATHS]
    if target == root or any(target == source or source in target.parents for source in sources):
        raise EditionError(f"{target} would be inside what it copies; choose another folder")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise EditionError(f"{target} exists and is not an empty folder")
    release(root)
    written = []
    for relative in EDITION_PATHS:
        source = root / relative
        if not source.exists():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=_LEFT_OUT)
        else:
            shutil.copy2(source, destination)
        written.append(destination)
    return written
