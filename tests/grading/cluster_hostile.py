"""Tasks a hostile (or dying) worker could run in place of ``grade_task``, for the cluster tests.

Imported by name on the scheduler and the workers (the tests put this folder on their
``PYTHONPATH``), so that the grader receives what such a worker would send.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from checks.grading.judging import Grade
from checks.grading.result_schema import grade_to_json
from checks.grading.status import RunStatus

#: Where the crafted pickle would leave its mark if the grader unpickled it.
MARK = Path(os.environ.get("CHECKS_HOSTILE_MARK", "/tmp/checks-hostile-mark"))


class RunsCode:
    """Unpickled, it runs a shell command: what a crafted result would do in the grader."""

    def __reduce__(self):
        return (os.system, (f"echo ran in $PPID > {MARK}",))


def honest(packed, settings) -> str:
    """An honest worker's answer: a grade of the submission, all its flags not answered."""
    return grade_to_json(Grade(packed.submission, RunStatus.OK, isolation="none", seconds=1.0))


def hostile(packed, settings):
    """What the submission's student name asks for: code in a pickle, a wrong shape, a kill."""
    student = packed.submission.student
    if student == "pickle":
        return RunsCode()
    if student == "dict":
        return {"status": "ok", "total": 50}
    if student == "shape":
        return '{"status": "ok", "flags": [], "total": 50}'
    if student == "chapter":  # a flag of another chapter, claimed captured
        text = honest(packed, settings)
        return text.replace(
            '"flags": []', '"flags": [{"id": "9.1", "verdict": "captured", "mistake": null}]'
        )
    if student == "killer":  # its worker dies every time it runs it, a moment after it starts
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)
    return honest(packed, settings)


def claim_scratch() -> str:
    """Claim the worker's temporary folder, as grade_task does; return it."""
    from checks.grading.worker_scratch import claim

    return str(claim()[0])
