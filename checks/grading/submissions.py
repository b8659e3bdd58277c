"""Find the submissions in a folder and tell which chapter each notebook is.

A folder of submissions holds either notebooks (``jdoe_01_mnist_binary.ipynb``: the student is
the file's name) or one sub-folder per student (``jdoe/01_mnist_binary.ipynb``: the student is the
folder's name, and the whole folder is copied for the run, so a notebook can read its own files).
Every file a student handed in gets a row, so a PDF or a broken file is seen, not skipped.
Each submission is read and classified once, when it is found: its chapter, or why it cannot be
graded.

Nothing a student hands in can stop the search: folders are walked without recursion and
without following links (:mod:`checks.running.tree`), a student folder too deep, too big or with
too many files is refused before anything is copied (:data:`FOLDER_LIMITS`), and a fault in one
entry becomes that entry's row (``grader error: ...``). Names that are not UTF-8 are kept as
Python reads them (``surrogateescape``); :func:`checks.grading.shown.shown_name` shows them.
"""

from __future__ import annotations

import json
import re
import stat
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from checks.catalogue import UnknownFlag, get_flag
from checks.files import read_regular_file
from checks.grading.status import RunStatus
from checks.running.tree import TreeLimits, refusal, walk

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
    detail: str = ""  # what the problem is, in one line, when the status alone does not say

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
#: The most a student folder may hold; past it, the folder is refused before anything is copied.
FOLDER_LIMITS = TreeLimits()


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
    for current, folders, files in walk(folder, FOLDER_LIMITS.depth):
        folders[:] = [name for name in folders if name not in SYSTEM_NAMES]
        found += [current / name for name in files if name.endswith(".ipynb")]
    return sorted(found)


def _entry(entry: Path, root: Path) -> list[Submission]:
    """The rows of one entry of the submissions folder: a file, or a student's folder."""
    student = entry.name if entry.is_dir() else entry.stem
    problem = _refusal(entry, root)
    if problem is not None:
        return [Submission(student, entry, None, problem=problem)]
    if entry.is_file():
        return [Submission(student, entry, None)]
    too_big = refusal(entry, FOLDER_LIMITS)
    if too_big is not None:
        return [Submission(student, None, entry, problem=RunStatus.REFUSED_SIZE, detail=too_big)]
    notebooks = _notebooks_in(entry)
    if not notebooks:
        return [Submission(student, None, entry)]
    return [Submission(student, path, entry, problem=_refusal(path, entry)) for path in notebooks]


def find_submissions(root: Path, stems: dict[int, str]) -> list[Submission]:
    """Every submission under ``root``, classified, sorted by student then notebook.

    ``stems`` maps chapter numbers to notebook names (``1: "01_mnist_binary"``). Every entry
    gets a row, hidden files too, except what systems leave behind (:data:`SYSTEM_NAMES`).
    Symbolic links, files that resolve outside ``root`` and special files (pipes, devices) get
    a row saying they were refused, and are never opened; so does a student folder past
    :data:`FOLDER_LIMITS`. Whatever goes wrong with one entry is that entry's row.
    """
    if not root.is_dir():
        raise SubmissionsError(f"{root} is not a folder of submissions")
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name in SYSTEM_NAMES:
            continue
        try:
            found += [classify(submission, stems) for submission in _entry(entry, root)]
        except Exception as error:  # one entry's fault is its row, never the search's end
            detail = f"{type(error).__name__}: {error}"
            student = entry.name if entry.is_dir() else entry.stem
            found.append(
                Submission(student, None, None, problem=RunStatus.GRADER_ERROR, detail=detail)
            )
    if not found:
        raise SubmissionsError(f"{root} is empty: no notebook to grade")
    return found


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
    """The notebook in ``path`` without its outputs, or None if it is not a valid notebook.

    The outputs are dropped before the notebook is checked against its schema: telling the
    chapter needs only the cells' sources, and a notebook of a million outputs is then no slower
    to read than its JSON. The run reads the whole notebook, within the run's own limits.
    """
    try:
        if path is None or path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        content = read_regular_file(path, MAX_NOTEBOOK_BYTES + 1)
        if content is None or len(content) > MAX_NOTEBOOK_BYTES:
            return None
        data = json.loads(content)
        for cell in data.get("cells", []):
            if isinstance(cell, dict) and "outputs" in cell:
                cell["outputs"] = []
        notebook = nbformat.reads(json.dumps(data), as_version=4)
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
