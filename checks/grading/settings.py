"""How a class is graded: the one record of the grader's settings, sent as is to every worker.

:class:`Settings` holds everything the grader decides for a session: the limits of a run, the
isolation asked for, the variants (the solutions' hashed answers under other parameters), whether
runs are under the variant only, where the runs happen (``jobs`` here, or a Dask ``scheduler``),
and what the grader's own files were verified against. What each machine sets up for itself (its
verified files, its isolation, its answer keys and MNIST) is a
:class:`~checks.grading.step.Bench`, made the same way on the grader and on every worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.grading.variant_keys import VariantKeys
from checks.running.limits import Limits


class GradingInputError(ValueError):
    """Grading cannot start: the submissions, the variant, the keys or MNIST are not usable."""


@dataclass(frozen=True)
class Settings:
    """What the grader decided for the session; a worker receives it with every task."""

    limits: Limits = field(default_factory=Limits)
    #: The isolation asked for (``--isolation``): "auto", "namespaces" or "none". Each machine
    #: chooses its own from it (:func:`checks.grading.step.trusted_machine`).
    isolation: str = "auto"
    variants: dict[int, VariantKeys] = field(default_factory=dict)
    variant_only: bool = False  # run each submission under its chapter's variant only
    jobs: int = 1  # submissions run at once on this machine (without a scheduler)
    scheduler: str | None = None  # a Dask scheduler's address: the runs happen on its workers
    verified: str = ""  # what the grader's files were verified against: "git commit abc1234"
