"""Judge what a run computed: each flag's verdict, and the grade of a submission.

The grader trusts only the values the kernel recorded, and judges them itself, with the judge
:func:`checks.check` uses (:mod:`checks.judge`): against the answer keys, and, with a variant,
against the solution's answers under the same parameters. A score flag has no key: the grader
scores the recorded predictions against labels it loads itself, and the score must reach the
flag's threshold (under a variant, that threshold or the solution's own score under the variant,
whichever is lower: smaller data may not reach it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.canonical import Answer, BadAnswer, read_answer
from checks.catalogue import Flag
from checks.grading.status import CellError, RunStatus, Verdict, describe_status
from checks.grading.submissions import Submission
from checks.judge import Judgement, Standard, judge, recognised_mistake

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
    #: What the instructor should read in the submission's code: its large literals (a label
    #: table?), from :func:`checks.grading.literals.literals_note`.
    notes: str = ""

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


def _answers(flag: Flag, values: list[object]) -> list[Answer] | None:
    """Each recorded value read once as an answer; None if one cannot be an answer."""
    try:
        return [read_answer(flag, value) for value in values]
    except BadAnswer:
        return None


def _judgement(answer: Answer, standard: Standard | None) -> Judgement:
    """The judge's word; an answer that cannot be compared (or with nothing) is not right."""
    if standard is None:
        return Judgement(False)
    try:
        return judge(answer, standard)
    except BadAnswer:
        return Judgement(False, mistake=recognised_mistake(answer, standard.mistakes))


def judge_flag(
    flag: Flag,
    submitted: list[object],
    standard: Standard | None,
    under_variant: list[object] | None = None,
    variant_standard: Standard | None = None,
) -> FlagGrade:
    """A flag earns its points when answered one way and right, and right under the variant too.

    ``standard`` is what the answer as submitted is judged against (None: nothing, so it is not
    right), ``variant_standard`` what the answer under the variant is (None: no variant run is
    judged); :mod:`checks.grading.step` says what they are. A wrong answer that is one of the
    standard's declared mistakes carries that mistake's hint, as :func:`checks.check` would say
    it. A value the grader cannot judge at all (anything a hostile kernel may record) costs this
    flag only: :attr:`Verdict.UNJUDGEABLE`.
    """
    try:
        return _flag_grade(flag, submitted, standard, under_variant, variant_standard)
    except Exception:  # a record built to break the grader: this flag earns nothing
        return FlagGrade(flag, Verdict.UNJUDGEABLE)


def _flag_grade(
    flag: Flag,
    submitted: list[object],
    standard: Standard | None,
    under_variant: list[object] | None,
    variant_standard: Standard | None,
) -> FlagGrade:
    if not submitted:
        return FlagGrade(flag, Verdict.NOT_ANSWERED)
    answers = _answers(flag, submitted)
    if answers is None:  # one of them cannot be an answer: wrong, unless the last is a mistake
        return FlagGrade(flag, Verdict.WRONG, _mistake_of(flag, submitted[-1], standard))
    if len({answer.text for answer in answers}) > 1:
        return FlagGrade(flag, Verdict.SEVERAL)
    judgement = _judgement(answers[-1], standard)
    if not judgement.right:
        return FlagGrade(flag, Verdict.WRONG, judgement.mistake.hint if judgement.mistake else None)
    if variant_standard is not None:
        values = _answers(flag, under_variant or []) or []
        answered_once = len({answer.text for answer in values}) == 1
        if not answered_once or not _judgement(values[-1], variant_standard).right:
            return FlagGrade(flag, Verdict.NOT_UNDER_VARIANT)
    return FlagGrade(flag, Verdict.CAPTURED)


def _mistake_of(flag: Flag, value: object, standard: Standard | None) -> str | None:
    """The hint of the declared mistake ``value`` is, if it can be read and is one."""
    if standard is None or not standard.mistakes:
        return None
    try:
        mistake = recognised_mistake(read_answer(flag, value), standard.mistakes)
    except BadAnswer:
        return None
    return mistake.hint if mistake else None
