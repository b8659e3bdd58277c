"""The judge: whether an answer meets what its flag is judged against, in a kernel and the grader.

:func:`checks.check` (in a student's kernel) and the grader (:mod:`checks.grading.judging`) judge
the same way, here. An answer is read once (:func:`checks.canonical.read_answer`); a
:class:`Standard` says what it is judged against:

- a flag with an answer key: the **key** (a salted hash of the right answer's canonical text) and
  the flag's **declared mistakes**, whose hints name a wrong answer's mistake;
- a score flag: the **bar** its metric must reach (:data:`METRIC_FUNCTIONS`), measured against
  **labels** the judge is given a loader of (:func:`checks.scoring.loader`), never the student's.

:func:`judge` returns a :class:`Judgement`: right or not, the score measured, the mistake
recognised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from checks.answer_keys import AnswerKey, Mistake
from checks.canonical import Answer, BadAnswer
from checks.catalogue import METRICS
from checks.describe import describe_error

#: The decimals a score is shown with.
SHOWN_DECIMALS = 4


def accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    """The share of predictions equal to the labels.

    Parameters
    ----------
    truth, predicted : numpy.ndarray
        Labels as whole numbers 0-9, of the same length (at least 1).

    Returns
    -------
    float
        Between 0 and 1.
    """
    return float(np.mean(truth == predicted))


#: :func:`gain_over_members` counts a member below this accuracy as this accuracy: a table of
#: junk rows (a run without the labels) or a "member" made up to lose gains nothing by it.
MEMBER_FLOOR = 0.95


def gain_over_members(truth: np.ndarray, table: np.ndarray) -> float:
    """How much more accurate an ensemble is than the best of its members, and than 95 %.

    A member is counted at :data:`MEMBER_FLOOR` at least, so the score is above 0 only for an
    ensemble that beats every member *and* 95 %.

    Parameters
    ----------
    truth : numpy.ndarray
        Labels as whole numbers 0-9.
    table : numpy.ndarray
        Predictions, a row per model: the ensemble's first, then each member's.

    Returns
    -------
    float
        The ensemble's accuracy minus its best member's (or 95 %, if more).
    """
    best = max(MEMBER_FLOOR, *(accuracy(truth, row) for row in table[1:]))
    return accuracy(truth, table[0]) - best


#: Metric name (:data:`checks.catalogue.METRICS`) -> function of (labels, predictions), both
#: whole numbers 0-9 (the predictions a table, a row per model, for a table metric).
METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy,
    "gain_over_members": gain_over_members,
}
if set(METRIC_FUNCTIONS) != set(METRICS):  # an author's error: a metric without its function
    raise RuntimeError(f"metrics {METRICS} and functions {sorted(METRIC_FUNCTIONS)} differ")


@dataclass(frozen=True)
class Score:
    """A measured score and the level it had to reach."""

    metric: str
    value: float
    threshold: float

    @property
    def reached(self) -> bool:
        """Whether the score is at or above the threshold."""
        return self.value >= self.threshold

    def __str__(self) -> str:
        """``accuracy 0.9712 ≥ 0.97``, or ``accuracy 0.9612 < 0.97 (0.0088 short)``."""
        value = f"{self.metric} {self.value:.{SHOWN_DECIMALS}f}"
        if self.reached:
            return f"{value} \N{GREATER-THAN OR EQUAL TO} {self.threshold:g}"
        short = self.threshold - self.value
        return f"{value} < {self.threshold:g} ({short:.{SHOWN_DECIMALS}f} short)"


@dataclass(frozen=True)
class Standard:
    """What a flag's answer is judged against.

    A flag with an answer key: its ``key`` (None: there is none, and nothing is right) and the
    declared ``mistakes`` a wrong answer is compared with. A score flag: the ``bar`` its score
    must reach, measured against the labels ``labels`` loads (when a score is measured).
    """

    key: AnswerKey | None = None
    mistakes: tuple[Mistake, ...] = ()
    bar: float | None = None
    labels: Callable[[], np.ndarray] | None = None


@dataclass(frozen=True)
class Judgement:
    """What :func:`judge` found."""

    right: bool
    score: Score | None = None  # a score flag's measured score
    mistake: Mistake | None = None  # the declared mistake a wrong answer is


def measure(answer: Answer, bar: float, labels: Callable[[], np.ndarray]) -> Score:
    """A score flag's metric on the answer's predictions, against ``labels()``.

    Parameters
    ----------
    answer : Answer
        A score flag's answer (its predictions are read).
    bar : float
        The level the score must reach.
    labels : callable
        Returns the true labels, whole numbers 0-9, one per prediction.

    Returns
    -------
    Score
        The metric's value and the bar.
    """
    metric = answer.flag.metric or ""
    return Score(metric, METRIC_FUNCTIONS[metric](labels(), answer.predictions), bar)


def _matches(key: AnswerKey, answer: Answer) -> bool:
    """Whether one of the answer's texts matches the key; :class:`BadAnswer` if it cannot say."""
    try:
        return any(key.matches(answer.flag.id, text) for text in answer.candidates)
    except Exception as error:
        raise BadAnswer(
            f"the value could not be compared with the answer key ({describe_error(error)})"
        ) from None


def recognised_mistake(answer: Answer, mistakes: tuple[Mistake, ...]) -> Mistake | None:
    """The first of ``mistakes`` whose value the answer is (its own text only); never raises.

    Parameters
    ----------
    answer : Answer
        A wrong answer.
    mistakes : tuple of Mistake
        The flag's declared mistakes.

    Returns
    -------
    Mistake or None
        The mistake the answer's canonical text matches.
    """
    for mistake in mistakes:
        try:
            if mistake.key.matches(answer.flag.id, answer.text):
                return mistake
        except Exception:  # a text that cannot be hashed is no declared mistake
            continue
    return None


def judge(answer: Answer, standard: Standard) -> Judgement:
    """Judge an answer against its standard: right, or wrong and perhaps a declared mistake.

    Parameters
    ----------
    answer : Answer
        The value, read once (:func:`checks.canonical.read_answer`).
    standard : Standard
        What the flag is judged against: a key and declared mistakes, or a score bar and labels.

    Returns
    -------
    Judgement
        Whether it is right; a score flag's score; a wrong answer's declared mistake.

    Raises
    ------
    BadAnswer
        When the answer cannot be compared with the key. A score flag's labels that cannot be
        loaded raise what their loader raises (:class:`checks.mnist.MnistError`).

    Examples
    --------
    >>> from checks.answer_keys import make_key
    >>> from checks.canonical import read_answer
    >>> from checks.catalogue import get_flag
    >>> standard = Standard(key=make_key("1.1", "5923", "example"))
    >>> judge(read_answer(get_flag("1.1"), 5923), standard).right
    True
    """
    if answer.flag.kind == "score":
        if standard.bar is None or standard.labels is None:
            return Judgement(False)
        score = measure(answer, standard.bar, standard.labels)
        return Judgement(score.reached, score=score)
    if standard.key is not None and _matches(standard.key, answer):
        return Judgement(True)
    return Judgement(False, mistake=recognised_mistake(answer, standard.mistakes))
