"""Run one submission afresh, contained, and collect the values its kernel checked.

A run happens in a temporary folder of its own: a copy of the submission, a copy of the MNIST
files, a fresh progress store and ``HOME``, an environment that carries nothing else of the
grader's, a per-cell and a per-notebook time limit, and limits on what its processes may use,
each and together (:mod:`checks.running.limits`, :mod:`checks.running.confinement`). The
kernel records every value it checks (:mod:`checks.recording`); what the notebook prints is
ignored.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from checks.files import read_regular_file
from checks.grading.parameters import tag_parameters_cell
from checks.grading.status import CellError, RunStatus
from checks.grading.submissions import FOLDER_LIMITS, MAX_NOTEBOOK_BYTES, Submission
from checks.mnist import CACHE_DIR_VARIABLE, DATA_DIR_VARIABLE, IDX_FILES, read_idx_folder
from checks.recording import RECORD_FILE, read_records, recording_env
from checks.running.confinement import confined_space, hand_over, out_of_memory
from checks.running.execute import Execution, run_notebook
from checks.running.isolation import Isolation
from checks.running.limits import MARKER_VARIABLE, Limits, kill_marked, new_marker
from checks.running.tree import copy_file, copy_tree, refusal

_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class Run:
    """One execution of a submission: how it ended and what its kernel answered."""

    status: RunStatus
    error: CellError | None
    answers: dict[str, list[object]]
    seconds: float


def kernel_environment(workdir: Path, notebook_name: str, marker: str, threads: int) -> dict:
    """The whole environment of a submission's kernel: nothing of the grader's but the basics."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    for folder in ("home", "tmp", "progress", "mnist-cache"):
        (workdir / folder).mkdir(exist_ok=True)
    return {
        **env,
        **recording_env(workdir, notebook_name),
        "HOME": str(workdir / "home"),
        "TMPDIR": str(workdir / "tmp"),
        "MPLBACKEND": "Agg",
        DATA_DIR_VARIABLE: str(workdir / "mnist"),
        CACHE_DIR_VARIABLE: str(workdir / "mnist-cache"),
        MARKER_VARIABLE: marker,
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "LOKY_MAX_CPU_COUNT": str(threads),
    }


class TooBig(ValueError):
    """A student folder is too deep or too big to copy for a run (the message says which)."""


def copy_submission(submission: Submission, workdir: Path, mnist_dir: Path) -> Path:
    r"""Copy the submission (its student folder, or the file alone) and MNIST into ``workdir``.

    A student folder is measured first (:data:`~checks.grading.submissions.FOLDER_LIMITS`) and
    refused with :class:`TooBig` past it; it is copied without its links and special files, a
    sparse file with its holes kept. A notebook whose name is not UTF-8 runs under a name that
    is (``ma\xefs.ipynb`` → ``ma_xefs.ipynb``), at the top of the copy.
    """
    assert submission.path is not None
    target = workdir / "submission"
    if submission.folder is not None:
        too_big = refusal(submission.folder, FOLDER_LIMITS)
        if too_big is not None:
            raise TooBig(too_big)
        copy_tree(submission.folder, target)
    else:
        target.mkdir()
        copy_file(submission.path, target / submission.path.name)
    copy_tree(mnist_dir, workdir / "mnist")
    notebook = target / submission.name
    if not _is_utf8(str(notebook)):  # papermill writes its path into the notebook, as UTF-8
        safe = target / os.fsencode(notebook.name).decode("utf-8", "backslashreplace").replace(
            "\\", "_"
        )
        os.replace(notebook, safe)
        notebook = safe
    return notebook


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a name that is not UTF-8, kept by Python as surrogates
        return False
    return True


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The submission's own code cells (not papermill's injected parameters)."""
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", [])
    ]


def _error_output(cell: nbformat.NotebookNode) -> dict | None:
    return next((out for out in cell.get("outputs", []) if out.output_type == "error"), None)


def _cell_error(index: int, cell: nbformat.NotebookNode, name: str, message: str) -> CellError:
    first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
    return CellError(index + 1, name, message.strip()[:300], first_line.strip()[:80])


def _started(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("papermill", {}).get("start_time"))


def _interrupted(cell: nbformat.NotebookNode) -> bool:
    return (_error_output(cell) or {}).get("ename") == "KeyboardInterrupt"


def first_error(execution: Execution) -> tuple[RunStatus, CellError | None]:
    """The run's status and its first failing cell, from papermill's output notebook and log."""
    content = read_regular_file(execution.output, MAX_NOTEBOOK_BYTES)
    try:
        cells = _code_cells(nbformat.reads(content.decode("utf-8"), as_version=4))
    except Exception:  # killed before papermill wrote anything, or not a notebook at all
        cells = []
    started = [index for index, cell in enumerate(cells) if _started(cell)]
    last = started[-1] if started else None
    if execution.timed_out or "CellTimeoutError" in execution.log:
        where = next((i for i, cell in enumerate(cells) if _interrupted(cell)), last)
        limit = "notebook" if execution.timed_out else "cell"
        if where is None:
            return RunStatus.TIMEOUT, None
        return RunStatus.TIMEOUT, _cell_error(
            where, cells[where], "Timeout", f"stopped: the {limit} time limit ran out"
        )
    if "DeadKernelError" in execution.log and last is not None:
        message = "the kernel died (os._exit, a crash, or running out of memory)"
        return RunStatus.ERROR, _cell_error(last, cells[last], "DeadKernel", message)
    for index, cell in enumerate(cells):
        output = _error_output(cell)
        if cell.metadata.get("papermill", {}).get("exception") and output is not None:
            error = _cell_error(index, cell, output.get("ename", "Error"), output.get("evalue", ""))
            if error.name.endswith("MemoryError"):
                return RunStatus.MEMORY, error
            return RunStatus.ERROR, error
    if not execution.ok:
        return RunStatus.ERROR, CellError(0, "Error", execution.error_summary()[-300:], "")
    return RunStatus.OK, None


def answers_by_flag(record_file: Path) -> dict[str, list[object]]:
    """The values the kernel checked, by flag, in order."""
    answers: dict[str, list[object]] = {}
    for record in read_records(record_file):
        answers.setdefault(record.flag, []).append(record.value)
    return answers


def run_submission(
    submission: Submission,
    mnist_dir: Path,
    limits: Limits,
    parameters: dict[str, object] | None = None,
    isolation: Isolation | None = None,
) -> Run:
    """Execute one submission in a temporary folder of its own and collect its answers.

    With an ``isolation`` that isolates, the run also gets namespaces of its own: it sees
    nothing of the machine but the system, Python, the ``checks`` package (read-only) and its
    folder, has no network, and every process it started dies with it. Whatever the isolation,
    the run is held to ``limits`` as a whole where this machine allows
    (:func:`~checks.running.confinement.confined_space`: its own control groups, a disk of its
    own, an unprivileged uid), and its folder is removed afterwards at any depth.
    """
    started = time.perf_counter()
    marker = new_marker()
    contained = isolation is not None and isolation.isolated
    with confined_space(limits, isolated=contained) as space:
        workdir = space.folder
        try:
            notebook = copy_submission(submission, workdir, mnist_dir)
        except TooBig as error:
            refused = CellError(0, "TooBig", str(error), "")
            return Run(RunStatus.REFUSED_SIZE, refused, {}, time.perf_counter() - started)
        if parameters:
            tag_parameters_cell(notebook, set(parameters))
        env = kernel_environment(workdir, notebook.name, marker, limits.threads)
        hand_over(workdir, space.outside.uid)
        try:
            execution = run_notebook(
                notebook,
                workdir / "executed.ipynb",
                parameters=parameters,
                env=env,
                inherit_env=False,
                cell_timeout=limits.cell_timeout,
                timeout=limits.timeout,
                isolation=isolation,
                workdir=workdir,
                limits=limits,
                space=space,
            )
        finally:
            kill_marked(marker)
        status, error = first_error(execution)
        if status is RunStatus.ERROR and out_of_memory(space):  # killed in its memory group
            status = RunStatus.MEMORY
        answers = answers_by_flag(workdir / RECORD_FILE)
    return Run(status, error, answers, time.perf_counter() - started)


def prepare_mnist(target: Path, report: Callable[[str], None] = print) -> Path:
    """Write verified raw MNIST files into ``target``, copied into every run; return it."""
    source = os.environ.get(DATA_DIR_VARIABLE)
    if source:
        raw = read_idx_folder(Path(source).expanduser())
    else:
        from checks.mnist import cache_dir, fetch_mnist

        report(f"{DATA_DIR_VARIABLE} is not set: loading MNIST once (cache or OpenML) ...")
        fetch_mnist(verbose=False)
        raw = read_idx_folder(cache_dir())
    target.mkdir(parents=True, exist_ok=True)
    for key, spec in IDX_FILES.items():
        (target / spec.name).write_bytes(raw[key])
    return target
