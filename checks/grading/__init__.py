"""What an instructor grades with: :func:`grade_folder` and its parts.

- :mod:`~checks.grading.folder`: :func:`grade_folder`, the entry point the CLI calls;
- :mod:`~checks.grading.submissions`: finding the submissions, each classified once;
- :mod:`~checks.grading.parameters` and :mod:`~checks.grading.variants`: the ``parameters``
  cell, the values a variant gives it, and the solutions' hashed answers under a variant;
- :mod:`~checks.grading.contained_run`: one submission run afresh, in a folder of its own,
  with limits;
- :mod:`~checks.grading.judging`: each flag's verdict from what the kernel recorded;
- :mod:`~checks.grading.status`: the statuses and verdicts, as enums;
- :mod:`~checks.grading.gradebook` and :mod:`~checks.grading.feedback`: what is written.
"""

from checks.grading.contained_run import Limits
from checks.grading.folder import GradingInputError, GradingResult, grade_folder

__all__ = ["GradingInputError", "GradingResult", "Limits", "grade_folder"]
