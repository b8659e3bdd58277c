"""Submissions as a learning-management system downloads them, matched to the class roster.

:func:`grade_download` grades a folder or a zip (:mod:`~checks.grading.safe_zip` checks every
member first) in any of these layouts, each top-level entry read on its own:

- **Canvas** ("Download submissions"): flat files ``name_userid_submissionid_file``, with
  ``name_LATE_userid_submissionid_file`` for a late one (``doejane_LATE_1001_9001_01_mnist_
  binary.ipynb``); the user id is the ``ID`` column of Canvas's gradebook;
- **Moodle** ("Download all submissions"): a folder ``Full Name_id_assignsubmission_file_/``
  per student holding what they handed in, or flat files ``Full Name_id_assignsubmission_file_
  name`` without folders; the id is the participant number;
- **a plain folder**, as :func:`~checks.grading.session.grade_folder` reads it: a file or a folder
  per student, named after them.

A zip (or folder) holding a single folder that holds the download is read inside it. Each
submission's student in the gradebook is the LMS's name and user id (``doejane_1001``), so a
student's files share a feedback page. With a roster (:mod:`~checks.grading.roster`), each
submission is matched to one student by its LMS user id (a plain name: by id, login or email);
the submissions file written beside the gradebook (:data:`SUBMISSIONS_SUFFIX`) has a row per
submission, matched or saying why not, and a row per roster student who handed in nothing. Two
notebooks of one chapter for one student are both graded and both named: never one picked
silently (:mod:`~checks.grading.export` leaves that grade blank until one row is removed).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from checks.files import read_regular_file, shown_path
from checks.grading.gradebook import neutralised, write_rows
from checks.grading.roster import Roster, Student, find_student
from checks.grading.safe_zip import ZipLimits, ZipRefused, extract_zip
from checks.grading.settings import GradingInputError
from checks.grading.submissions import SYSTEM_NAMES, Submission

#: The submissions file is the gradebook's name with this suffix: ``gradebook-submissions.csv``.
SUBMISSIONS_SUFFIX = "-submissions"
SUBMISSIONS_COLUMNS = (
    "student",
    "notebook",
    "chapter",
    "download",
    "lms",
    "lms_name",
    "lms_id",
    "submission_id",
    "late",
    "roster_id",
    "roster_name",
    "sis_id",
    "login",
    "email",
    "section",
    "match",
    "note",
)
MATCHED, NO_ROSTER_ENTRY, NO_SUBMISSION = "matched", "no roster entry", "no submission"
MAX_SUBMISSIONS_FILE_BYTES = 64 * 1024**2

_CANVAS_FILE = re.compile(
    r"^(?P<name>[^_]+)(?P<late>_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$"
)
_MOODLE_ENTRY = re.compile(
    r"^(?P<name>.+?)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$"
)


@dataclass(frozen=True)
class Handed:
    """What a download says about one of its top-level files or folders."""

    lms: str  # "canvas", "moodle" or "folder"
    key: str  # the student as the gradebook names them: doejane_1001, or the plain name
    name: str  # the name the LMS gives (doejane, Jane Doe), or the plain name
    user_id: str = ""  # the LMS user id; empty in a plain folder
    submission_id: str = ""
    late: bool = False
    entry: str = ""  # the file or folder name as downloaded


def read_entry(entry: str, is_dir: bool) -> Handed:
    """What a download's top-level file or folder name says: LMS, student, user id, lateness.

    Parameters
    ----------
    entry : str
        The file or folder name, as downloaded.
    is_dir : bool
        Whether it is a folder (Moodle's layout) rather than a file (Canvas's, Moodle's flat).

    Returns
    -------
    Handed
        Canvas's or Moodle's reading of the name, or a plain one: the name itself (a file's
        without its extension), as :func:`~checks.grading.submissions.find_submissions` names
        the student.

    Examples
    --------
    >>> read_entry("doejane_LATE_1001_9001_01_mnist_binary.ipynb", False).key
    'doejane_1001'
    >>> read_entry("Jane Doe_5001_assignsubmission_file_", True).user_id
    '5001'
    """
    moodle = _MOODLE_ENTRY.match(entry)
    if moodle and (moodle["file"] == "") == is_dir:
        return Handed("moodle", f"{moodle['name']}_{moodle['user']}", moodle["name"],
                      moodle["user"], entry=entry)  # fmt: skip
    canvas = None if is_dir else _CANVAS_FILE.match(entry)
    if canvas:
        return Handed(
            "canvas",
            f"{canvas['name']}_{canvas['user']}",
            canvas["name"],
            canvas["user"],
            canvas["submission"],
            late=bool(canvas["late"]),
            entry=entry,
        )
    plain = entry if is_dir else Path(entry).stem
    return Handed("folder", plain, plain, entry=entry)


def _entries(folder: Path) -> list[Path]:
    return sorted(entry for entry in folder.iterdir() if entry.name not in SYSTEM_NAMES)


def _is_lms(entry: Path) -> bool:
    return read_entry(entry.name, entry.is_dir() and not entry.is_symlink()).lms != "folder"


def is_lms_download(folder: Path) -> bool:
    """Whether ``folder`` holds a Canvas or Moodle download (any entry named as they name it).

    Parameters
    ----------
    folder : pathlib.Path
        The folder of submissions.

    Returns
    -------
    bool
        True when at least one entry is named as an LMS names a submission.
    """
    return any(_is_lms(entry) for entry in _entries(folder))


def submissions_root(folder: Path) -> Path:
    """The folder holding the submissions: ``folder``, or its one sub-folder that holds an LMS's.

    A zip made of a download's folder (``Assignment 1/doejane_1001_...``) is read inside it;
    a folder holding a single plain student folder is not (that student is the submission).

    Parameters
    ----------
    folder : Path
        A download, extracted.

    Returns
    -------
    Path
        ``folder``, or its only sub-folder when that one holds Canvas's or Moodle's names.
    """
    entries = _entries(folder)
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        inner = entries[0]
        if not _is_lms(inner) and any(_is_lms(entry) for entry in _entries(inner)):
            return inner
    return folder


def _handed(submission: Submission) -> Handed:
    """What the download says about the top-level entry a submission comes from."""
    if submission.folder is not None:
        return read_entry(submission.folder.name, True)
    assert submission.path is not None
    return read_entry(submission.path.name, False)


@dataclass(frozen=True)
class Matched:
    """One submission, what the download says of it, and its student (if a roster matched it)."""

    submission: Submission
    handed: Handed
    student: Student | None = None
    reason: str = ""  # why no student matched


@dataclass(frozen=True)
class Matching:
    """Every submission of a download, matched to the roster, and what the instructor must see."""

    submissions: list[Matched]
    roster: Roster | None = None

    @property
    def unmatched(self) -> list[Matched]:
        """The submissions no roster student matches (all of them matched without a roster)."""
        return [m for m in self.submissions if self.roster and m.student is None]

    @property
    def absent(self) -> list[Student]:
        """The roster's students who handed in nothing."""
        if self.roster is None:
            return []
        present = {m.student.id for m in self.submissions if m.student is not None}
        return [s for s in self.roster.students if s.id not in present]

    def duplicates(self) -> dict[tuple[str, int], list[Matched]]:
        """Two or more notebooks of one chapter for one student (by roster id, else LMS name).

        Returns
        -------
        dict
            ``(student, chapter)`` to the submissions, for each pair with more than one.
        """
        groups: dict[tuple[str, int], list[Matched]] = defaultdict(list)
        for matched in self.submissions:
            if matched.submission.chapter is None:
                continue
            who = matched.student.id if matched.student else matched.handed.key
            groups[(who, matched.submission.chapter)].append(matched)
        return {key: group for key, group in groups.items() if len(group) > 1}


def match_submissions(found: list[Submission], roster: Roster | None) -> Matching:
    """Each submission relabelled with the LMS's student name, and matched to the roster.

    Parameters
    ----------
    found : list of Submission
        The submissions :func:`~checks.grading.submissions.find_submissions` found.
    roster : Roster or None
        The class; without one, nothing is matched.

    Returns
    -------
    Matching
        The submissions, each ``student`` set to the LMS's name and user id
        (:attr:`Handed.key`), with its roster student or the reason it has none.
    """
    matched = []
    for submission in found:
        handed = _handed(submission)
        submission = replace(submission, student=handed.key)
        if roster is None:
            matched.append(Matched(submission, handed))
            continue
        student, reason = find_student(
            roster, user_id=handed.user_id, name="" if handed.user_id else handed.key
        )
        matched.append(Matched(submission, handed, student, reason))
    return Matching(matched, roster)


def _lms_label(matching: Matching) -> str:
    kinds = {m.handed.lms for m in matching.submissions}
    names = {"canvas": "Canvas download", "moodle": "Moodle download", "folder": "folder"}
    return " and ".join(names[kind] for kind in sorted(kinds)) or "folder"


def _who(matched: Matched) -> str:
    if matched.student is not None:
        return shown_path(f"{matched.student.name} ({matched.student.id})")
    return shown_path(matched.handed.key)


def describe(matching: Matching) -> list[str]:
    """What the instructor is told before grading: the layout, the roster's matches, problems.

    Parameters
    ----------
    matching : Matching
        The download's submissions, matched.

    Returns
    -------
    list of str
        One line each: the layout and counts, the roster's matches, then every submission on
        no roster entry and every student with two notebooks of one chapter.
    """
    keys = {m.handed.key for m in matching.submissions}
    late = sum(m.handed.late for m in matching.submissions)
    lines = [
        f"{_lms_label(matching)}: {len(matching.submissions)} submission(s) from {len(keys)} "
        f"student(s)" + (f", {late} late." if late else ".")
    ]
    roster = matching.roster
    if roster is not None:
        students = {m.student.id for m in matching.submissions if m.student is not None}
        lines.append(
            f"Roster {roster.source}: {len(students)} of its {len(roster.students)} students "
            f"handed in; {len(matching.unmatched)} submission(s) match no roster entry, "
            f"{len(matching.absent)} student(s) handed in nothing."
        )
        lines += [
            f"  no roster entry: {shown_path(m.handed.entry)} ({m.reason})"
            for m in matching.unmatched
        ]
    for (_, chapter), group in sorted(matching.duplicates().items()):
        names = ", ".join(shown_path(m.submission.name or m.handed.entry) for m in group)
        lines.append(
            f"  {len(group)} notebooks of chapter {chapter} for {_who(group[0])}: {names}; "
            "each is graded, and the export leaves this grade blank until you keep one"
        )
    return lines


def submissions_file(gradebook: str | os.PathLike[str]) -> Path:
    """Where the submissions file of a gradebook is: ``gradebook-submissions.csv`` beside it.

    Parameters
    ----------
    gradebook : str or path-like
        The gradebook CSV.

    Returns
    -------
    Path
        The submissions file's path (it may not exist).
    """
    gradebook = Path(gradebook)
    return gradebook.with_name(f"{gradebook.stem}{SUBMISSIONS_SUFFIX}.csv")


def submissions_rows(matching: Matching) -> list[dict[str, object]]:
    """The submissions file's rows: one per submission, then one per student without any.

    Parameters
    ----------
    matching : Matching
        The download's submissions, matched.

    Returns
    -------
    list of dict
        By :data:`SUBMISSIONS_COLUMNS`; text neutralised against CSV injection.
    """
    duplicated = {
        id(m): f"one of {len(group)} notebooks of chapter {chapter} for this student"
        for (_, chapter), group in matching.duplicates().items()
        for m in group
    }
    rows: list[dict[str, object]] = []
    for matched in sorted(
        matching.submissions, key=lambda m: (m.submission.student, m.submission.name)
    ):
        handed, student = matched.handed, matched.student
        match = "" if matching.roster is None else (MATCHED if student else NO_ROSTER_ENTRY)
        note = "; ".join(text for text in (matched.reason, duplicated.get(id(matched))) if text)
        rows.append(
            {
                "student": matched.submission.student,
                "notebook": matched.submission.name,
                "chapter": matched.submission.chapter or "",
                "download": handed.entry,
                "lms": handed.lms,
                "lms_name": handed.name,
                "lms_id": handed.user_id,
                "submission_id": handed.submission_id,
                "late": "late" if handed.late else "",
                **_student_cells(student),
                "match": match,
                "note": note,
            }
        )
    rows += [{**_student_cells(student), "match": NO_SUBMISSION} for student in matching.absent]
    return [{key: _cell(value) for key, value in row.items()} for row in rows]


def _student_cells(student: Student | None) -> dict[str, str]:
    if student is None:
        return {}
    return {
        "roster_id": student.id,
        "roster_name": student.name,
        "sis_id": student.sis_id,
        "login": student.login,
        "email": student.email,
        "section": student.section,
    }


def _cell(value: object) -> object:
    return neutralised(value) if isinstance(value, str) else value


def write_submissions_file(path: Path, matching: Matching) -> None:
    """Write the submissions file atomically (text quoted, formula starts neutralised).

    Parameters
    ----------
    path : Path
        The file (:func:`submissions_file`).
    matching : Matching
        The download's submissions, matched.
    """
    write_rows(path, list(SUBMISSIONS_COLUMNS), submissions_rows(matching))


def read_submissions_file(path: Path) -> list[dict[str, str]]:
    """The rows of a submissions file; raise ``ValueError`` with one line if it is not one.

    Parameters
    ----------
    path : Path
        The submissions file.

    Returns
    -------
    list of dict
        Its rows, as text.
    """
    content = (
        read_regular_file(path.resolve(), MAX_SUBMISSIONS_FILE_BYTES + 1)
        if path.is_file()
        else None
    )
    if content is None or len(content) > MAX_SUBMISSIONS_FILE_BYTES:
        raise ValueError(f"{shown_path(path)} is not a readable submissions file")
    try:
        reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), strict=True)
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{shown_path(path)} is not a submissions file ({error})") from None
    missing = [c for c in SUBMISSIONS_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{shown_path(path)} lacks the column(s) {', '.join(missing)}")
    if any(None in row for row in rows):
        raise ValueError(f"{shown_path(path)} has a row with more fields than its header")
    return rows


@contextlib.contextmanager
def opened_download(
    download: str | os.PathLike[str], limits: ZipLimits | None = None
) -> Iterator[Path]:
    """The folder of submissions: ``download`` itself, or a zip's checked extraction.

    The extraction is removed when the block ends.

    Parameters
    ----------
    download : str or path-like
        A folder, or a zip.
    limits : ZipLimits, default=None
        Caps on the zip's members and bytes.

    Yields
    ------
    Path
        The folder holding the submissions (:func:`submissions_root`).

    Raises
    ------
    GradingInputError
        ``download`` is neither a folder nor a zip, or the zip is refused (one line).
    """
    path = Path(download)
    if path.is_dir():
        yield submissions_root(path)
        return
    if not path.is_file() or not (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)):
        raise GradingInputError(f"{shown_path(path)} is not a folder or a zip of submissions")
    with tempfile.TemporaryDirectory(prefix="checks-download-") as scratch:
        try:
            extract_zip(path, Path(scratch) / "download", limits)
        except ZipRefused as error:
            raise GradingInputError(str(error)) from None
        yield submissions_root(Path(scratch) / "download")
