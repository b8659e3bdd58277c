"""Find the submissions in a folder and tell which chapter each notebook is.

A folder of submissions holds either notebooks (``jdoe_01_mnist_binary.ipynb``: the student is
the file's name) or one sub-folder per student (``jdoe/01_mnist_binary.ipynb``: the student is the
folder's name, and the whole folder is copied for the run, so a notebook can read its own files).
Every file a student handed in gets a row, so a PDF or a broken file is seen, not skipped.
Each submission is read and classified once, when it is found: its chapter, or why it cannot be
graded.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from checks.catalogue import UnknownFlag, get_flag
from checks.grading.status import RunStatus

_FLAG_CALL = re.compile(r"""checks\.check\(\s*["'](?P<flag>[^"']+)["']""")


class SubmissionsError(ValueError):
    """The submissions folder cannot be read."""


@dataclass(frozen=True)
class Submission:
    """One file a student handed in (or, with ``path`` None, a student folder without any)."""

    student: str
    path: Path | None
    folder: Path | None  # the student's folder, copied whole for the run; None: the file alone
    chapter: int | None = None
    problem: RunStatus | None = None  # why it cannot be graded; None: it can

    @property
    def name(self) -> str:
        """The notebook's name as shown in the gradebook (relative to the student's folder)."""
        if self.path is None:
            return ""
        return self.path.relative_to(self.folder).as_posix() if self.folder else self.path.name

    @property
    def is_notebook_file(self) -> bool:
        """Whether the file is named like a notebook (its content is checked later)."""
        return self.path is not None and self.path.suffix == ".ipynb"


# What operating systems and Jupyter leave beside submissions: never handed in, never a row.
SYSTEM_NAMES = frozenset(
    {".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX", ".ipynb_checkpoints", "__pycache__"}
)
# A notebook larger than this is not read (a submission is a few MB at most).
MAX_NOTEBOOK_BYTES = 100 * 1024**2


def _refusal(path: Path, root: Path) -> RunStatus | None:
    """Why ``path`` (found under ``root``) must not be read or run, or None if it may be."""
    if path.is_symlink():
        return RunStatus.REFUSED_SYMLINK
    if not path.resolve().is_relative_to(root.resolve()):
        return RunStatus.REFUSED_OUTSIDE
    mode = path.lstat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return RunStatus.REFUSED_SPECIAL
    return None


def _notebooks_in(folder: Path) -> list[Path]:
    """Every ``.ipynb`` under a student's folder, hidden ones too; links are not followed."""
    found = []
    for current, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if name not in SYSTEM_NAMES)
        found += [Path(current) / name for name in files if name.endswith(".ipynb")]
    return sorted(found)


def find_submissions(root: Path, stems: dict[int, str]) -> list[Submission]:
    """Every submission under ``root``, classified, sorted by student then notebook.

    ``stems`` maps chapter numbers to notebook names (``1: "01_mnist_binary"``). Every entry
    gets a row, hidden files too, except what systems leave behind (:data:`SYSTEM_NAMES`).
    Symbolic links, files that resolve outside ``root`` and special files (pipes, devices) get
    a row saying they were refused, and are never opened.
    """
    if not root.is_dir():
        raise SubmissionsError(f"{root} is not a folder of submissions")
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name in SYSTEM_NAMES:
            continue
        student = entry.name if entry.is_dir() else entry.stem
        refusal = _refusal(entry, root)
        if refusal is not None:
            found.append(Submission(student, entry, None, problem=refusal))
        elif entry.is_file():
            found.append(Submission(student, entry, None))
        else:
            notebooks = _notebooks_in(entry)
            found += [
                Submission(student, path, entry, problem=_refusal(path, entry))
                for path in notebooks
            ]
            if not notebooks:
                found.append(Submission(student, None, entry))
    if not found:
        raise SubmissionsError(f"{root} is empty: no notebook to grade")
    return [classify(submission, stems) for submission in found]


def classify(submission: Submission, stems: dict[int, str]) -> Submission:
    """The submission with its chapter, or with the reason it cannot be graded."""
    if submission.problem is not None:
        return submission
    notebook = read_notebook(submission.path) if submission.is_notebook_file else None
    if notebook is None:
        return replace(submission, problem=RunStatus.NOT_A_NOTEBOOK)
    chapter = chapter_of(notebook, submission.name, stems)
    if chapter is None:
        return replace(submission, problem=RunStatus.NOT_A_COURSE_NOTEBOOK)
    return replace(submission, chapter=chapter)


def read_notebook(path: Path | None) -> nbformat.NotebookNode | None:
    """The notebook in ``path``, or None if it is not a valid Jupyter notebook."""
    try:
        if path is None or path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception:  # not JSON, not UTF-8, not the notebook schema, unreadable...
        return None
    return notebook


def chapter_of(
    notebook: nbformat.NotebookNode, file_name: str, stems: dict[int, str]
) -> int | None:
    """The chapter a notebook belongs to: the one whose flags its code checks, else its name.

    ``stems`` maps chapter numbers to notebook names (``1: "01_mnist_binary"``). The flags win
    because students rename files ("Copy of ...", LMS prefixes) but keep the flag cells.
    """
    chapters: Counter[int] = Counter()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for match in _FLAG_CALL.finditer(cell.source):
            try:
                chapters[get_flag(match["flag"]).chapter] += 1
            except UnknownFlag:
                continue
    if chapters:
        return chapters.most_common(1)[0][0]
    for number, stem in stems.items():
        if stem in file_name:
            return number
    return None
