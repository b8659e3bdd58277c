"""The words of a gradebook: how a run ended (and where it failed), and what each flag earned."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class RunStatus(Enum):
    """How a submission's run ended (or why it could not run)."""

    OK = "ok"
    ERROR = "error"  # a cell raised: shown with its number, "error in cell 12"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    NOT_A_NOTEBOOK = "not a notebook"
    NOT_A_COURSE_NOTEBOOK = "not a course notebook"
    REFUSED_SYMLINK = "refused: symbolic link"
    REFUSED_OUTSIDE = "refused: outside the submissions folder"
    REFUSED_SPECIAL = "refused: not a regular file"
    REFUSED_SIZE = "refused: folder too big"  # too deep, too many files or bytes to copy
    GRADER_ERROR = "grader error"
    WORKER_UNTRUSTED = "refused: worker files differ"  # a Dask worker not at the grader's commit

    @property
    def ran(self) -> bool:
        """Whether the notebook was executed (its flags were judged)."""
        return self in (RunStatus.OK, RunStatus.ERROR, RunStatus.TIMEOUT, RunStatus.MEMORY)


class Verdict(Enum):
    """What one flag of a graded notebook earned, and why."""

    CAPTURED = "captured"
    NOT_ANSWERED = "not answered"
    WRONG = "wrong"
    SEVERAL = "answered more than one way"
    NOT_UNDER_VARIANT = "right as submitted, but not when re-run with other parameters"
    UNJUDGEABLE = "a value the grader cannot judge"


@dataclass(frozen=True)
class CellError:
    """The first cell that failed in a run."""

    cell: int  # 1-based, among the notebook's code cells; 0: unknown
    name: str
    message: str
    source: str  # the cell's first line, to find it


def describe_status(status: RunStatus, error: CellError | None) -> str:
    """The status as the gradebook writes it: ``ok``, ``error in cell 12``, ``timeout``..."""
    if status is RunStatus.ERROR:
        return f"error in cell {error.cell if error is not None and error.cell else '?'}"
    return status.value
