"""Grades out: a gradebook exported for Canvas, Moodle, Gradescope, or as a plain CSV.

:func:`export_gradebook` reads the gradebook ``grade`` wrote (a row per notebook), the
submissions file beside it when there is one (:mod:`~checks.grading.lms`: who handed in what,
matched to the roster) or a roster given now, and writes one grade per student per assignment.
An assignment is a chapter, or chapters an instructor groups (``"Homework 1=1,2"``); its points
possible are its flags' points. Each format follows its LMS's documented import:

- ``canvas``: ``Student, ID, SIS User ID, SIS Login ID, Section``, then a column per assignment
  (its name, or ``Name (12345)`` to update Canvas's assignment 12345), and a second row
  ``Points Possible``;
- ``moodle``: ``Full name, ID number, Email address``, then a column per assignment; Moodle's
  "Import grades: CSV file" matches students on the email address or the ID number;
- ``gradescope``: one ``results.json`` per student and assignment, as Gradescope's autograder
  reads it: a top-level ``score`` and ``tests``, one per flag, with ``name``, ``score``,
  ``max_score``, ``output`` (the feedback: captured, the declared mistake, or the hint) and
  ``visibility``;
- ``csv``: a row per student and assignment, with the reason for every blank grade, and a row
  per submission no roster student matches.

A grade is never guessed: a student with two notebooks of one chapter, or a grader error, gets a
blank grade and a note saying so (the LMS formats leave them out and :attr:`Export.warnings`
names them), as does a roster student who handed in nothing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from checks.catalogue import Flag, chapter_flags, load_catalogue
from checks.files import atomic_write_text, read_regular_file, shown_path
from checks.grading.gradebook import MISTAKE_PREFIX, neutralised
from checks.grading.lms import (
    MATCHED,
    NO_ROSTER_ENTRY,
    NO_SUBMISSION,
    Handed,
    read_submissions_file,
    submissions_file,
)
from checks.grading.roster import Roster, RosterError, Student, find_student, read_roster
from checks.grading.status import RunStatus

FORMATS = ("canvas", "moodle", "gradescope", "csv")
#: Gradescope's values of ``visibility``, for a test and for the whole result.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
MOODLE_COLUMNS = ("Full name", "ID number", "Email address")
CSV_COLUMNS = (
    "assignment",
    "student_id",
    "name",
    "sis_id",
    "login",
    "email",
    "section",
    "score",
    "out_of",
    "late",
    "notebooks",
    "note",
)
GRADEBOOK_COLUMNS = ("student", "notebook", "chapter", "status", "total")
MAX_GRADEBOOK_BYTES = 256 * 1024**2
#: Statuses that are the grader's failure, not the student's: such a grade is left blank.
GRADER_FAILURES = (RunStatus.GRADER_ERROR.value, RunStatus.WORKER_UNTRUSTED.value)
_ASSIGNMENT = re.compile(r"^(?P<name>[^=]+)=(?P<chapters>[\d,\s]+)$")


class ExportError(ValueError):
    """The export cannot be made; the message is one line and says why."""


@dataclass(frozen=True)
class Assignment:
    """One graded assignment of the LMS: a name and the chapters it is made of."""

    name: str
    chapters: tuple[int, ...]

    @property
    def flags(self) -> list[Flag]:
        """The flags of its chapters, in course order."""
        return [flag for chapter in self.chapters for flag in chapter_flags(chapter)]

    @property
    def possible(self) -> int:
        """Its points possible: the points of its chapters' flags."""
        return sum(flag.points for flag in self.flags)


def parse_assignments(specs: list[str], chapters: set[int]) -> list[Assignment]:
    """The assignments ``NAME=CHAPTERS`` name, or one per chapter in ``chapters``.

    Parameters
    ----------
    specs : list of str
        ``"Homework 1=1,2"`` (chapters 1 and 2 make "Homework 1"), ``"Chapter 1 (12345)=1"``
        (Canvas: update its assignment 12345). Empty: one assignment per graded chapter,
        ``Chapter N``.
    chapters : set of int
        The chapters the gradebook has.

    Returns
    -------
    list of Assignment

    Raises
    ------
    ExportError
        A spec is malformed, names a chapter the course lacks, gives a chapter to two
        assignments or a name twice; or nothing is to be exported.
    """
    known = set(load_catalogue().chapters)
    if not specs:
        if not chapters:
            raise ExportError("the gradebook has no graded notebook of any chapter")
        return [Assignment(f"Chapter {chapter}", (chapter,)) for chapter in sorted(chapters)]
    assignments: list[Assignment] = []
    owner: dict[int, str] = {}
    for spec in specs:
        match = _ASSIGNMENT.match(spec)
        numbers = [p.strip() for p in match["chapters"].split(",")] if match else []
        if not match or not match["name"].strip() or not all(numbers):
            raise ExportError(
                f"--assignment {spec!r}: expected NAME=CHAPTERS, e.g. 'Homework 1=1,2'"
            )
        name, parsed = match["name"].strip(), tuple(int(n) for n in numbers)
        for chapter in parsed:
            if chapter not in known:
                raise ExportError(f"--assignment {spec!r}: the course has no chapter {chapter}")
            if chapter in owner:
                raise ExportError(
                    f"chapter {chapter} is in two assignments ({owner[chapter]!r}, {name!r})"
                )
            owner[chapter] = name
        if any(a.name == name for a in assignments):
            raise ExportError(f"two assignments are named {name!r}")
        assignments.append(Assignment(name, parsed))
    return assignments


@dataclass(frozen=True)
class Row:
    """One gradebook row, read and checked."""

    student: str
    notebook: str
    chapter: int | None
    status: str
    total: float
    points: dict[str, float]
    mistakes: dict[str, str]
    seconds: float = 0.0


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ExportError(f"{what} is {shown_path(text, 20)!r}, not a number") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise ExportError(f"{what} is {text!r}, not a number of points")
    return value


def read_gradebook(path: str | os.PathLike[str]) -> list[Row]:
    """The rows of a gradebook ``grade`` wrote; raise :class:`ExportError` if it is not one.

    Parameters
    ----------
    path : str or path-like
        The gradebook CSV.

    Returns
    -------
    list of Row
        Its rows, in order.

    Raises
    ------
    ExportError
        Missing, not a regular file, too large, not UTF-8, not CSV, a column missing, a chapter
        the course does not have, an empty total, or a number of points that is not one (the
        line is named).
    """
    path = Path(path)
    source = shown_path(path)
    content = read_regular_file(path.resolve(), MAX_GRADEBOOK_BYTES + 1) if path.is_file() else None
    if content is None or len(content) > MAX_GRADEBOOK_BYTES:
        raise ExportError(f"{source} is not a gradebook file (missing, not regular, or too large)")
    try:
        reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), strict=True)
        records = list(reader)
    except UnicodeDecodeError:
        raise ExportError(
            f"{source} is not UTF-8 text: is it the gradebook `grade` wrote?"
        ) from None
    except csv.Error as error:
        raise ExportError(f"{source}, line {reader.line_num}: not valid CSV ({error})") from None
    header = reader.fieldnames or []
    missing = [column for column in GRADEBOOK_COLUMNS if column not in header]
    if missing:
        raise ExportError(
            f"{source} is not a gradebook: no {', '.join(missing)} column (write one with "
            "`python -m checks grade`)"
        )
    chapters = load_catalogue().chapters
    rows = []
    for number, record in enumerate(records, start=2):
        if None in record:
            raise ExportError(f"{source}, line {number}: more fields than the header has")
        where = f"{source}, line {number}"
        chapter_text = (record["chapter"] or "").strip()
        if chapter_text and not (chapter_text.isascii() and chapter_text.isdigit()):
            raise ExportError(f"{where}: chapter {shown_path(chapter_text, 20)!r} is not a number")
        if chapter_text and int(chapter_text) not in chapters:
            raise ExportError(f"{where}: the course has no chapter {shown_path(chapter_text, 20)}")
        total_text = (record["total"] or "").strip()
        if not total_text:
            raise ExportError(f"{where}: the total is empty (grade the notebook again)")
        points = {
            column: _number(value, f"{where}, flag {column}")
            for column, value in record.items()
            if column in load_catalogue().flags and (value or "").strip()
        }
        mistakes = {
            column.removeprefix(MISTAKE_PREFIX): value
            for column, value in record.items()
            if column and column.startswith(MISTAKE_PREFIX) and value
        }
        seconds = record.get("seconds") or ""
        rows.append(
            Row(
                student=record["student"] or "",
                notebook=record["notebook"] or "",
                chapter=int(chapter_text) if chapter_text else None,
                status=record["status"] or "",
                total=_number(total_text, f"{where}, total"),
                points=points,
                mistakes=mistakes,
                seconds=_number(seconds, f"{where}, seconds") if seconds.strip() else 0.0,
            )
        )
    return rows


@dataclass
class Line:
    """One student's grade for one assignment (``student`` None: a submission no one matches)."""

    assignment: Assignment
    student: Student | None
    key: str  # the student's roster id, or the LMS's name for them
    rows: list[Row] = field(default_factory=list)
    handed: list[Handed] = field(default_factory=list)
    points: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def late(self) -> bool:
        """Whether the LMS marked one of its submissions late."""
        return any(handed.late for handed in self.handed)

    def score(self, percent: bool) -> float | None:
        """The grade, in points or as a percentage of the points possible; None when blank.

        Parameters
        ----------
        percent : bool
            A percentage (out of 100, two decimals) rather than points.

        Returns
        -------
        float or None
        """
        if self.points is None:
            return None
        return round(100 * self.points / self.assignment.possible, 2) if percent else self.points


@dataclass(frozen=True)
class _Person:
    """A student of the export: from the roster, or an LMS name standing for one."""

    key: str
    student: Student | None


def _identities(
    rows: list[Row], records: list[dict[str, str]] | None
) -> dict[tuple[str, str], Handed]:
    """What the download said about each gradebook row (a plain name without one)."""
    by_row = {
        (record["student"], record["notebook"]): record
        for record in records or []
        if record["student"]
    }
    handed = {}
    for row in rows:
        record = by_row.get((row.student, row.notebook))
        handed[(row.student, row.notebook)] = (
            Handed(
                record["lms"] or "folder",
                row.student,
                record["lms_name"] or row.student,
                record["lms_id"],
                record["submission_id"],
                late=bool(record["late"]),
                entry=record["download"],
            )
            if record
            else Handed("folder", row.student, row.student, entry=row.notebook)
        )
    return handed


def _recorded_roster(records: list[dict[str, str]]) -> tuple[list[Student], dict[str, Student]]:
    """The roster a submissions file recorded: its students, and each LMS name's student."""
    students: dict[str, Student] = {}
    by_key: dict[str, Student] = {}
    for record in records:
        if record["match"] not in (MATCHED, NO_SUBMISSION) or not record["roster_id"]:
            continue
        student = students.setdefault(
            record["roster_id"],
            Student(
                record["roster_id"],
                record["roster_name"],
                record["login"],
                record["email"],
                record["section"],
                record["sis_id"],
            ),
        )
        if record["match"] == MATCHED:
            by_key[record["student"]] = student
    return list(students.values()), by_key


def _people(
    rows: list[Row],
    handed: dict[tuple[str, str], Handed],
    records: list[dict[str, str]] | None,
    roster: Roster | None,
) -> tuple[list[_Person], dict[tuple[str, str], _Person]]:
    """Every student of the export, and each row's: matched to a roster, or standing alone."""
    recorded = records is not None and any(
        record["match"] in (MATCHED, NO_ROSTER_ENTRY, NO_SUBMISSION) for record in records
    )
    by_row: dict[tuple[str, str], _Person] = {}
    people: dict[str, _Person] = {}
    if roster is not None:
        for student in roster.students:
            people[student.id] = _Person(student.id, student)
    elif recorded:
        students, by_key = _recorded_roster(records or [])
        for student in students:
            people[student.id] = _Person(student.id, student)
    for row in rows:
        who = handed[(row.student, row.notebook)]
        if roster is not None:
            student, _ = find_student(
                roster, user_id=who.user_id, name="" if who.user_id else who.key
            )
        elif recorded:
            student = by_key.get(row.student)
        else:
            student = Student(who.user_id, who.name)
        if student is not None and (roster is not None or recorded):
            by_row[(row.student, row.notebook)] = people[student.id]
        elif student is not None:
            by_row[(row.student, row.notebook)] = people.setdefault(
                who.key, _Person(who.key, student)
            )
        else:  # a submission no roster student matches
            by_row[(row.student, row.notebook)] = _Person(who.key, None)
    return list(people.values()), by_row


def _grade(line: Line) -> None:
    """Set the line's points and notes from its rows, never picking one of two."""
    if not line.rows:
        line.notes.append("no submission")
        return
    by_chapter: dict[int | None, list[Row]] = defaultdict(list)
    for row in line.rows:
        by_chapter[row.chapter].append(row)
    blank = False
    for chapter in line.assignment.chapters:
        found = by_chapter.get(chapter, [])
        if len(found) > 1:
            names = ", ".join(row.notebook for row in found)
            line.notes.append(
                f"{len(found)} notebooks of chapter {chapter} ({names}): grade left blank; delete "
                "the rows you do not want from the gradebook, then export again"
            )
            blank = True
        elif not found and len(line.assignment.chapters) > 1:
            line.notes.append(f"chapter {chapter} not handed in")
    for row in line.rows:
        if row.status in GRADER_FAILURES or row.status.startswith(GRADER_FAILURES):
            line.notes.append(f"{row.notebook}: {row.status}: grade it again")
            blank = True
        elif row.status != RunStatus.OK.value:
            what = f"chapter {row.chapter}" if row.chapter else row.notebook or "(no notebook)"
            line.notes.append(f"{what}: {row.status}")
    if not blank:  # a file of no chapter (not a notebook) is named, and earns nothing
        line.points = sum(row.total for row in line.rows if row.chapter is not None)


def class_lines(
    rows: list[Row],
    assignments: list[Assignment],
    records: list[dict[str, str]] | None = None,
    roster: Roster | None = None,
) -> list[Line]:
    """One line per student (and per unmatched submitter) per assignment, graded.

    Parameters
    ----------
    rows : list of Row
        The gradebook.
    assignments : list of Assignment
        What to grade.
    records : list of dict, default=None
        The submissions file's rows (LMS names, lateness, the roster matched when grading).
    roster : Roster, default=None
        A roster to match now (it replaces the one recorded in the submissions file).

    Returns
    -------
    list of Line
        By assignment, then students in name order, then submissions no student matches.
    """
    handed = _identities(rows, records)
    people, by_row = _people(rows, handed, records, roster)
    unmatched = {person.key: person for person in by_row.values() if person.student is None}
    single = len(assignments) == 1
    lines: list[Line] = []
    for assignment in assignments:
        ordered = sorted(
            people, key=lambda p: (p.student.name.casefold(), p.key) if p.student else ("", p.key)
        )
        for person in [*ordered, *sorted(unmatched.values(), key=lambda p: p.key)]:
            mine = [
                row
                for row in rows
                if by_row[(row.student, row.notebook)] == person
                and (row.chapter in assignment.chapters or (row.chapter is None and single))
            ]
            line = Line(assignment, person.student, person.key, mine)
            line.handed = [handed[(row.student, row.notebook)] for row in mine]
            if person.student is None:
                if not mine:
                    continue
                line.notes.append(f"no roster entry for {person.key}")
            _grade(line)
            lines.append(line)
    return lines


def _shown_number(value: float | None) -> str | int | float:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else round(value, 2)


def _text(value: str) -> str:
    return neutralised(value)


def _write_csv(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _students(lines: list[Line]) -> list[tuple[Student, dict[str, Line]]]:
    """Each matched student with their line per assignment, in the lines' order."""
    found: dict[str, tuple[Student, dict[str, Line]]] = {}
    for line in lines:
        if line.student is not None:
            found.setdefault(line.key, (line.student, {}))[1][line.assignment.name] = line
    return list(found.values())


def _one_line(text: str) -> str:
    """A warning kept on one line: a name's newline or escape sequence is shown escaped."""
    return shown_path(text, 100_000)


def _scored(
    lines: list[Line], assignments: list[Assignment], percent: bool
) -> list[tuple[Student, list[float | None]]]:
    """Each matched student's score per assignment (None: blank), when one is not blank.

    A student without any score is left out: an LMS import keeps the grades it has.
    """
    scored = []
    for student, by_name in _students(lines):
        scores = [
            by_name[a.name].score(percent) if a.name in by_name else None for a in assignments
        ]
        if any(score is not None for score in scores):
            scored.append((student, scores))
    return scored


def _blank_reasons(lines: list[Line], left_out: str) -> list[str]:
    """One warning per blank grade of a student, and per submission no student matches."""
    warnings = []
    for line in lines:
        who = f"{line.student.name} ({line.student.id})" if line.student else line.key
        if line.student is None:
            warnings.append(
                _one_line(f"{line.assignment.name}: {'; '.join(line.notes)}: {left_out}")
            )
        elif line.points is None and line.rows:
            warnings.append(_one_line(f"{line.assignment.name}, {who}: {'; '.join(line.notes)}"))
    return warnings


def canvas_csv(
    lines: list[Line], assignments: list[Assignment], percent: bool
) -> tuple[str, list[str]]:
    """Canvas's gradebook import: the student columns, a column per assignment, points possible.

    Parameters
    ----------
    lines : list of Line
        The graded lines (:func:`class_lines`).
    assignments : list of Assignment
        The assignments, one column each.
    percent : bool
        Percentages (points possible 100) rather than points.

    Returns
    -------
    tuple of (str, list of str)
        The CSV, and a warning per student left out or grade left blank.
    """
    warnings = _blank_reasons(lines, "not in the Canvas file")
    header = [*CANVAS_COLUMNS, *(a.name for a in assignments)]
    possible = [100 if percent else a.possible for a in assignments]
    out: list[list[object]] = [[CANVAS_POINTS_ROW, "", "", "", "", *possible]]
    for student, scores in _scored(lines, assignments, percent):
        if not (student.id or student.sis_id or student.login):
            warnings.append(
                _one_line(
                    f"{student.name}: no ID, SIS User ID or SIS Login ID: not in the Canvas file"
                )
            )
            continue
        out.append(
            [
                _text(student.name),
                _text(student.id),
                _text(student.sis_id),
                _text(student.login),
                _text(student.section),
                *(_shown_number(score) for score in scores),
            ]
        )
    return _write_csv(header, out), warnings


def moodle_csv(
    lines: list[Line], assignments: list[Assignment], percent: bool
) -> tuple[str, list[str]]:
    """Moodle's CSV grade import: full name, ID number, email address, a column per assignment.

    Parameters
    ----------
    lines : list of Line
        The graded lines (:func:`class_lines`).
    assignments : list of Assignment
        The assignments, one column each.
    percent : bool
        Percentages rather than points.

    Returns
    -------
    tuple of (str, list of str)
        The CSV, and a warning per student left out or grade left blank.
    """
    warnings = _blank_reasons(lines, "not in the Moodle file")
    header = [*MOODLE_COLUMNS, *(a.name for a in assignments)]
    out: list[list[object]] = []
    for student, scores in _scored(lines, assignments, percent):
        if not (student.sis_id or student.email):
            warnings.append(
                _one_line(f"{student.name}: no ID number or email address: not in the Moodle file")
            )
            continue
        out.append(
            [
                _text(student.name),
                _text(student.sis_id),
                _text(student.email),
                *(_shown_number(score) for score in scores),
            ]
        )
    return _write_csv(header, out), warnings


def plain_csv(lines: list[Line], percent: bool) -> str:
    """A row per student and assignment, every blank grade with its reason, late marked.

    Parameters
    ----------
    lines : list of Line
        The graded lines (:func:`class_lines`), unmatched submissions included.
    percent : bool
        Percentages (out of 100) rather than points.

    Returns
    -------
    str
        The CSV, columns :data:`CSV_COLUMNS`.
    """
    out: list[list[object]] = []
    for line in lines:
        student = line.student or Student("", "")
        out.append(
            [
                _text(line.assignment.name),
                _text(student.id),
                _text(student.name or line.key),
                _text(student.sis_id),
                _text(student.login),
                _text(student.email),
                _text(student.section),
                _shown_number(line.score(percent)),
                100 if percent else line.assignment.possible,
                "late" if line.late else "",
                _text(", ".join(row.notebook for row in line.rows)),
                _text("; ".join(line.notes)),
            ]
        )
    return _write_csv(list(CSV_COLUMNS), out)


def _flag_output(flag: Flag, row: Row | None) -> str:
    """The feedback on one flag, as the student reads it in Gradescope: never an answer."""
    if row is None:
        return f"Chapter {flag.chapter} was not handed in."
    if row.points.get(flag.id, 0) > 0:
        return "Captured."
    if flag.id in row.mistakes:
        return f"Not captured. Not quite: {row.mistakes[flag.id]}"
    return f"Not captured. Hint: {flag.hint}"


def gradescope_result(line: Line, visibility: str = "visible") -> dict[str, object]:
    """The ``results.json`` of one student's assignment, as Gradescope's autograder reads it.

    Parameters
    ----------
    line : Line
        A graded line (its points are not None).
    visibility : {"visible", "hidden", "after_due_date", "after_published"}, default="visible"
        When the student sees each test and the result.

    Returns
    -------
    dict
        ``score``, ``output``, ``visibility``, ``execution_time`` and ``tests``: one per flag,
        with ``name``, ``number``, ``score``, ``max_score``, ``status``, ``output`` and
        ``visibility``.
    """
    assert line.points is not None
    by_chapter = {row.chapter: row for row in line.rows if row.chapter is not None}
    tests = []
    for flag in line.assignment.flags:
        row = by_chapter.get(flag.chapter)
        earned = row.points.get(flag.id, 0.0) if row else 0.0
        tests.append(
            {
                "name": f"Flag {flag.id} \N{EN DASH} {flag.title}",
                "number": flag.id,
                "score": _shown_number(earned),
                "max_score": flag.points,
                "status": "passed" if earned >= flag.points else "failed",
                "output": _flag_output(flag, row),
                "visibility": visibility,
            }
        )
    summary = [
        f"{line.assignment.name}: {_shown_number(line.points)} / {line.assignment.possible} points."
    ]
    summary += [f"{row.notebook}: {row.status}." for row in line.rows]
    if line.late:
        summary.append("Handed in late.")
    summary += [note for note in line.notes if note.endswith("not handed in")]
    return {
        "score": _shown_number(sum(float(test["score"]) for test in tests)),
        "output": " ".join(summary),
        "visibility": visibility,
        "execution_time": round(sum(row.seconds for row in line.rows)),
        "tests": tests,
    }


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or "x"


@dataclass(frozen=True)
class Export:
    """What :func:`export_gradebook` wrote, and what the instructor must look at."""

    paths: list[Path]
    lines: list[Line]
    assignments: list[Assignment]
    warnings: list[str]


def _default_out(gradebook: Path, format: str) -> Path:
    if format == "gradescope":
        return gradebook.with_name(f"{gradebook.stem}-gradescope")
    name = {"canvas": "canvas", "moodle": "moodle", "csv": "grades"}[format]
    return gradebook.with_name(f"{gradebook.stem}-{name}.csv")


def _write_gradescope(
    lines: list[Line], out: Path, visibility: str, protected: list[Path]
) -> tuple[list[Path], list[str]]:
    """Write a ``results.json`` per graded line, ``OUT/ASSIGNMENT/STUDENT/results.json``.

    ``OUT`` itself is written when it names a ``.json`` file and there is exactly one; none of
    ``protected`` (the files the export reads) is ever replaced.
    """
    warnings = _blank_reasons(lines, "no results.json")
    graded = [line for line in lines if line.student is not None and line.points is not None]
    if out.suffix == ".json":
        if len(graded) != 1:
            raise ExportError(
                f"--out {shown_path(out)} is one file, but there are {len(graded)} results: "
                "give a folder"
            )
        targets = {out: graded[0]}
    else:
        targets = {}
        for line in graded:  # two keys that make one folder name get _2, _3...
            folder = out / _slug(line.assignment.name) / _slug(line.key)
            unique, number = folder, 1
            while unique / "results.json" in targets:
                number += 1
                unique = folder.with_name(f"{folder.name}_{number}")
            targets[unique / "results.json"] = line
    _refuse_overwriting(list(targets), protected)
    for path, line in targets.items():
        _write(path, json.dumps(gradescope_result(line, visibility), indent=2) + "\n")
    return list(targets), warnings


def _refuse_overwriting(targets: list[Path], protected: list[Path]) -> None:
    """Raise :class:`ExportError` if an export would replace one of the files it reads."""
    kept = {path.resolve(): path for path in protected}
    for target in targets:
        if target.resolve() in kept:
            raise ExportError(
                f"--out {shown_path(target)} is {shown_path(kept[target.resolve()])}, which the "
                "export reads: write it elsewhere"
            )


def _write(path: Path, text: str) -> None:
    """Write one file of the export atomically; a path that cannot be written is one line."""
    try:
        atomic_write_text(path, text)
    except OSError as error:
        raise ExportError(
            f"cannot write {shown_path(path)} ({error.strerror or error}): give --out a file in "
            "a folder you can write"
        ) from None


def export_gradebook(
    gradebook: str | os.PathLike[str],
    format: str,
    *,
    out: str | os.PathLike[str] | None = None,
    roster: str | os.PathLike[str] | None = None,
    percent: bool = False,
    assignments: list[str] | None = None,
    visibility: str = "visible",
) -> Export:
    """Export a gradebook for an LMS: one grade per student per assignment.

    Parameters
    ----------
    gradebook : str or path-like
        The gradebook ``grade`` wrote; its submissions file beside it is read when present.
    format : {"canvas", "moodle", "gradescope", "csv"}
        The LMS's import format (module docstring).
    out : str or path-like, default=None
        The file to write (a folder for ``gradescope``, or one ``.json`` for a single result);
        by default beside the gradebook: ``NAME-canvas.csv``, ``NAME-moodle.csv``,
        ``NAME-grades.csv``, ``NAME-gradescope/``.
    roster : str or path-like, default=None
        Match the submissions to this roster now (else the one matched when grading, if any;
        else each LMS name is a student).
    percent : bool, default=False
        Grades as percentages of the points possible (out of 100) rather than points; not for
        ``gradescope``, whose tests keep each flag's points.
    assignments : list of str, default=None
        ``NAME=CHAPTERS`` specs (:func:`parse_assignments`); by default one per chapter.
    visibility : {"visible", "hidden", "after_due_date", "after_published"}, default="visible"
        Gradescope only: when students see the results.

    Returns
    -------
    Export
        The paths written, the lines, the assignments and the warnings.

    Raises
    ------
    ExportError
        A bad format, option, gradebook, submissions file, roster or assignment; an ``out``
        that is one of the files the export reads, or that cannot be written.

    Examples
    --------
    >>> export_gradebook("gradebook.csv", "canvas", roster="roster.csv")  # doctest: +SKIP
    """
    if format not in FORMATS:
        raise ExportError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if visibility not in VISIBILITIES:
        raise ExportError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    if percent and format == "gradescope":
        raise ExportError("--percent does not apply to gradescope: each test keeps its points")
    gradebook = Path(gradebook)
    rows = read_gradebook(gradebook)
    records = None
    if submissions_file(gradebook).exists():
        try:
            records = read_submissions_file(submissions_file(gradebook))
        except ValueError as error:
            raise ExportError(str(error)) from None
    try:
        class_roster = read_roster(roster) if roster is not None else None
    except RosterError as error:
        raise ExportError(str(error)) from None
    chosen = parse_assignments(
        assignments or [], {row.chapter for row in rows if row.chapter is not None}
    )
    lines = class_lines(rows, chosen, records, class_roster)
    target = Path(out) if out is not None else _default_out(gradebook, format)
    protected = [gradebook, submissions_file(gradebook), *([Path(roster)] if roster else [])]
    if format == "gradescope":
        paths, warnings = _write_gradescope(lines, target, visibility, protected)
        return Export(paths, lines, chosen, warnings)
    if format == "canvas":
        text, warnings = canvas_csv(lines, chosen, percent)
    elif format == "moodle":
        text, warnings = moodle_csv(lines, chosen, percent)
    else:
        text, warnings = plain_csv(lines, percent), []
    _refuse_overwriting([target], protected)
    _write(target, text)
    return Export([target], lines, chosen, warnings)
