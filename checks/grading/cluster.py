"""Grading on many machines: one Dask distributed task per submission, on the course's cluster.

``grade --scheduler tls://host:8786 --cluster-certs DIR`` sends every runnable submission to a
Dask distributed cluster that only the instructor's machines can join (mutual TLS,
:mod:`checks.grading.cluster_tls`; a plain ``tcp://`` one only with ``--insecure-cluster``). The
grader keeps everything that decides a grade on its side of the wire and in the course's code:

- a submission's **bytes** (the notebook, or the student's folder) are scattered to the cluster
  once, as data, and the task refers to them: they are not in the task graph, so the scheduler's
  memory does not grow with the class. The task also carries the grader's
  :class:`~checks.grading.settings.Settings` (the hashed answers of the solutions under the
  variant, the limits, the isolation asked for and the commit the grader verified itself
  against); never a path of the grader's;
- the worker (:func:`grade_task`) sets up its :class:`~checks.grading.step.Bench` once per
  process, as the grader does: it verifies **its own** ``checks`` files and refuses, with the row
  status ``refused: worker files differ``, when they are not those of the grader's commit; it
  chooses its isolation from the one asked for, loads the answer keys from its own verified
  package, and MNIST from its own ``MNIST_DATA_DIR`` (else its MNIST cache, else OpenML): the
  MNIST files are never sent. Its temporary files live in a folder of its own, removed when it
  exits or, if it was killed, by the next worker to start (:mod:`checks.grading.worker_scratch`);
- the run itself is :func:`~checks.grading.step.grade_submission`, as on the grader's machine,
  started and awaited from a long-lived thread of the worker process (bubblewrap's
  ``--die-with-parent`` is tied to the thread that started it);
- the task returns **JSON text**, never an object, and the grader reads it only once it has
  checked it against the schema (:mod:`checks.grading.result_schema`); while connected, the
  grader's process unpickles nothing from Dask's wire but plain data and exceptions
  (:mod:`checks.grading.safe_unpickling`). A result that is not a grade is that submission's
  one-line ``grader error``;
- the grader streams the rows as tasks finish (:func:`grade_on_cluster`): one row per
  submission, never two. A task whose worker dies while running it is submitted once more (the
  scheduler retries nothing itself: the grader counts, from the start each task announces); a
  submission whose runs kill two workers gets a one-line ``grader error``; one that was only
  waiting on the dead worker is submitted again without counting, and keeps its grade.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from checks.grading.cluster_tls import ClusterSecurityError, check_address, client_security
from checks.grading.contained_run import prepare_mnist
from checks.grading.judging import Grade
from checks.grading.result_schema import ResultRejected, grade_from_json, grade_to_json
from checks.grading.safe_unpickling import plain_pickles_only
from checks.grading.settings import GradingInputError, Settings
from checks.grading.status import RunStatus
from checks.grading.step import Bench, course_keys, grade_submission, trusted_machine, unrunnable
from checks.grading.submissions import Submission
from checks.grading.trust import UntrustedInstallation
from checks.grading.withheld import prepare_withheld
from checks.grading.worker_scratch import claim

#: How many times a submission is run on the cluster at most: once, and once more elsewhere if
#: its worker died while running it. A submission whose runs killed this many workers gets a
#: one-line error.
ATTEMPTS = 2
#: A task lost with a worker before it started (it waited there behind another) is submitted
#: again without counting, this many times at most; past them, its losses count too.
FREE_RETRIES = 3
#: The Dask event topic a task announces its start under, so a death is counted only against
#: the submissions that were running.
STARTED_TOPIC = "checks-grading-started"
# Tries at placing a submission's files on a worker (one may die while they are sent).
SCATTER_ATTEMPTS = 3
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
    """The worker process's bench, set up once, or why its files cannot be trusted.

    First the process claims its temporary folder (removing what killed workers left).
    """
    scratch, _ = claim()
    try:
        verified, contained = trusted_machine(isolation)
    except UntrustedInstallation as error:
        return str(error)
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


def _grade_here(packed: Packed, settings: Settings) -> Grade:
    bench = _worker_setup(settings.isolation)
    if isinstance(bench, str) or bench.verified != settings.verified:
        why = bench if isinstance(bench, str) else f"{bench.verified}, not {settings.verified}"
        return Grade(packed.submission, RunStatus.WORKER_UNTRUSTED, detail=why)
    here_settings = replace(settings, limits=replace(settings.limits, threads=_threads_per_run()))
    with tempfile.TemporaryDirectory(prefix="checks-task-", ignore_cleanup_errors=True) as scratch:
        here = unpack(packed, Path(scratch) / "submission")
        return _RUNNER.submit(grade_submission, here, here_settings, bench).result()


def _announce_start() -> None:
    """Tell the scheduler this task started (an event of :data:`STARTED_TOPIC`, plain data)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        worker.log_event(STARTED_TOPIC, {"key": str(worker.get_current_task())})
    except (ImportError, ValueError, AttributeError):  # not on a Dask worker
        pass


def _started(client: object) -> set[str]:
    """The keys of the tasks that announced their start."""
    events = client.get_events(STARTED_TOPIC)  # type: ignore[attr-defined]
    return {str(message.get("key")) for _, message in events if isinstance(message, dict)}


def grade_task(packed: Packed, settings: Settings) -> str:
    """Grade one submission on a worker, as the grader would locally (the Dask task).

    A worker whose ``checks`` files differ from the grader's commit grades nothing: the row says
    so. The task never raises: what goes wrong on the worker is the row's ``grader error``.

    Parameters
    ----------
    packed : Packed
        The submission and its files (scattered to the cluster by the grader).
    settings : Settings
        The grader's settings.

    Returns
    -------
    str
        The row as JSON text (:func:`~checks.grading.result_schema.grade_to_json`).
    """
    _announce_start()
    try:
        grade = _grade_here(packed, settings)
    except Exception as error:  # the worker's own failure: this row's, not the task's
        grade = Grade(packed.submission, RunStatus.GRADER_ERROR, detail=f"on the worker: {error}")
    return grade_to_json(grade)


def _no_scheduler_retries(client: object) -> None:
    """Have the scheduler fail a task at its first lost worker: the grader retries, and counts."""
    client.run_on_scheduler(  # type: ignore[attr-defined]
        lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0)
    )


def check_access(scheduler: str, certificates: Path | None = None, insecure: bool = False) -> str:
    """The transport to ``scheduler`` if the grader may use it (before anything else is done).

    Parameters
    ----------
    scheduler : str
        ``tls://host:port`` (or ``tcp://host:port`` with ``insecure``).
    certificates : Path, optional
        The folder of ``python -m checks cluster certs`` (needed for ``tls://``).
    insecure : bool, default=False
        Accept a plain ``tcp://`` scheduler.

    Returns
    -------
    str
        ``"tls"`` or ``"tcp"``.

    Raises
    ------
    GradingInputError
        A plain ``tcp://`` address without ``insecure``, or ``tls://`` without certificates.
    """
    try:
        return check_address(scheduler, certificates, insecure)
    except ClusterSecurityError as error:
        raise GradingInputError(str(error)) from None


def connect(scheduler: str, certificates: Path | None = None, insecure: bool = False) -> object:
    """A Dask client of the scheduler at ``scheduler``, with the grader's certificate.

    Parameters
    ----------
    scheduler : str
        ``tls://host:port`` (or ``tcp://host:port`` with ``insecure``).
    certificates : Path, optional
        The folder of ``python -m checks cluster certs`` (needed for ``tls://``).
    insecure : bool, default=False
        Accept a plain ``tcp://`` scheduler.

    Returns
    -------
    distributed.Client
        Connected; the scheduler set to leave retries to the grader.

    Raises
    ------
    GradingInputError
        Dask distributed is not installed, the address is refused (plain ``tcp://`` without
        ``insecure``, ``tls://`` without certificates), or the scheduler cannot be reached.
    """
    transport = check_access(scheduler, certificates, insecure)
    try:
        from distributed import Client
    except ImportError as error:
        raise GradingInputError(
            "--scheduler needs Dask distributed: pip install -e '.[grading]'"
        ) from error
    options = {}
    if transport == "tls":
        assert certificates is not None
        options["security"] = client_security(certificates)
    try:
        client = Client(scheduler, timeout="15s", **options)
    except (OSError, TimeoutError) as error:
        raise GradingInputError(f"cannot reach the Dask scheduler {scheduler}: {error}") from error
    _no_scheduler_retries(client)
    return client


@contextlib.contextmanager
def cluster_client(
    scheduler: str, certificates: Path | None = None, insecure: bool = False
) -> Iterator[object]:
    """:func:`connect`, with this process unpickling only plain data while connected."""
    with plain_pickles_only():
        client = connect(scheduler, certificates, insecure)
        try:
            yield client
        finally:
            client.close()  # type: ignore[attr-defined]


def _scatter(client: object, packed: Packed) -> object:
    """Send a submission's files to one worker, once; again if that worker died meanwhile.

    Raises
    ------
    OSError
        The files could not be placed on any worker, three times.
    """
    for attempt in range(SCATTER_ATTEMPTS):
        try:
            return client.scatter(packed, hash=False)  # type: ignore[attr-defined]
        except OSError:  # the worker chosen died (a submission killed it): another one
            if attempt == SCATTER_ATTEMPTS - 1:
                raise
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def _worker_died(error: BaseException) -> bool:
    """Whether a task failed because a worker was lost (it, or the worker holding its files)."""
    import asyncio
    import concurrent.futures

    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    cancelled = (asyncio.CancelledError, concurrent.futures.CancelledError, FutureCancelledError)
    return isinstance(error, (KilledWorker, *cancelled))


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:160]


def grade_on_cluster(
    submissions: list[Submission], settings: Settings, client: object
) -> Iterator[Grade]:
    """Grade every submission on the cluster of ``client``; yield each row as it is ready.

    Submissions that cannot run (not a notebook, refused) get their row at once, here. Every
    other one is scattered to the cluster once and graded by one task, submitted with
    ``pure=False`` (never deduplicated or cached) and a unique key. A task whose worker died is
    submitted again, once; the second death is the submission's ``grader error``. A result that
    is not a grade by the schema is too.
    """
    from distributed import as_completed

    batch, numbers = uuid.uuid4().hex[:8], itertools.count()
    # By key: the submission, the workers its runs killed, its losses that did not count.
    tasks: dict[str, tuple[Submission, int, int]] = {}
    running = as_completed()

    def submit(submission: Submission, packed: Packed, deaths: int, free: int) -> None:
        files = _scatter(client, packed)
        key = f"grade-{batch}-{next(numbers)}"
        future = client.submit(  # type: ignore[attr-defined]
            grade_task, files, settings, pure=False, retries=0, key=key
        )
        tasks[key] = (submission, deaths, free)
        running.add(future)

    for submission in submissions:
        not_run = unrunnable(submission)
        if not_run is not None:
            yield not_run
            continue
        try:
            submit(submission, pack(submission), 0, 0)  # the grader keeps none of the files
        except (OSError, ValueError) as error:
            yield Grade(submission, RunStatus.GRADER_ERROR, detail=_one_line(error))
    for future in running:
        submission, deaths, free = tasks.pop(future.key)
        try:
            text = future.result()
        except Exception as error:
            if _worker_died(error):
                if future.key in _started(client) or free >= FREE_RETRIES:
                    deaths += 1  # it was running when its worker died
                else:
                    free += 1  # it was waiting behind another: not its doing
            if _worker_died(error) and deaths < ATTEMPTS:
                try:  # its files may have been lost with the worker: scattered afresh
                    submit(submission, pack(submission), deaths, free)
                    continue
                except (OSError, ValueError) as again:
                    error = again
            if _worker_died(error):
                detail = f"its runs killed {deaths} workers ({type(error).__name__})"
            else:
                detail = f"the worker's answer was refused ({_one_line(error)})"
            yield Grade(submission, RunStatus.GRADER_ERROR, detail=detail)
            continue
        finally:
            future.release()
        try:
            yield grade_from_json(text, submission)
        except ResultRejected as error:
            detail = f"the worker's result is not a grade: {error}"
            yield Grade(submission, RunStatus.GRADER_ERROR, detail=detail)
