"""Grade one submission: the step the grader's own threads and every Dask worker run.

A machine that grades (the grader's, or a worker of a cluster) first sets up its
:class:`Bench`, the same way on each: its own ``checks`` files verified and the isolation it can
give (:func:`trusted_machine`), the answer keys (:func:`course_keys`) and MNIST
(:func:`~checks.grading.contained_run.prepare_mnist`). Then :func:`grade_submission` grades
each submission: the checks on whether it can run at all (:func:`unrunnable`, the one place they
are written), its run (and its run under its chapter's variant), and each flag judged against
what it is judged against here (:func:`standard`, :func:`variant_standard`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from checks.answer_keys import AnswerKey, Mistake, load_keys, load_mistakes
from checks.authoring.solution_runs import solution_seconds
from checks.catalogue import Flag, chapter_flags
from checks.grading.contained_run import Run, run_submission
from checks.grading.judging import FlagGrade, Grade, judge_flag
from checks.grading.literals import literals_note
from checks.grading.settings import GradingInputError, Settings
from checks.grading.status import RunStatus
from checks.grading.submissions import Submission
from checks.grading.trust import verify_installation
from checks.grading.variant_keys import VariantKeys
from checks.grading.withheld import Withheld, chapter_label_set
from checks.judge import Standard
from checks.running.isolation import Isolation
from checks.running.isolation import choose as choose_isolation
from checks.running.limits import Limits
from checks.scoring import loader

TIMEOUT_FACTOR = 5
"""A run may take this many times its chapter's solution (runs share the cores, and a student's
notebook may be slower than the solution)."""
MIN_TIMEOUT = 300
"""Seconds a run may always take, however fast its solution."""
FALLBACK_TIMEOUT = 1800
"""Seconds a run may take when its solution's run time was never measured."""


@dataclass(frozen=True)
class Bench:
    """What one machine grades with, set up once: its files' check, isolation, keys and MNIST."""

    verified: str  # what this machine's ``checks`` files were verified against
    isolation: Isolation
    keys: dict[str, AnswerKey]
    #: The declared mistakes of the answer keys: a wrong answer as submitted that is one of them
    #: is told so (not under a variant only: they are the default parameters' values).
    mistakes: dict[str, list[Mistake]]
    mnist_dir: Path
    #: MNIST dealt with each label set's labels withheld (:mod:`checks.grading.withheld`): a
    #: chapter with score flags runs on its label set's dealing, scored against its kept labels.
    withheld: dict[str, Withheld] = field(default_factory=dict)

    def data_for(self, chapter: int) -> tuple[Path, Withheld | None]:
        """The MNIST folder a chapter's runs get, and the dealing it is (None: the original)."""
        dealt = self.withheld.get(chapter_label_set(chapter) or "")
        return (self.mnist_dir, None) if dealt is None else (dealt.folder, dealt)


def trusted_machine(isolation: str) -> tuple[str, Isolation]:
    """Verify this machine's ``checks`` files, and choose the isolation it gives to runs.

    Parameters
    ----------
    isolation : {"auto", "namespaces", "none"}
        The isolation asked for (:attr:`Settings.isolation`).

    Returns
    -------
    verified : str
        What the files were verified against (``git commit abc1234``).
    isolation : Isolation
        The isolation this machine gives.

    Raises
    ------
    checks.grading.trust.UntrustedInstallation
        A file of the package differs from its installed or committed version.
    checks.running.isolation.IsolationUnavailable
        Namespaces were asked for and this machine cannot make them.
    """
    verified = verify_installation()
    return verified, choose_isolation(isolation)


def course_keys() -> tuple[dict[str, AnswerKey], dict[str, list[Mistake]]]:
    """The answer keys and the declared mistakes of this machine's verified package.

    Returns
    -------
    keys : dict of str to AnswerKey
        The answer keys by flag id.
    mistakes : dict of str to list of Mistake
        The declared mistakes by flag id.

    Raises
    ------
    GradingInputError
        The key file cannot be read (an unknown or old format), or there are no keys.
    """
    try:
        keys, mistakes = load_keys(), load_mistakes()
    except ValueError as error:  # a key file in an unknown or old format
        raise GradingInputError(f"the answer keys cannot be read ({error})") from error
    if not keys:
        raise GradingInputError("no answer keys; run `python -m checks keys` first")
    return keys, mistakes


def unrunnable(submission: Submission) -> Grade | None:
    """The row of a submission that cannot run (not a notebook, refused...), or None.

    The one place this is decided, for the session's threads and the cluster alike.

    Parameters
    ----------
    submission : Submission
        As found and classified.

    Returns
    -------
    Grade or None
        Its row, with the reason as its status; None when it can run.
    """
    if submission.problem is not None or submission.chapter is None:
        status = submission.problem or RunStatus.NOT_A_NOTEBOOK
        return Grade(submission, status, detail=submission.detail)
    return None


def run_timeout(chapter: int | None, limits: Limits) -> int:
    """The time limit of one run of a chapter's notebook, in seconds.

    Parameters
    ----------
    chapter : int or None
        The notebook's chapter.
    limits : Limits
        The grader's limits: their ``timeout``, when set, wins.

    Returns
    -------
    int
        ``limits.timeout``; else :data:`TIMEOUT_FACTOR` times the chapter's solution's measured
        run time (:func:`~checks.authoring.solution_runs.solution_seconds`), at least
        :data:`MIN_TIMEOUT`; else :data:`FALLBACK_TIMEOUT`.
    """
    if limits.timeout is not None:
        return limits.timeout
    measured = solution_seconds().get(chapter) if chapter is not None else None
    if measured is None:
        return FALLBACK_TIMEOUT
    return max(MIN_TIMEOUT, round(TIMEOUT_FACTOR * measured))


def score_bar(flag: Flag, solution_score: float | None = None) -> float:
    """The level a score flag's score must reach: its threshold, or lower under a variant.

    Parameters
    ----------
    flag : Flag
        A score flag.
    solution_score : float, optional
        The solution's own score under the variant, if the run is a variant's.

    Returns
    -------
    float
        The threshold, or the solution's score under the variant if that is lower.
    """
    threshold = flag.threshold or 0.0
    return threshold if solution_score is None else min(threshold, solution_score)


def standard(
    flag: Flag,
    keys: dict[str, AnswerKey],
    mistakes: dict[str, list[Mistake]],
    withheld: Withheld | None = None,
) -> Standard:
    """What a flag's answer as submitted is judged against: its key and mistakes, or its bar.

    Parameters
    ----------
    flag : Flag
        The flag.
    keys : dict of str to AnswerKey
        The answer keys by flag id (a flag without one: nothing is right).
    mistakes : dict of str to list of Mistake
        The declared mistakes by flag id.
    withheld : Withheld, optional
        The dealing the run got: a score flag is scored against its kept labels.

    Returns
    -------
    Standard
        A score flag's threshold and labels, or the flag's key and declared mistakes.
    """
    if flag.kind == "score":
        return Standard(bar=score_bar(flag), labels=_labels(flag, withheld))
    return Standard(key=keys.get(flag.id), mistakes=tuple(mistakes.get(flag.id, [])))


def _labels(flag: Flag, withheld: Withheld | None) -> Callable[[], np.ndarray]:
    """A score flag's labels: those the grader kept from the run's dealing, else MNIST's own."""
    if withheld is not None and withheld.label_set == flag.labels:
        return withheld.loader()
    return loader(flag.labels or "")


def variant_standard(
    flag: Flag, variant: VariantKeys, withheld: Withheld | None = None
) -> Standard | None:
    """What a flag's answer under the variant is judged against (the solution's, there).

    Parameters
    ----------
    flag : Flag
        The flag.
    variant : VariantKeys
        The solution's hashed answers (and scores) under the variant.
    withheld : Withheld, optional
        The dealing the run got: a score flag is scored against its kept labels.

    Returns
    -------
    Standard or None
        The solution's key there, or the lower of the threshold and the solution's score; None
        when the solution has no answer for it under the variant (nothing to judge against).
    """
    if flag.kind != "score":
        key = variant.keys.get(flag.id)
        return None if key is None else Standard(key=key)
    solution_score = variant.scores.get(flag.id)
    if solution_score is None:
        return None
    return Standard(bar=score_bar(flag, solution_score), labels=_labels(flag, withheld))


def grade_submission(submission: Submission, settings: Settings, bench: Bench) -> Grade:
    """Run a submission (and again under its chapter's variant), then judge every flag.

    With ``settings.variant_only``, a chapter that the variant changes runs once, under the
    variant, and each flag is judged against the solution's answer under the same parameters
    only (the default answer keys are not consulted).

    Parameters
    ----------
    submission : Submission
        As found (and classified) in the submissions folder, or unpacked on a worker.
    settings : Settings
        The grader's settings: limits, variants, variant only.
    bench : Bench
        This machine's isolation, answer keys and MNIST.

    Returns
    -------
    Grade
        The submission's gradebook row.
    """
    not_run = unrunnable(submission)
    if not_run is not None:
        return not_run
    assert submission.chapter is not None
    limits = replace(settings.limits, timeout=run_timeout(submission.chapter, settings.limits))
    settings = replace(settings, limits=limits)
    variant = settings.variants.get(submission.chapter)
    if settings.variant_only and variant is not None:
        return _grade_under_variant_only(submission, settings, bench, variant)
    mnist_dir, withheld = bench.data_for(submission.chapter)
    run = run_submission(submission, mnist_dir, limits, None, bench.isolation)
    variant_run = (
        run_submission(submission, mnist_dir, limits, variant.parameters, bench.isolation)
        if variant
        else None
    )
    grades = [
        judge_flag(
            flag,
            run.answers.get(flag.id, []),
            standard(flag, bench.keys, bench.mistakes, withheld),
            variant_run.answers.get(flag.id, []) if variant_run else None,
            variant_standard(flag, variant, withheld) if variant else None,
        )
        for flag in chapter_flags(submission.chapter)
    ]
    if variant_run is None:
        return _row(submission, run, grades, bench)
    return _row(
        submission,
        run,
        grades,
        bench,
        variant_status=variant_run.status,
        variant_error=variant_run.error,
        seconds=run.seconds + variant_run.seconds,
    )


def _grade_under_variant_only(
    submission: Submission, settings: Settings, bench: Bench, variant: VariantKeys
) -> Grade:
    """One run, under the variant, judged against the solution under the same parameters."""
    assert submission.chapter is not None
    mnist_dir, withheld = bench.data_for(submission.chapter)
    run = run_submission(
        submission, mnist_dir, settings.limits, variant.parameters, bench.isolation
    )
    grades = [
        judge_flag(flag, run.answers.get(flag.id, []), variant_standard(flag, variant, withheld))
        for flag in chapter_flags(submission.chapter)
    ]
    return _row(submission, run, grades, bench, variant_only=True)


def _row(
    submission: Submission, run: Run, grades: list[FlagGrade], bench: Bench, **more: Any
) -> Grade:
    """The gradebook row of a run: its status, first error, seconds and flags (and ``more``)."""
    more.setdefault("seconds", run.seconds)
    more.setdefault("notes", literals_note(submission.path))
    return Grade(submission, run.status, grades, run.error, isolation=bench.isolation.mode, **more)
