"""Grading on many machines: one Dask distributed task per submission.

``grade --scheduler tcp://host:8786`` sends every runnable submission to a Dask distributed
cluster. The grader keeps everything that decides a grade on its side of the wire and in the
course's code:

- a task carries the submission's **bytes** (the notebook, or the student's folder) and the
  grader's :class:`~checks.grading.settings.Settings` (the hashed answers of the solutions under
  the variant, the limits, the isolation asked for and the commit the grader verified itself
  against); never a path of the grader's;
- the worker (:func:`grade_task`) sets up its :class:`~checks.grading.step.Bench` once per
  process, as the grader does: it verifies **its own** ``checks`` files and refuses, with the row
  status ``refused: worker files differ``, when they are not those of the grader's commit; it
  chooses its isolation from the one asked for, loads the answer keys from its own verified
  package, and MNIST from its own ``MNIST_DATA_DIR`` (else its MNIST cache, else OpenML): the
  MNIST files are never sent;
- the run itself is :func:`~checks.grading.step.grade_submission`, as on the grader's machine,
  started and awaited from a long-lived thread of the worker process (bubblewrap's
  ``--die-with-parent`` is tied to the thread that started it);
- the grader streams the rows as tasks finish (:func:`grade_on_cluster`): one row per
  submission, never two. A task whose worker dies is re-run by the scheduler on another worker;
  one that still cannot finish gets a ``grader error`` row saying so.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from checks.grading.contained_run import prepare_mnist
from checks.grading.judging import Grade
from checks.grading.settings import GradingInputError, Settings
from checks.grading.status import RunStatus
from checks.grading.step import Bench, course_keys, grade_submission, trusted_machine, unrunnable
from checks.grading.submissions import Submission
from checks.grading.trust import UntrustedInstallation
from checks.grading.withheld import prepare_withheld

# A task whose worker dies is re-run by the scheduler; past this many lost workers it fails.
RETRIES = 2
# The most a student's folder may weigh when it is sent to a worker.
MAX_FOLDER_BYTES = 200 * 1024**2
# Runs are started and awaited from these threads, which live as long as the worker process.
_RUNNER = ThreadPoolExecutor(max_workers=32, thread_name_prefix="checks-grading-run")


@dataclass(frozen=True)
class Packed:
    """A submission with its files, relative to its student folder (or the file alone)."""

    submission: Submission
    files: dict[str, bytes]


def _regular_files(folder: Path) -> Iterator[Path]:
    """The regular files under ``folder``; links and special files are left out, as locally."""
    for current, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not os.path.islink(os.path.join(current, name))]
        for name in names:
            path = Path(current) / name
            if stat.S_ISREG(path.lstat().st_mode):
                yield path


def pack(submission: Submission) -> Packed:
    """The submission's bytes, to be graded on a machine that cannot see the grader's files."""
    assert submission.path is not None
    if submission.folder is None:
        return Packed(submission, {submission.path.name: submission.path.read_bytes()})
    files, size = {}, 0
    for path in _regular_files(submission.folder):
        size += path.lstat().st_size
        if size > MAX_FOLDER_BYTES:
            raise ValueError(f"{submission.folder} is larger than {MAX_FOLDER_BYTES} bytes")
        files[path.relative_to(submission.folder).as_posix()] = path.read_bytes()
    return Packed(submission, files)


def unpack(packed: Packed, target: Path) -> Submission:
    """Write the files under ``target``; return the submission as found there."""
    for name, content in packed.files.items():
        path = (target / name).resolve()
        if not path.is_relative_to(target.resolve()) or len(content) > MAX_FOLDER_BYTES:
            raise ValueError(f"refusing to unpack {name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    original = packed.submission
    assert original.path is not None
    if original.folder is None:
        return replace(original, path=target / original.path.name)
    return replace(original, path=target / original.name, folder=target)


@cache
def _worker_setup(isolation: str) -> Bench | str:
    """The worker process's bench, set up once, or why its files cannot be trusted."""
    try:
        verified, contained = trusted_machine(isolation)
    except UntrustedInstallation as error:
        return str(error)
    scratch = Path(tempfile.mkdtemp(prefix="checks-worker-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    mnist_dir = prepare_mnist(scratch / "mnist", report=lambda message: None)
    keys, mistakes = course_keys()
    withheld = prepare_withheld(mnist_dir, scratch / "withheld")
    return Bench(verified, contained, keys, mistakes, mnist_dir, withheld)


def _threads_per_run() -> int:
    """The cores of this machine shared among the worker's task threads."""
    try:
        from distributed import get_worker

        slots = get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        slots = 1
    return max(1, (os.cpu_count() or 1) // max(1, slots))


def grade_task(packed: Packed, settings: Settings) -> Grade:
    """Grade one submission on a worker, as the grader would locally (the Dask task).

    The row refers to the submission as the grader found it. A worker whose ``checks`` files
    differ from the grader's commit grades nothing: the row says so.
    """
    bench = _worker_setup(settings.isolation)
    if isinstance(bench, str) or bench.verified != settings.verified:
        why = bench if isinstance(bench, str) else f"{bench.verified}, not {settings.verified}"
        return Grade(packed.submission, RunStatus.WORKER_UNTRUSTED, detail=why)
    here_settings = replace(settings, limits=replace(settings.limits, threads=_threads_per_run()))
    with tempfile.TemporaryDirectory(prefix="checks-task-") as scratch:
        here = unpack(packed, Path(scratch) / "submission")
        grade = _RUNNER.submit(grade_submission, here, here_settings, bench).result()
    return replace(grade, submission=packed.submission)


def connect(scheduler: str) -> object:
    """A Dask client of the scheduler at ``scheduler``.

    Raises
    ------
    GradingInputError
        Dask distributed is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError as error:
        raise GradingInputError(
            "--scheduler needs Dask distributed: pip install -e '.[grading]'"
        ) from error
    try:
        return Client(scheduler, timeout="15s")
    except (OSError, TimeoutError) as error:
        raise GradingInputError(f"cannot reach the Dask scheduler {scheduler}: {error}") from error


def grade_on_cluster(
    submissions: list[Submission], settings: Settings, client: object
) -> Iterator[Grade]:
    """Grade every submission on the cluster of ``client``; yield each row as it is ready.

    Submissions that cannot run (not a notebook, refused) get their row at once, here. Every
    other one is one task, submitted with ``pure=False`` (never deduplicated or cached) and a
    unique key: a task lost with its worker is re-run, and its row is yielded once.
    """
    from distributed import as_completed

    runnable = []
    for submission in submissions:
        not_run = unrunnable(submission)
        if not_run is not None:
            yield not_run
        else:
            runnable.append(submission)
    batch = uuid.uuid4().hex[:8]
    futures = {}
    for index, submission in enumerate(runnable):
        try:
            packed = pack(submission)
        except (OSError, ValueError) as error:
            yield Grade(submission, RunStatus.GRADER_ERROR, detail=str(error))
            continue
        future = client.submit(  # type: ignore[attr-defined]
            grade_task,
            packed,
            settings,
            pure=False,
            retries=RETRIES,
            key=f"grade-{batch}-{index}",
        )
        futures[future.key] = (future, submission)
    done: set[str] = set()
    for future in as_completed([future for future, _ in futures.values()]):
        if future.key in done:
            continue
        done.add(future.key)
        submission = futures[future.key][1]
        try:
            yield future.result()
        except Exception as error:  # e.g. KilledWorker: the task's workers kept dying
            detail = f"{type(error).__name__}: {error}"
            yield Grade(submission, RunStatus.GRADER_ERROR, detail=detail)
