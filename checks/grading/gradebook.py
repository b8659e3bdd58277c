"""The gradebook: one CSV row per student and notebook, a column per flag, written atomically.

After the flags' points come the ``mistake FLAG`` columns: for a wrong answer that is one of the
flag's declared mistakes, that mistake's hint (the class report counts them).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from checks.catalogue import flags
from checks.files import atomic_write_text
from checks.grading.judging import Grade
from checks.grading.shown import shown_name

FIXED_COLUMNS = ("student", "notebook", "chapter", "status", "variant_status", "isolation")
#: ``notes``: what to read in the submission's code (a large literal: a label table?).
TRAILING_COLUMNS = ("total", "possible", "seconds", "notes")
#: ``mistake 2.1``: the column of the declared mistake a wrong answer to flag 2.1 matched.
MISTAKE_PREFIX = "mistake "
# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """``text`` made inert for spreadsheets: a leading formula character gets a ``'`` before it.

    As OWASP recommends for CSV injection; the rest of the text is kept, so names stay readable.
    """
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def gradebook_rows(grades: list[Grade]) -> list[dict[str, object]]:
    """One row per student and notebook, sorted; flags of another chapter are left blank."""
    rows = []
    for grade in sorted(grades, key=lambda g: (g.submission.student, g.submission.name)):
        row: dict[str, object] = {
            "student": neutralised(grade.submission.student),
            "notebook": neutralised(grade.submission.name),
            "chapter": grade.chapter or "",
            "status": neutralised(grade.status_text),
            "variant_status": neutralised(grade.variant_status_text),
            "isolation": grade.isolation,
        }
        row.update({flag_grade.flag.id: flag_grade.points for flag_grade in grade.flags})
        row.update(
            {
                MISTAKE_PREFIX + flag_grade.flag.id: neutralised(flag_grade.mistake)
                for flag_grade in grade.flags
                if flag_grade.mistake
            }
        )
        row.update(total=grade.total, possible=grade.possible, seconds=round(grade.seconds, 1))
        row.update(notes=neutralised(grade.notes))
        rows.append(row)
    return rows


def write_rows(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    r"""Write a CSV of ``rows`` under ``columns`` atomically: readers see the old file or the new.

    Text is always quoted, so a line break in a name cannot split a row, and shown as
    :func:`~checks.grading.shown.shown_name` shows it: a name that is not UTF-8 (kept by Python
    with ``surrogateescape``) is written ``caf\xe9``, not refused.

    Parameters
    ----------
    path : Path
        The file.
    columns : list of str
        The header; a row's missing column is written empty.
    rows : list of dict
        The rows, by column.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=columns,
        restval="",
        lineterminator="\n",
        quoting=csv.QUOTE_NONNUMERIC,
    )
    writer.writeheader()
    writer.writerows(
        {key: shown_name(value) if isinstance(value, str) else value for key, value in row.items()}
        for row in rows
    )
    atomic_write_text(path, buffer.getvalue())


def write_gradebook(path: Path, grades: list[Grade]) -> None:
    """Write the gradebook CSV atomically (readers see the old file or the new one)."""
    columns = [*FIXED_COLUMNS, *flags(), *(MISTAKE_PREFIX + f for f in flags()), *TRAILING_COLUMNS]
    write_rows(path, columns, gradebook_rows(grades))
