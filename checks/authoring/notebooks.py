"""The course's notebook files: ``NN_name.ipynb`` is chapter NN (``solutions/``, ``notebooks/``)."""

from __future__ import annotations

import re
from pathlib import Path

_CHAPTER_FILE = re.compile(r"^(?P<chapter>\d{2})_\w+$")


def chapter_of_file(path: Path) -> int | None:
    """The chapter a course notebook file is (``03_multiclass.ipynb`` -> 3), or None."""
    match = _CHAPTER_FILE.match(path.stem)
    return int(match["chapter"]) if match and path.suffix == ".ipynb" else None


def chapter_notebooks(folder: Path) -> dict[int, Path]:
    """The course notebooks in ``folder``, by chapter number, in order."""
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        chapter = chapter_of_file(path)
        if chapter is not None:
            found[chapter] = path
    return found


def course_notebooks(root: Path) -> dict[int, Path]:
    """The chapters of the course at ``root``: its solutions (a student edition: its notebooks)."""
    solutions = root / "solutions"
    return chapter_notebooks(solutions if solutions.is_dir() else root / "notebooks")
