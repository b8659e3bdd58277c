"""The gradebook: one CSV row per student and notebook, a column per flag, written atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from checks.catalogue import flags
from checks.files import atomic_write_text
from checks.grading.judging import Grade

FIXED_COLUMNS = ("student", "notebook", "chapter", "status", "variant_status")
TRAILING_COLUMNS = ("total", "possible", "seconds")


def gradebook_rows(grades: list[Grade]) -> list[dict[str, object]]:
    """One row per student and notebook, sorted; flags of another chapter are left blank."""
    rows = []
    for grade in sorted(grades, key=lambda g: (g.submission.student, g.submission.name)):
        row: dict[str, object] = {
            "student": grade.submission.student,
            "notebook": grade.submission.name,
            "chapter": grade.chapter or "",
            "status": grade.status_text,
            "variant_status": grade.variant_status_text,
        }
        row.update({flag_grade.flag.id: flag_grade.points for flag_grade in grade.flags})
        row.update(total=grade.total, possible=grade.possible, seconds=round(grade.seconds, 1))
        rows.append(row)
    return rows


def write_gradebook(path: Path, grades: list[Grade]) -> None:
    """Write the gradebook CSV atomically (readers see the old file or the new one)."""
    buffer = io.StringIO()
    columns = [*FIXED_COLUMNS, *flags(), *TRAILING_COLUMNS]
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(gradebook_rows(grades))
    atomic_write_text(path, buffer.getvalue())
