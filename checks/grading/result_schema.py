"""A worker's result as plain data: a grade written as JSON text, read back only if well formed.

A Dask worker returns :func:`grade_to_json`'s text, never an object (a string crosses Dask's wire
without pickle). The grader reads it with :func:`grade_from_json`, which checks it against the
schema below before anything of it is used, and attaches the submission as the grader itself
found it (a worker cannot rename a row)::

    {"status": "ok" | "error" | "timeout" | "memory" | "grader error"
               | "refused: worker files differ",
     "error": null | {"cell": int >= 0, "name": str, "message": str, "source": str},
     "variant_status": null | a run status, "variant_error": null | an error,
     "flags": [{"id": str, "verdict": a verdict, "mistake": null | str}, ...],
     "seconds": finite float >= 0, "detail": str, "isolation": str, "variant_only": bool}

``flags`` names each flag of the submission's chapter exactly once (or none, for a run that was
refused or failed in the grader). Anything else (another key, a wrong type, a flag of another
chapter, text past its length) is :class:`ResultRejected`: the grader writes that submission's
one-line error.
"""

from __future__ import annotations

import json
import math
from typing import Any

from checks.catalogue import chapter_flags, get_flag
from checks.grading.judging import FlagGrade, Grade
from checks.grading.status import CellError, RunStatus, Verdict
from checks.grading.submissions import Submission

#: The most text a worker's result may be (a chapter's row is a few kilobytes).
MAX_RESULT_CHARS = 256 * 1024
_MAX_TEXT = 2000
# What a worker may say of a run (the others are decided by the grader, before any task).
_WORKER_STATUSES = {
    status.value: status
    for status in (
        RunStatus.OK,
        RunStatus.ERROR,
        RunStatus.TIMEOUT,
        RunStatus.MEMORY,
        RunStatus.GRADER_ERROR,
        RunStatus.WORKER_UNTRUSTED,
    )
}
_VERDICTS = {verdict.value: verdict for verdict in Verdict}
_KEYS = {
    "status",
    "error",
    "variant_status",
    "variant_error",
    "flags",
    "seconds",
    "detail",
    "isolation",
    "variant_only",
}
_ISOLATIONS = {"", "bubblewrap", "unshare", "none"}


class ResultRejected(ValueError):
    """A worker's result is not a grade this grader can use."""


def _error_data(error: CellError | None) -> dict[str, object] | None:
    if error is None:
        return None
    return {
        "cell": error.cell,
        "name": error.name,
        "message": error.message,
        "source": error.source,
    }


def grade_to_json(grade: Grade) -> str:
    """A grade as the JSON text a worker returns (without its submission).

    Parameters
    ----------
    grade : Grade
        The row as graded on the worker.

    Returns
    -------
    str
        Plain JSON, as :func:`grade_from_json` reads it.
    """
    return json.dumps(
        {
            "status": grade.status.value,
            "error": _error_data(grade.error),
            "variant_status": grade.variant_status.value if grade.variant_status else None,
            "variant_error": _error_data(grade.variant_error),
            "flags": [
                {"id": f.flag.id, "verdict": f.verdict.value, "mistake": f.mistake}
                for f in grade.flags
            ],
            "seconds": grade.seconds,
            "detail": grade.detail,
            "isolation": grade.isolation,
            "variant_only": grade.variant_only,
        }
    )


def _text(value: object, where: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise ResultRejected(f"{where} is not a text of at most {_MAX_TEXT} characters")
    return value


def _status(value: object, where: str) -> RunStatus:
    if not isinstance(value, str) or value not in _WORKER_STATUSES:
        raise ResultRejected(f"{where} is not a run status")
    return _WORKER_STATUSES[value]


def _error(value: object, where: str) -> CellError | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"cell", "name", "message", "source"}:
        raise ResultRejected(f"{where} is not a cell error")
    cell = value["cell"]
    if type(cell) is not int or not 0 <= cell < 100_000:
        raise ResultRejected(f"{where}.cell is not a cell number")
    texts = [_text(value[key], f"{where}.{key}") for key in ("name", "message", "source")]
    return CellError(cell, *texts)  # type: ignore[arg-type]


def _flags(value: object, chapter: int | None) -> list[FlagGrade]:
    if not isinstance(value, list):
        raise ResultRejected("flags is not a list")
    expected = [flag.id for flag in chapter_flags(chapter)] if chapter is not None else []
    grades = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"id", "verdict", "mistake"}:
            raise ResultRejected(f"flags[{index}] is not a flag's verdict")
        verdict = item["verdict"]
        if not isinstance(verdict, str) or verdict not in _VERDICTS:
            raise ResultRejected(f"flags[{index}].verdict is not a verdict")
        flag_id = item["id"]
        if not isinstance(flag_id, str) or flag_id not in expected:
            raise ResultRejected(f"flags[{index}].id is not a flag of chapter {chapter}")
        mistake = _text(item["mistake"], f"flags[{index}].mistake", optional=True)
        grades.append(FlagGrade(get_flag(flag_id), _VERDICTS[verdict], mistake))
    if value and [grade.flag.id for grade in grades] != expected:
        raise ResultRejected(f"flags does not name each flag of chapter {chapter} once, in order")
    return grades


def grade_from_json(text: object, submission: Submission) -> Grade:
    """The grade a worker's JSON text describes, checked against the schema first.

    Parameters
    ----------
    text : object
        What the task returned (anything: it is checked to be JSON text first).
    submission : Submission
        The submission as the grader found it: the row's.

    Returns
    -------
    Grade
        The row.

    Raises
    ------
    ResultRejected
        ``text`` is not JSON text of the schema's shape, or too long.
    """
    if not isinstance(text, str) or len(text) > MAX_RESULT_CHARS:
        raise ResultRejected(f"not JSON text of at most {MAX_RESULT_CHARS} characters")
    try:
        data: Any = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise ResultRejected(f"not JSON ({str(error)[:80]})") from None
    if not isinstance(data, dict) or set(data) != _KEYS:
        raise ResultRejected("not a grade (its keys are not the schema's)")
    seconds = data["seconds"]
    if type(seconds) not in (int, float) or not math.isfinite(seconds) or seconds < 0:
        raise ResultRejected("seconds is not a finite number of seconds")
    isolation = data["isolation"]
    if isolation not in _ISOLATIONS:
        raise ResultRejected("isolation is not one the course knows")
    if type(data["variant_only"]) is not bool:
        raise ResultRejected("variant_only is not true or false")
    variant_status = data["variant_status"]
    return Grade(
        submission,
        _status(data["status"], "status"),
        _flags(data["flags"], submission.chapter),
        _error(data["error"], "error"),
        None if variant_status is None else _status(variant_status, "variant_status"),
        _error(data["variant_error"], "variant_error"),
        float(seconds),
        _text(data["detail"], "detail") or "",
        isolation,
        data["variant_only"],
    )


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
