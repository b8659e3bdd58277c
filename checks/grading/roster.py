"""The class roster: who the students are, read from a CSV, and which one handed in what.

A roster is a CSV with a header. It needs a student id and a name; a login, an email address, a
section and an institution (SIS) id are optional. Headers are matched loosely (case, spaces,
underscores; see :data:`COLUMNS`), so these all read as they are:

- a plain roster: ``id,name,email,section``;
- Canvas's gradebook export: ``Student,ID,SIS User ID,SIS Login ID,Section`` (its ``Points
  Possible`` row, and a ``Muted`` or ``Manual Posting`` row that names no one, are skipped).
  Its ``ID`` is the Canvas user id that names each file of a Canvas download, so it is the
  roster to use with Canvas;
- Moodle's grading worksheet: ``Identifier,Full name,Email address,...`` (``Participant 123``
  reads as ``123``, the number in each folder of a Moodle download), or a participants export
  with ``First name`` and ``Last name``.

Every problem is one line (:class:`RosterError`): not UTF-8, no header, a missing column, two
columns for one field, a row with more fields than the header, an empty or repeated id.

:func:`find_student` matches what a download says about a submission (an LMS user id, or a plain
file or folder name) to one student, or says why it matches none.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from checks.files import read_regular_file, shown_path

MAX_ROSTER_BYTES = 16 * 1024**2
MAX_STUDENTS = 100_000

#: The fields of a roster and the headers that give each (compared after :func:`_header_key`).
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "student id", "user id", "canvas id", "participant id", "identifier"),
    "name": ("name", "student", "student name", "full name"),
    "first": ("first name", "given name"),
    "last": ("last name", "surname", "family name"),
    "login": ("login", "login id", "sis login id", "username", "user name", "netid"),
    "email": ("email", "email address", "e-mail", "e-mail address", "mail"),
    "section": ("section", "sections", "group", "groups"),
    "sis_id": ("sis user id", "sis id", "id number", "idnumber", "student number"),
}
_PARTICIPANT = re.compile(r"^participant\s+", re.IGNORECASE)


class RosterError(ValueError):
    """The roster cannot be used; the message is one line and says why."""


@dataclass(frozen=True)
class Student:
    """One student of the roster."""

    id: str
    name: str
    login: str = ""
    email: str = ""
    section: str = ""
    sis_id: str = ""


@dataclass(frozen=True)
class Roster:
    """The students of a class, in the roster's order."""

    students: tuple[Student, ...]
    source: str = ""

    def by_id(self, student_id: str) -> Student | None:
        """The student with this id, or None.

        Parameters
        ----------
        student_id : str
            An id, exactly as the roster has it.

        Returns
        -------
        Student or None
        """
        return next((s for s in self.students if s.id == student_id), None)


def _header_key(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").replace("_", " ").strip().lower().split())


def _short(text: str) -> str:
    """A cell as a message quotes it: on one line, at most 40 characters."""
    return repr(shown_path(text, 40))


def _delimiter(header_line: str) -> str:
    """``,`` unless the header has none and has ``;`` or a tab (spreadsheets in some locales)."""
    if "," not in header_line:
        for candidate in (";", "\t"):
            if candidate in header_line:
                return candidate
    return ","


def _fields(header: list[str], source: str) -> dict[str, int]:
    """Which column gives each field; a missing id or name, or a field given twice, is an error."""
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _header_key(title)
        field = next((f for f, names in COLUMNS.items() if key in names), None)
        if field is None:
            continue
        if field in found:
            raise RosterError(
                f"{source}: columns {_short(header[found[field]])} and {_short(title)} both "
                f"give the student's {field.replace('_', ' ')}; keep one"
            )
        found[field] = index
    has_name = "name" in found or ("first" in found and "last" in found)
    missing = [what for what, ok in (("id", "id" in found), ("name", has_name)) if not ok]
    if missing:
        shown = ", ".join(_short(title) for title in header[:8]) or "nothing"
        raise RosterError(
            f"{source}: no {' and no '.join(missing)} column (the header has {shown}); a "
            "roster needs a student id and a name, e.g. id,name,email,section"
        )
    return found


def parse_roster(text: str, source: str = "roster") -> Roster:
    """The roster in CSV ``text``; raise :class:`RosterError` with one line if it is not one.

    Parameters
    ----------
    text : str
        The CSV, its header first (a byte-order mark is ignored).
    source : str, default="roster"
        How messages name the file.

    Returns
    -------
    Roster
        The students, in the file's order.

    Raises
    ------
    RosterError
        No header, a missing column, two columns for one field, a malformed row, an empty or
        repeated id, or too many students.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RosterError(f"{source} is empty: a roster needs a header and a row per student")
    delimiter = _delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    students: list[Student] = []
    seen: dict[str, int] = {}
    try:
        header = next(reader)
        fields = _fields(header, source)
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise RosterError(f"{source}, line {line}: more fields than the header has")
            student = _student(row, fields)
            if student is None:  # Canvas's "Points Possible" row
                continue
            if not student.id:
                raise RosterError(f"{source}, line {line}: the student id is empty")
            if student.id in seen:
                raise RosterError(
                    f"{source}, line {line}: id {_short(student.id)} is already on line "
                    f"{seen[student.id]}; each student once"
                )
            seen[student.id] = line
            students.append(student)
            if len(students) > MAX_STUDENTS:
                raise RosterError(f"{source} has more than {MAX_STUDENTS:,} students")
    except csv.Error as error:
        raise RosterError(f"{source}, line {reader.line_num}: not valid CSV ({error})") from None
    if not students:
        raise RosterError(f"{source} has a header but no student")
    return Roster(tuple(students), source)


def _student(row: list[str], fields: dict[str, int]) -> Student | None:
    """The student of a row, or None for a row of Canvas's that is not one (points, policies)."""

    def cell(field: str) -> str:
        index = fields.get(field)
        return row[index].strip() if index is not None and index < len(row) else ""

    name = cell("name") or " ".join(part for part in (cell("first"), cell("last")) if part)
    if name == "Points Possible" and not cell("sis_id") and not cell("login"):
        return None
    if not any(cell(field) for field in ("id", "login", "email", "sis_id")) and not name:
        return None  # names no one: Canvas's "Muted" or "Manual Posting" row
    return Student(
        id=_PARTICIPANT.sub("", cell("id")),
        name=name,
        login=cell("login"),
        email=cell("email"),
        section=cell("section"),
        sis_id=cell("sis_id"),
    )


def read_roster(path: str | os.PathLike[str]) -> Roster:
    """Read the roster CSV at ``path`` (UTF-8, a byte-order mark allowed).

    Parameters
    ----------
    path : str or path-like
        The roster file.

    Returns
    -------
    Roster
        The students, in the file's order.

    Raises
    ------
    RosterError
        The file is missing, not a regular file, too large, not UTF-8, or not a roster
        (:func:`parse_roster`).
    """
    path = Path(path)
    source = shown_path(path)
    content = read_regular_file(path.resolve(), MAX_ROSTER_BYTES + 1) if path.is_file() else None
    if content is None:
        raise RosterError(f"{source} is not a roster file (missing, or not a regular file)")
    if len(content) > MAX_ROSTER_BYTES:
        raise RosterError(f"{source} is larger than {MAX_ROSTER_BYTES // 1024**2} MiB")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise RosterError(
            f"{source} is not UTF-8 text: save it as 'CSV UTF-8' from your spreadsheet"
        ) from None
    return parse_roster(text, source)


def _local_part(address: str) -> str:
    return address.split("@", 1)[0] if "@" in address else ""


def find_student(
    roster: Roster, *, user_id: str = "", name: str = ""
) -> tuple[Student | None, str]:
    """The roster's student for a submission, or None and why none.

    Parameters
    ----------
    roster : Roster
        The class.
    user_id : str, default=""
        The LMS user id the download gives (Canvas, Moodle): it must be a student's id. No other
        field is tried, so a download never lands on a student by a coincidence of names.
    name : str, default=""
        Without a user id (a plain folder), the file or folder name: it must be, ignoring case,
        exactly one student's id, SIS id, login or email, or the part of a login or email
        before the ``@``.

    Returns
    -------
    tuple of (Student or None, str)
        The student, or None with the reason (``no roster entry with id 1099``).
    """
    if user_id:
        student = roster.by_id(user_id)
        return (student, "") if student else (None, f"no roster entry with id {user_id}")
    wanted = name.strip().casefold()
    found = [
        student
        for student in roster.students
        if wanted
        and wanted
        in {
            value.casefold()
            for value in (
                student.id,
                student.sis_id,
                student.login,
                student.email,
                _local_part(student.login),
                _local_part(student.email),
            )
            if value
        }
    ]
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, f"no roster entry with id, login or email {_short(name)}"
    ids = ", ".join(student.id for student in found)
    return None, f"{_short(name)} matches several roster entries ({ids})"
