"""``check(flag_id, value)``: judge an answer at once, keep score, never raise by accident."""

from __future__ import annotations

import os
import warnings

from checks import recording, store, versions
from checks.answer_keys import AnswerKey, load_keys, load_version_keys
from checks.canonical import BadAnswer, candidates
from checks.catalogue import Flag, UnknownFlag, chapter_flags, flags, get_flag
from checks.outcome import CORRECT, INVALID, NO_KEY, UNANSWERED, WRONG, Outcome, Totals, show

STRICT_VARIABLE = "CHECKS_STRICT"


class FlagNotCaptured(AssertionError):
    """Raised in strict mode (``CHECKS_STRICT=1``) when a flag is not answered correctly."""


def strict_mode() -> bool:
    """Whether ``CHECKS_STRICT`` asks for a wrong or missing answer to raise."""
    return os.environ.get(STRICT_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def key_for(flag: Flag) -> AnswerKey | None:
    """The key ``flag`` is judged against here: the installed scikit-learn series' own, if any.

    Where the compatibility matrix found another answer under this series, the keys carry it,
    tagged with the series, and it is the only one accepted: a student on another series cannot
    pass with it, nor one on this series with the course's.
    """
    own = load_version_keys().get(versions.installed_series() or "", {}).get(flag.id)
    return own if own is not None else load_keys().get(flag.id)


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
        candidates(flag, value)
    except BadAnswer as error:
        return Outcome(flag.id, INVALID, f"{str(error)[:1].upper()}{str(error)[1:]}.", flag)
    key = key_for(flag)
    if key is None:
        return Outcome(
            flag.id,
            NO_KEY,
            "Instructors: run `python -m checks keys` to make the answer keys.",
            flag,
        )
    if key.accepts(flag, value):
        return Outcome(flag.id, CORRECT, f"+{flag.points} pts.", flag)
    note = versions.note_for_flag(flag.id)
    return Outcome(flag.id, WRONG, f"Hint: {flag.hint}" + (f" {note}" if note else ""), flag)


def totals_for(flag: Flag, records: dict[str, store.FlagProgress]) -> Totals:
    """Points captured in ``flag``'s chapter and in the course, from progress records."""
    every = flags().values()
    captured = {flag_id for flag_id, record in records.items() if record.captured}
    in_chapter = chapter_flags(flag.chapter)
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


def check(flag_id: object, value: object) -> bool:
    """Check an answer: capture the flag if it is right, and show the verdict at once.

    The verdict is one of ✔ correct (with the points and your running total), ✘ not quite (with
    a hint), ○ not answered yet, or ⚠ a one-line explanation when the value cannot be an answer.
    Progress is saved (see :func:`checks.progress`); a captured flag stays captured.

    Parameters
    ----------
    flag_id : str
        The flag, ``"chapter.number"`` as in the flag's heading, for example ``"2.1"``.
    value : object
        Your answer: a number (Python or NumPy, a 0-d array too), a string, or an array,
        as the flag asks. ``...`` (the blank in the student notebooks) means "not answered
        yet". A float is compared rounded to the decimals the flag states, so pass the full
        value.

    Returns
    -------
    bool
        Whether this answer is right. Bad input (``None``, NaN, a string for a number, a
        wrongly shaped array, an unknown flag) gets a one-line explanation and ``False``, never
        an exception.

    Raises
    ------
    FlagNotCaptured
        Only in strict mode (environment variable ``CHECKS_STRICT=1``, used by the course's
        own tests), for anything but a right answer.

    See Also
    --------
    checks.progress : Your flags and points, chapter by chapter.

    Examples
    --------
    >>> import checks
    >>> checks.check("1.1", ...)  # doctest: +SKIP
    ○ Flag 1.1 – Images of the target digit in the training set (10 pts): Not answered yet. ...
    >>> checks.check("1.1", "5")  # doctest: +SKIP
    ⚠ Flag 1.1 – ...: Can't check this value. Expected a whole number, got str '5'.
    False
    """
    versions.warn_once_if_mismatched()
    outcome = _save(judge(flag_id, value))
    show(outcome)
    if outcome.flag is not None and outcome.status in (CORRECT, WRONG, NO_KEY):
        recording.record(outcome.flag, value)
    if strict_mode() and not outcome.correct:
        raise FlagNotCaptured(str(outcome))
    return outcome.correct
