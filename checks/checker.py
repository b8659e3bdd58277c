"""``check(flag_id, value)``: judge an answer at once, keep score, never raise by accident."""

from __future__ import annotations

import os
import warnings

from checks import recording, scoring, store, versions
from checks.answer_keys import (
    AnswerKey,
    KeyFileError,
    Mistake,
    load_keys,
    load_mistakes,
    load_version_keys,
)
from checks.canonical import Answer, BadAnswer, read_answer
from checks.catalogue import LABEL_SETS, Flag, UnknownFlag, chapter_flags, flags, get_flag
from checks.describe import describe_error
from checks.judge import Judgement, Standard
from checks.judge import judge as judge_answer
from checks.outcome import CORRECT, INVALID, NO_KEY, UNANSWERED, WRONG, Outcome, Totals, show
from checks.submission import SubmissionError, is_submission_source, read_submission

STRICT_VARIABLE = "CHECKS_STRICT"


class FlagNotCaptured(AssertionError):
    """Raised in strict mode (``CHECKS_STRICT=1``) when a flag is not answered correctly."""


def strict_mode() -> bool:
    """Whether ``CHECKS_STRICT`` asks for a wrong or missing answer to raise."""
    return os.environ.get(STRICT_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def _series_key(flag: Flag) -> AnswerKey | None:
    """The key of ``flag``'s answer under the installed scikit-learn series, if it has its own."""
    return load_version_keys().get(versions.installed_series() or "", {}).get(flag.id)


def key_for(flag: Flag) -> AnswerKey | None:
    """The key ``flag`` is judged against here: the installed scikit-learn series' own, if any.

    Where the compatibility matrix found another answer under this series, the keys carry it,
    tagged with the series, and it is the only one accepted: a student on another series cannot
    pass with it, nor one on this series with the course's.
    """
    own = _series_key(flag)
    return own if own is not None else load_keys().get(flag.id)


def mistakes_for(flag: Flag) -> list[Mistake]:
    """The declared mistakes ``flag``'s wrong answers are compared with.

    They were computed with the course's scikit-learn: where the installed series has an answer
    of its own for the flag, its mistakes may differ too, and none is used.
    """
    if _series_key(flag) is not None:
        return []
    return load_mistakes().get(flag.id, [])


def standard_for(flag: Flag) -> Standard | str:
    """What ``flag`` is judged against in this kernel, or why nothing (a message for instructors).

    A score flag: its threshold, against the labels of its label set, loaded here. A flag with a
    key: :func:`key_for` and :func:`mistakes_for`.
    """
    if flag.kind == "score":
        return Standard(bar=flag.threshold or 0.0, labels=scoring.loader(flag.labels or ""))
    try:
        key = key_for(flag)
        mistakes = tuple(mistakes_for(flag))
    except KeyFileError as error:
        return f"Instructors: the answer keys cannot be used ({error})."
    if key is None:
        return "Instructors: run `python -m checks keys` to make the answer keys."
    return Standard(key=key, mistakes=mistakes)


def judge(flag_id: object, value: object) -> Outcome:
    """Decide whether ``value`` answers the flag, without saving anything.

    A wrong value that is one of the flag's declared mistakes gets that mistake's hint
    (``targeted``); any other wrong value the flag's hint. A right one is "worth" its points:
    only :func:`check` saves them.
    """
    return _judged(flag_id, value)[0]


def _judged(flag_id: object, value: object) -> tuple[Outcome, Answer | None]:
    """The outcome, and the answer judged (None if the value is none): read once, here.

    A submission file is read into its predictions first. What is recorded for the grader is
    the answer judged, never a path: the grader must score what the kernel read, not open a
    file the kernel names.
    """
    try:
        flag = get_flag(flag_id)
    except UnknownFlag as error:
        return Outcome(_short(str(flag_id)), INVALID, _sentence(_short(str(error), 200))), None
    if value is Ellipsis:
        return Outcome(
            flag.id, UNANSWERED, "Replace the ... with your answer and run the cell again.", flag
        ), None
    takes_files = flag.kind == "score" and LABEL_SETS[flag.labels or ""].submission
    if takes_files and is_submission_source(value):
        try:
            value = read_submission(value)
        except SubmissionError as error:
            return Outcome(flag.id, INVALID, _sentence(error.one_line()), flag), None
    try:
        answer = read_answer(flag, value)
        standard = standard_for(flag)
        if isinstance(standard, str):
            return Outcome(flag.id, NO_KEY, standard, flag), answer
        judgement = judge_answer(answer, standard)
    except BadAnswer as error:
        return Outcome(flag.id, INVALID, _sentence(str(error)), flag), None
    return _outcome(flag, judgement), answer


def _outcome(flag: Flag, judgement: Judgement) -> Outcome:
    """The verdict a judgement gets: right, a declared mistake, or wrong with the flag's hint.

    A score flag's verdict says the score; a wrong answer to a flag whose answer may differ
    under the installed libraries says so after the hint.
    """
    score = f"{_sentence(str(judgement.score))} " if judgement.score is not None else ""
    if judgement.right:
        return Outcome(flag.id, CORRECT, f"{score}{_worth(flag)}", flag)
    if judgement.mistake is not None:
        return Outcome(flag.id, WRONG, judgement.mistake.hint, flag, targeted=True)
    note = "" if judgement.score is not None else versions.note_for_flag(flag.id)
    return Outcome(flag.id, WRONG, f"{score}Hint: {flag.hint}" + (f" {note}" if note else ""), flag)


def _worth(flag: Flag) -> str:
    """What a right answer is worth, before :func:`_save` says what it earned."""
    return f"Worth {flag.points} pts."


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def _short(text: str, length: int = 20) -> str:
    return text if len(text) <= length else text[: length - 3] + "..."


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
    """Record a judged answer in the progress file; say what it changed, with the totals.

    A right answer to a flag not yet captured earns its points ("+10 pts."); to one captured
    earlier, nothing more ("already captured"). A wrong answer to a captured flag is told that
    the earlier capture still counts.
    """
    if outcome.flag is None or outcome.status not in (CORRECT, WRONG):
        return outcome
    flag = outcome.flag
    try:
        before = store.snapshot().records.get(flag.id)
        records = store.record_attempt(flag.id, outcome.correct)
    except Exception as error:
        warnings.warn(f"Your progress could not be saved ({error}).", stacklevel=3)
        return outcome
    earlier = before is not None and before.captured
    totals = totals_for(flag, records)
    if outcome.correct:
        earned = (
            f"Already captured earlier: no new points (the {flag.points} pts count once)."
            if earlier
            else f"+{flag.points} pts."
        )
        return outcome.with_totals(totals, detail=outcome.detail.replace(_worth(flag), earned))
    return outcome.with_totals(totals, still=earlier)


def check(flag_id: object, value: object) -> Outcome:
    """Check an answer: capture the flag if it is right, and show the verdict at once.

    The verdict is one of ✔ correct (with the points and your running total), ✘ not quite (with
    a hint; when your value is a common mistake the course knows, the hint names it), ○ not
    answered yet, or ⚠ a one-line explanation when the value cannot be an answer. Progress is
    saved (see :func:`checks.progress`); a captured flag stays captured, whatever you try later.

    The verdict is shown once, whether the call ends the cell or not, so a flag cell needs no
    ``;``.

    Parameters
    ----------
    flag_id : str
        The flag, ``"chapter.number"`` as in the flag's heading, for example ``"2.1"``.
    value : object
        Your answer: a number (Python or NumPy, a 0-d array too), a string, or an array,
        as the flag asks. ``...`` (the blank in the student notebooks) means "not answered
        yet". A float is compared rounded to the decimals the flag states, so pass the full
        value. A score flag takes your model's predictions for the held-out images it names
        (strings ``'0'``-``'9'`` or whole numbers 0-9, one per image): it is captured when
        its metric, computed here against labels the package loads itself, reaches the flag's
        threshold, and the verdict says the score reached.

    Returns
    -------
    Outcome
        The verdict, true when the answer is right (``if checks.check(...):``). It shows itself
        as rich HTML in a notebook and as text in a terminal; the cell that called ``check`` does
        not show it a second time. Bad input (``None``, NaN, a string for a number, a wrongly
        shaped array, an unknown flag, a value that breaks when read) gets a one-line
        explanation and a false outcome, never an exception. A progress file that cannot be
        written only costs a warning.

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
    ⚠ Flag 1.1 – ...: Can't check this value. Expected a whole number, got the string '5'.
    >>> bool(checks.check("1.1", 1234))  # doctest: +SKIP
    ✘ Flag 1.1 – ...: Not quite. Hint: ...
    False
    """
    try:
        outcome = _judge_save_show(flag_id, value)
    except Exception as error:  # the one boundary: nothing a value does may break check()
        outcome = _unjudgeable(flag_id, error)
        _show_quietly(outcome)
    if strict_mode() and not outcome.correct:
        raise FlagNotCaptured(str(outcome))
    return outcome


def _judge_save_show(flag_id: object, value: object) -> Outcome:
    """Everything :func:`check` does but strict mode: judge, save, show, record."""
    versions.warn_once_if_mismatched()
    judged, answer = _judged(flag_id, value)
    outcome = _save(judged)
    show(outcome)
    if answer is not None and outcome.status in (CORRECT, WRONG, NO_KEY):
        recording.record(answer)
    return outcome


def _unjudgeable(flag_id: object, error: BaseException) -> Outcome:
    """The ⚠ outcome for a check that failed for a reason :func:`judge` did not foresee."""
    try:
        flag: Flag | None = get_flag(flag_id)
    except Exception:
        flag = None
    shown_id = flag.id if flag else "?"
    detail = f"It could not be checked ({describe_error(error)})."
    return Outcome(shown_id, INVALID, detail, flag)


def _show_quietly(outcome: Outcome) -> None:
    """Show an outcome; if even that fails, print its plain text."""
    try:
        show(outcome)
    except Exception:
        print(str(outcome))
