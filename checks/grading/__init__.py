"""What an instructor grades with: :func:`grade_folder` and its parts.

- :mod:`~checks.grading.session`: :func:`grade_folder`, one grading session from the
  submissions folder to the gradebook, and ``grade_download``, the entry point the CLI calls: a
  folder or zip as an LMS downloads it, matched to a roster, then graded by ``grade_folder``;
- :mod:`~checks.grading.safe_zip`, :mod:`~checks.grading.roster` and :mod:`~checks.grading.lms`:
  a download's zip checked before it is extracted, the class roster, Canvas's and Moodle's
  layouts and the submissions file; :mod:`~checks.grading.export`: grades out to Canvas,
  Moodle, Gradescope and CSV;
- :mod:`~checks.grading.settings`: the session's one :class:`Settings`, sent to every worker;
- :mod:`~checks.grading.step`: grading one submission, the step the session's threads and the
  Dask workers (:mod:`~checks.grading.cluster`) both run, on a machine's ``Bench``;
- :mod:`~checks.grading.cluster_tls`, :mod:`~checks.grading.result_schema`,
  :mod:`~checks.grading.safe_unpickling` and :mod:`~checks.grading.worker_scratch`: a cluster
  only the instructor's machines join (mutual TLS), a worker's row as checked JSON, the grader
  unpickling only plain data, a worker's temporary files gone even if it is killed;
- :mod:`~checks.grading.submissions`: finding the submissions, each classified once;
- :mod:`~checks.grading.parameters`, :mod:`~checks.grading.variants` and
  :mod:`~checks.grading.variant_keys`: the ``parameters`` cell, the values a variant gives it,
  and the solutions' hashed answers under a variant;
- :mod:`~checks.grading.contained_run`: one submission run afresh, in a folder of its own,
  with limits;
- :mod:`~checks.grading.withheld`: MNIST dealt for a chapter's runs with its score flags'
  labels withheld, kept by the grader to score the recorded predictions;
  :mod:`~checks.grading.literals`: a submission's large literals (a label table?) named;
- :mod:`~checks.grading.judging`: each flag's verdict from what the kernel recorded, by the
  judge :func:`checks.check` uses (:mod:`checks.judge`);
- :mod:`~checks.grading.status`: the statuses and verdicts;
- :mod:`~checks.grading.trust`: the grader's own files verified, its cache signed;
- :mod:`~checks.grading.gradebook`, :mod:`~checks.grading.run_record`,
  :mod:`~checks.grading.feedback` and :mod:`~checks.grading.report`: what is written.
"""

from checks.grading.session import GradingResult, grade_folder
from checks.grading.settings import GradingInputError, Settings
from checks.running.limits import Limits

__all__ = ["GradingInputError", "GradingResult", "Limits", "Settings", "grade_folder"]
