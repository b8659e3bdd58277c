"""``check(flag_id, value)``: judge an answer at once, keep score, never raise by accident."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from filelock import FileLock

from checks import store, versions
from checks.canonical import BadAnswer, candidates, canonical, plain_value
from checks.catalogue import Flag, UnknownFlag, flags, get_flag
from checks.hashing import load_keys
from checks.outcome import CORRECT, INVALID, NO_KEY, UNANSWERED, WRONG, Outcome, Totals, show

STRICT_VARIABLE = "CHECKS_STRICT"
RECORD_VARIABLE = "CHECKS_RECORD"


class FlagNotCaptured(AssertionError):
    """Raised in strict mode (``CHECKS_STRICT=1``) when a flag is not answered correctly."""


def strict_mode() -> bool:
    """Whether ``CHECKS_STRICT`` asks for a wrong or missing answer to raise."""
    return os.environ.get(STRICT_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def judge(flag_id: object, value: object) -> Outcome:
    """Decide whether ``value`` answers the flag, without saving anything."""
    try:
        flag = get_flag(flag_id)
    except UnknownFlag as error:
        return Outcome(str(flag_id), INVALID, f"{str(error)[:1].upper()}{str(error)[1:]}.")
    if value is Ellipsis:
        return Outcome(
            flag.id, UNANSWERED, "Replace the ... with your answer and run the cell again.", flag
        )
    try:
        texts = candidates(flag, value)
    except BadAnswer as error:
        return Outcome(flag.id, INVALID, f"{str(error)[:1].upper()}{str(error)[1:]}.", flag)
    key = load_keys().get(flag.id)
    if key is None:
        return Outcome(
            flag.id,
            NO_KEY,
            "Instructors: run `python -m checks keys` to make the answer keys.",
            flag,
        )
    if any(key.matches(flag.id, text) for text in texts):
        return Outcome(flag.id, CORRECT, f"+{flag.points} pts.", flag)
    return Outcome(flag.id, WRONG, f"Hint: {flag.hint}", flag)


def totals_for(flag: Flag, records: dict[str, store.FlagProgress]) -> Totals:
    """Points captured in ``flag``'s chapter and in the course, from progress records."""
    every = flags().values()
    captured = {flag_id for flag_id, record in records.items() if record.captured}
    in_chapter = [f for f in every if f.chapter == flag.chapter]
    return Totals(
        chapter_points=sum(f.points for f in in_chapter if f.id in captured),
        chapter_possible=sum(f.points for f in in_chapter),
        course_points=sum(f.points for f in every if f.id in captured),
        course_possible=sum(f.points for f in every),
    )


def _save(outcome: Outcome) -> Outcome:
    """Record a judged answer in the progress file and attach the running totals."""
    if outcome.flag is None or outcome.status not in (CORRECT, WRONG):
        return outcome
    try:
        records = store.record_attempt(outcome.flag.id, outcome.correct)
    except Exception as error:
        warnings.warn(f"Your progress could not be saved ({error}).", stacklevel=3)
        return outcome
    totals = totals_for(outcome.flag, records)
    return Outcome(outcome.flag_id, outcome.status, outcome.detail, outcome.flag, totals)


def _record(flag_id: object, value: object) -> None:
    """Append the answer to ``$CHECKS_RECORD``: for the keys (solutions) and for grading."""
    path = Path(os.environ[RECORD_VARIABLE])
    flag = get_flag(flag_id)
    entry = {
        "flag": flag.id,
        "canonical": canonical(flag, value),
        "value": plain_value(flag, value),
        "notebook": os.environ.get("CHECKS_NOTEBOOK", ""),
    }
    with FileLock(str(path) + ".lock", timeout=30), path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry) + "\n")


def check(flag_id: object, value: object) -> bool:
    """Check ``value`` as the answer to flag ``flag_id``; show the result, return whether right.

    ``...`` (the blank in student notebooks) means "not answered yet". Bad input (``None``, NaN, a
    string for a number, a wrongly shaped array, an unknown flag) gets a one-line explanation and
    ``False``, never an exception, except in strict mode (``CHECKS_STRICT=1``), where anything but
    a right answer raises :class:`FlagNotCaptured`.
    """
    versions.warn_once_if_mismatched()
    outcome = _save(judge(flag_id, value))
    show(outcome)
    if os.environ.get(RECORD_VARIABLE) and outcome.status in (CORRECT, WRONG, NO_KEY):
        _record(flag_id, value)
    if strict_mode() and not outcome.correct:
        raise FlagNotCaptured(str(outcome))
    return outcome.correct
