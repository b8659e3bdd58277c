"""Feedback: one Markdown page per student, every notebook and flag, never an answer.

Feedback says which flags earned points and which did not, with the flag's hint (or, for a wrong
answer that is one of the flag's declared mistakes, that mistake's hint, in the words
:func:`checks.check` uses) and the first error; it never contains a right answer (the grader has
none in plain text: it only knows hashes). Pages are written atomically. Everything the
submission controls (its names, its cells' first lines, exception names and messages) is escaped
(:func:`~checks.grading.shown.markdown_text`): it shows as text, never as a table line, a status
or a script.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from checks.files import atomic_write_text
from checks.grading.judging import Grade
from checks.grading.shown import markdown_text
from checks.grading.status import CellError, RunStatus, Verdict
from checks.outcome import verdict_text


def _describe_error(error: CellError) -> str:
    where = f"code cell {error.cell}" if error.cell else "the notebook"
    start = f" (it starts with: {markdown_text(error.source, 80)})" if error.source else ""
    return (
        f"{where}{start}: **{markdown_text(error.name, 80)}**: {markdown_text(error.message, 300)}"
    )


def _notebook_section(grade: Grade) -> list[str]:
    title = markdown_text(grade.submission.name) if grade.submission.name else "(no notebook)"
    lines = [f"## {title}", ""]
    if not grade.flags:
        explanation = {
            RunStatus.NOT_A_NOTEBOOK: "This file is not a Jupyter notebook that can be opened "
            "(is it the .ipynb file, saved from JupyterLab or Colab?), so it could not be graded.",
            RunStatus.NOT_A_COURSE_NOTEBOOK: "This notebook has none of the course's flag cells, "
            "so it could not be matched to a chapter.",
        }.get(grade.status, f"It could not be graded ({markdown_text(grade.status_text)}).")
        return [*lines, explanation, ""]
    if grade.variant_only:
        how = (
            " with other parameter values than its own, and judged under those values only "
            "(judged under the variant only): compute each answer from the parameters."
        )
    elif grade.variant_status is not None:
        how = ", and again with other parameter values."
    else:
        how = "."
    lines += [
        f"**{grade.total} / {grade.possible} points.** Your notebook was run from top to bottom "
        "in a fresh kernel" + how,
        "",
        "| Flag | Points | Result |",
        "| --- | ---: | --- |",
    ]
    for flag_grade in grade.flags:
        flag = flag_grade.flag
        if flag_grade.verdict is Verdict.CAPTURED:
            result = "captured"
        elif flag_grade.verdict is Verdict.NOT_UNDER_VARIANT:
            result = (
                "right as submitted, but not when the notebook was re-run with other parameter "
                "values: compute the answer from the parameters, do not type it in"
            )
        elif flag_grade.mistake:
            result = verdict_text(flag_grade.verdict.value, flag_grade.mistake, targeted=True)
        else:
            result = verdict_text(flag_grade.verdict.value, f"Hint: {flag.hint}")
        lines.append(f"| {flag.id} {flag.title} | {flag_grade.points} / {flag.points} | {result} |")
    lines.append("")
    if grade.error is not None:
        lines += [
            f"**Status: {markdown_text(grade.status_text)}.** "
            f"First error, in {_describe_error(grade.error)}",
            "",
        ]
    if grade.variant_error is not None and grade.variant_status_text != grade.status_text:
        cell = f"code cell {grade.variant_error.cell}" if grade.variant_error.cell else "a cell"
        lines += [
            f"With other parameter values, the run stopped at {cell} "
            f"(**{markdown_text(grade.variant_error.name, 80)}**).",
            "",
        ]
    return lines


def feedback_page(student: str, grades: list[Grade]) -> str:
    """The Markdown feedback for one student: every notebook, every flag, never an answer."""
    lines = [f"# Feedback for {markdown_text(student)}", ""]
    total = sum(grade.total for grade in grades)
    possible = sum(grade.possible for grade in grades)
    lines += [f"**{total} / {possible} points** in all.", ""]
    for grade in sorted(grades, key=lambda g: g.submission.name):
        lines += _notebook_section(grade)
    return "\n".join(lines).rstrip() + "\n"


def feedback_file_name(student: str) -> str:
    """A safe file name for a student's feedback page."""
    return (re.sub(r"[^\w.-]+", "_", student).strip("._") or "student") + ".md"


def write_feedback(folder: Path, grades: list[Grade]) -> list[Path]:
    """Write one Markdown page per student into ``folder``; return the paths."""
    by_student: dict[str, list[Grade]] = defaultdict(list)
    for grade in grades:
        by_student[grade.submission.student].append(grade)
    written: list[Path] = []
    for student in sorted(by_student):
        path = folder / feedback_file_name(student)
        while path in written:
            path = path.with_name(path.stem + "_" + path.suffix)
        try:
            page = feedback_page(student, by_student[student])
        except Exception as error:  # one student's page never stops the others'
            reason = markdown_text(str(error), 300)
            page = f"# Feedback for {markdown_text(student)}\n\nNo feedback: {reason}\n"
        atomic_write_text(path, page)
        written.append(path)
    return written
