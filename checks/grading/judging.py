"""Judge what a run computed: each flag's verdict, and the grade of a submission.

The grader trusts only the values the kernel recorded, and judges them itself: against the
answer keys, and, with a variant, against the solution's answers under the same parameters. A
score flag has no key: the grader scores the recorded predictions against labels it loads
itself, and the score must reach the flag's threshold (under a variant, that threshold or the
solution's own score under the variant, whichever is lower: smaller data may not reach it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.answer_keys import AnswerKey, Mistake, recognised_mistake
from checks.canonical import BadAnswer, canonical, predictions
from checks.catalogue import Flag
from checks.grading.contained_run import CellError, describe_status
from checks.grading.status import RunStatus, Verdict
from checks.grading.submissions import Submission
from checks.scoring import measure

VARIANT_ONLY = "judged under the variant only"


@dataclass(frozen=True)
class FlagGrade:
    """The points one flag earned and why."""

    flag: Flag
    verdict: Verdict
    mistake: str | None = None  # a wrong answer's declared mistake: its hint

    @property
    def points(self) -> int:
        """The flag's points if captured, else 0."""
        return self.flag.points if self.verdict is Verdict.CAPTURED else 0


@dataclass(frozen=True)
class Grade:
    """One gradebook row: a student's notebook, how its runs ended, and its flags."""

    submission: Submission
    status: RunStatus
    flags: list[FlagGrade] = field(default_factory=list)
    error: CellError | None = None
    variant_status: RunStatus | None = None
    variant_error: CellError | None = None
    seconds: float = 0.0
    detail: str = ""  # for a grader error: what went wrong
    isolation: str = ""  # how the runs were contained: "bubblewrap", "unshare", "none"
    variant_only: bool = False  # one run, under the variant, judged against the solution there

    @property
    def chapter(self) -> int | None:
        """The chapter of the notebook, if it is one of the course's."""
        return self.submission.chapter

    @property
    def status_text(self) -> str:
        """The status as the gradebook shows it (``error in cell 12``)."""
        text = describe_status(self.status, self.error)
        return f"{text}: {self.detail}"[:200] if self.detail else text

    @property
    def variant_status_text(self) -> str:
        """The variant run's status as the gradebook shows it, or ``""`` without a variant.

        Under ``--variant-only`` the one run is the variant's: its status is :attr:`status_text`,
        and this says how the flags were judged.
        """
        if self.variant_only:
            return VARIANT_ONLY
        if self.variant_status is None:
            return ""
        return describe_status(self.variant_status, self.variant_error)

    @property
    def total(self) -> int:
        """Points earned in this notebook."""
        return sum(grade.points for grade in self.flags)

    @property
    def possible(self) -> int:
        """Points this notebook's chapter is worth."""
        return sum(grade.flag.points for grade in self.flags)


def _canonical_set(flag: Flag, values: list[object]) -> set[str] | None:
    """The distinct canonical answers among ``values``; None if one cannot be an answer."""
    try:
        return {canonical(flag, value) for value in values}
    except BadAnswer:
        return None


def is_right(flag: Flag, value: object, key: AnswerKey | float | None) -> bool:
    """Whether ``value`` matches ``key``; a value that cannot be an answer is not right.

    For a score flag, ``key`` is the level its score must reach (see :func:`score_bar`).
    """
    if key is None:
        return False
    if flag.kind == "score":
        return _reaches(flag, value, float(key))  # type: ignore[arg-type]
    try:
        return key.accepts(flag, value)
    except BadAnswer:
        return False


def _reaches(flag: Flag, value: object, bar: float) -> bool:
    try:
        predicted = predictions(flag, value)
    except BadAnswer:
        return False
    return measure(flag.metric or "", flag.labels or "", predicted, bar).reached


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


def judge_flag(
    flag: Flag,
    submitted: list[object],
    key: AnswerKey | float | None,
    under_variant: list[object] | None = None,
    variant_key: AnswerKey | float | None = None,
    *,
    mistakes: list[Mistake] | None = None,
) -> FlagGrade:
    """A flag earns its points when answered one way and right, and right under the variant too.

    For a score flag, ``key`` and ``variant_key`` are the levels to reach (:func:`score_bar`).
    A wrong answer that is one of the flag's declared ``mistakes`` carries that mistake's hint,
    as :func:`checks.check` would say it. A value the grader cannot judge at all (anything a
    hostile kernel may record) costs this flag only: its verdict is :attr:`Verdict.UNJUDGEABLE`.
    """
    try:
        verdict = _verdict(flag, submitted, key, under_variant, variant_key)
    except Exception:  # a record built to break the grader: this flag earns nothing
        return FlagGrade(flag, Verdict.UNJUDGEABLE)
    mistake = None
    if verdict is Verdict.WRONG and submitted and mistakes:
        found = recognised_mistake(flag, submitted[-1], mistakes)
        mistake = found.hint if found else None
    return FlagGrade(flag, verdict, mistake)


def _verdict(
    flag: Flag,
    submitted: list[object],
    key: AnswerKey | float | None,
    under_variant: list[object] | None,
    variant_key: AnswerKey | float | None,
) -> Verdict:
    if not submitted:
        return Verdict.NOT_ANSWERED
    distinct = _canonical_set(flag, submitted)
    if distinct is None:
        return Verdict.WRONG
    if len(distinct) > 1:
        return Verdict.SEVERAL
    if not is_right(flag, submitted[-1], key):
        return Verdict.WRONG
    if variant_key is not None:
        values = under_variant or []
        answered_once = bool(values) and len(_canonical_set(flag, values) or ()) == 1
        if not answered_once or not is_right(flag, values[-1], variant_key):
            return Verdict.NOT_UNDER_VARIANT
    return Verdict.CAPTURED
