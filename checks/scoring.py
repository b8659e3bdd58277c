"""Score flags: a metric of the student's predictions, against labels loaded here, vs a threshold.

A score flag (``kind = "score"`` in ``flags.toml``) rewards *reaching* a level, not reproducing
an exact number: its answer is a model's predictions for a held-out set, and it is captured when
the metric reaches the flag's threshold. The labels are never taken from the student: they are
loaded by name (``labels = "mnist_test"``).

This module is the one home of what a score flag may name: :data:`METRICS` (add a metric here,
in one place) and :data:`LABEL_SETS`. Turning a student's value into predictions (and refusing
what cannot be) is :func:`checks.canonical.predictions`; the checker and the grader call
:func:`measure` on the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from checks.kaggle import N_TEST_ROWS, kaggle_test_labels
from checks.mnist import fetch_mnist_test_labels

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


#: Metric name -> function of (labels, predictions), both arrays of whole numbers 0-9.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"accuracy": accuracy}


@dataclass(frozen=True)
class LabelSet:
    """Labels a score flag's predictions are judged against."""

    description: str
    size: int
    load: Callable[[], np.ndarray]  # the labels: strings '0'-'9' (as MNIST gives them) or digits
    #: Whether predictions may also come as a Kaggle submission file ``ImageId,Label`` (a path)
    #: or DataFrame, read by :func:`checks.submission.read_submission` when checked.
    submission: bool = False


#: Label set name -> what it is. The labels are loaded (and cached) only when a score is measured.
LABEL_SETS: dict[str, LabelSet] = {
    "mnist_test": LabelSet("MNIST's 10,000 test images", 10_000, fetch_mnist_test_labels),
    "kaggle_test": LabelSet(
        f"the {N_TEST_ROWS:,} images of the Kaggle-style test.csv, in its order",
        N_TEST_ROWS,
        kaggle_test_labels,
        submission=True,
    ),
}


@cache
def labels(name: str) -> np.ndarray:
    """The labels of a label set, as whole numbers 0-9 (loaded once per process).

    Parameters
    ----------
    name : str
        A key of :data:`LABEL_SETS`.

    Returns
    -------
    numpy.ndarray
        The labels, dtype int64, read-only.

    Raises
    ------
    checks.mnist.MnistError
        If MNIST cannot be loaded.
    """
    loaded = np.asarray(LABEL_SETS[name].load()).astype(np.int64)
    loaded.setflags(write=False)
    return loaded


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


def measure(metric: str, label_set: str, predicted: np.ndarray, threshold: float) -> Score:
    """Score predictions against a label set's labels.

    Parameters
    ----------
    metric : str
        A key of :data:`METRICS`.
    label_set : str
        A key of :data:`LABEL_SETS`.
    predicted : numpy.ndarray
        Whole numbers 0-9, one per label (as :func:`checks.canonical.predictions` returns).
    threshold : float
        The level to reach.

    Returns
    -------
    Score
        The metric's value and the threshold.
    """
    return Score(metric, METRICS[metric](labels(label_set), predicted), threshold)
