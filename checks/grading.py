"""Grade submitted notebooks: run each afresh, contained, and judge what its kernel computed.

A run happens in a temporary folder of its own: a copy of the submission, a copy of the MNIST
files, a fresh progress store and ``HOME``, an environment that carries nothing else of the
grader's, a per-cell and a per-notebook time limit and a memory limit (:mod:`checks.sandbox`).
Every ``checks.check`` call in the kernel appends the value to a record file (record mode); the
grader reads it and judges each value itself, against the answer keys and, with a variant,
against the solution's answers under the same parameters. What the notebook prints is ignored.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from checks.canonical import BadAnswer, candidates
from checks.catalogue import Flag, flags
from checks.checker import RECORD_VARIABLE
from checks.execute import Execution, run_notebook
from checks.hashing import AnswerKey
from checks.mnist import CACHE_DIR_VARIABLE, DATA_DIR_VARIABLE, IDX_FILES, read_idx_folder
from checks.sandbox import MARKER_VARIABLE, kill_marked, new_marker
from checks.store import HOME_VARIABLE
from checks.submissions import Submission, chapter_of, read_notebook
from checks.variants import PARAMETERS_TAG, VariantKeys, assigned_values, parameters_cell

OK, TIMEOUT, MEMORY, NOT_A_NOTEBOOK = "ok", "timeout", "memory", "not a notebook"
NO_CHAPTER = "not a course notebook"

# Verdicts on one flag.
CAPTURED = "captured"
NOT_ANSWERED = "not answered"
WRONG = "wrong"
SEVERAL = "answered more than one way"
NOT_UNDER_VARIANT = "right as submitted, but not when re-run with other parameters"

_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")
GIB = 1024**3


@dataclass(frozen=True)
class Limits:
    """What one run of a submission may use."""

    cell_timeout: int = 300
    timeout: int = 1800
    memory: int | None = 4 * GIB
    threads: int = 1


@dataclass(frozen=True)
class CellError:
    """The first cell that failed in a run."""

    cell: int  # 1-based, among the notebook's code cells
    name: str
    message: str
    source: str  # the cell's first line, to find it


@dataclass(frozen=True)
class Run:
    """One execution of a submission: how it ended and what its kernel answered."""

    status: str
    error: CellError | None
    answers: dict[str, list[object]]
    seconds: float


@dataclass(frozen=True)
class FlagGrade:
    """The points one flag earned and why."""

    flag: Flag
    verdict: str

    @property
    def points(self) -> int:
        """The flag's points if captured, else 0."""
        return self.flag.points if self.verdict == CAPTURED else 0


@dataclass(frozen=True)
class Grade:
    """One gradebook row: a student's notebook, its status and its flags."""

    submission: Submission
    chapter: int | None
    status: str
    flags: list[FlagGrade] = field(default_factory=list)
    error: CellError | None = None
    variant_status: str = ""
    variant_error: CellError | None = None
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """Points earned in this notebook."""
        return sum(grade.points for grade in self.flags)

    @property
    def possible(self) -> int:
        """Points this notebook's chapter is worth."""
        return sum(grade.flag.points for grade in self.flags)


@dataclass(frozen=True)
class Course:
    """What the grader knows: answer keys, chapters, variants, where MNIST is."""

    keys: dict[str, AnswerKey]
    stems: dict[int, str]  # chapter number -> notebook name, "01_mnist_binary"
    mnist_dir: Path
    limits: Limits = Limits()
    variants: dict[int, VariantKeys] = field(default_factory=dict)


def chapter_flags(chapter: int) -> list[Flag]:
    """The flags of one chapter, in order."""
    return [flag for flag in flags().values() if flag.chapter == chapter]


# --- Running one submission ------------------------------------------------------------------


def kernel_environment(workdir: Path, notebook_name: str, marker: str, threads: int) -> dict:
    """The whole environment of a submission's kernel: nothing of the grader's but the basics."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    for folder in ("home", "tmp", "progress", "mnist-cache"):
        (workdir / folder).mkdir(exist_ok=True)
    return {
        **env,
        "HOME": str(workdir / "home"),
        "TMPDIR": str(workdir / "tmp"),
        "MPLBACKEND": "Agg",
        HOME_VARIABLE: str(workdir / "progress"),
        RECORD_VARIABLE: str(workdir / "answers.jsonl"),
        "CHECKS_NOTEBOOK": notebook_name,
        DATA_DIR_VARIABLE: str(workdir / "mnist"),
        CACHE_DIR_VARIABLE: str(workdir / "mnist-cache"),
        MARKER_VARIABLE: marker,
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "LOKY_MAX_CPU_COUNT": str(threads),
    }


def copy_submission(submission: Submission, workdir: Path, mnist_dir: Path) -> Path:
    """Copy the submission (its student folder, or the file alone) and MNIST into ``workdir``."""
    assert submission.path is not None
    target = workdir / "submission"
    if submission.folder is not None:
        shutil.copytree(submission.folder, target, symlinks=True)
    else:
        target.mkdir()
        shutil.copy2(submission.path, target / submission.path.name)
    shutil.copytree(mnist_dir, workdir / "mnist")
    return target / submission.name


def tag_parameters_cell(notebook_path: Path, parameter_names: set[str]) -> None:
    """Tag the cell that sets the parameters if the tag was lost (some editors drop tags).

    Without the tag papermill would inject the variant's values at the top, where the
    notebook's own assignments would override them.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    if parameters_cell(notebook) is not None or not parameter_names:
        return
    for cell in notebook.cells:
        if cell.cell_type == "code" and parameter_names <= set(assigned_values(cell.source)):
            cell.metadata.setdefault("tags", []).append(PARAMETERS_TAG)
            nbformat.write(notebook, notebook_path)
            return


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


def first_error(execution: Execution) -> tuple[str, CellError | None]:
    """The run's status and its first failing cell, from papermill's output notebook and log."""
    try:
        cells = _code_cells(nbformat.read(execution.output, as_version=4))
    except Exception:  # killed before papermill wrote anything
        cells = []
    started = [index for index, cell in enumerate(cells) if _started(cell)]
    last = started[-1] if started else None
    if execution.timed_out or "CellTimeoutError" in execution.log:
        where = next((i for i, cell in enumerate(cells) if _interrupted(cell)), last)
        limit = "notebook" if execution.timed_out else "cell"
        if where is None:
            return TIMEOUT, None
        return TIMEOUT, _cell_error(
            where, cells[where], "Timeout", f"stopped: the {limit} time limit ran out"
        )
    if "DeadKernelError" in execution.log and last is not None:
        message = "the kernel died (os._exit, a crash, or running out of memory)"
        return f"error in cell {last + 1}", _cell_error(last, cells[last], "DeadKernel", message)
    for index, cell in enumerate(cells):
        output = _error_output(cell)
        if cell.metadata.get("papermill", {}).get("exception") and output is not None:
            error = _cell_error(index, cell, output.get("ename", "Error"), output.get("evalue", ""))
            if error.name.endswith("MemoryError"):
                return MEMORY, error
            return f"error in cell {index + 1}", error
    if not execution.ok:
        return "error in cell ?", CellError(0, "Error", execution.error_summary()[-300:], "")
    return OK, None


def read_answers(record_file: Path) -> dict[str, list[object]]:
    """The values the kernel checked, by flag; lines that are not a proper record are ignored."""
    answers: dict[str, list[object]] = {}
    if not record_file.is_file():
        return answers
    for line in record_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            flag_id, value = str(entry["flag"]), entry["value"]
        except (ValueError, KeyError, TypeError):
            continue
        answers.setdefault(flag_id, []).append(value)
    return answers


def run_submission(
    submission: Submission,
    course: Course,
    parameters: dict[str, object] | None = None,
) -> Run:
    """Execute one submission in a temporary folder of its own and collect its answers."""
    started = time.perf_counter()
    marker = new_marker()
    with tempfile.TemporaryDirectory(prefix="checks-grade-", ignore_cleanup_errors=True) as scratch:
        workdir = Path(scratch)
        notebook = copy_submission(submission, workdir, course.mnist_dir)
        if parameters:
            tag_parameters_cell(notebook, set(parameters))
        env = kernel_environment(workdir, notebook.name, marker, course.limits.threads)
        try:
            execution = run_notebook(
                notebook,
                workdir / "executed.ipynb",
                parameters=parameters,
                env=env,
                inherit_env=False,
                cell_timeout=course.limits.cell_timeout,
                timeout=course.limits.timeout,
                memory_limit=course.limits.memory,
            )
        finally:
            kill_marked(marker)
        status, error = first_error(execution)
        answers = read_answers(workdir / "answers.jsonl")
    return Run(status, error, answers, time.perf_counter() - started)


# --- Judging -----------------------------------------------------------------------------------


def _canonical_set(flag: Flag, values: list[object]) -> set[str] | None:
    """The distinct canonical answers among ``values``; None if one cannot be an answer."""
    try:
        return {candidates(flag, value)[0] for value in values}
    except BadAnswer:
        return None


def is_right(flag: Flag, value: object, key: AnswerKey | None) -> bool:
    """Whether ``value`` matches ``key`` (a float may fall in the neighbouring rounding bucket)."""
    if key is None:
        return False
    try:
        texts = candidates(flag, value)
    except BadAnswer:
        return False
    return any(key.matches(flag.id, text) for text in texts)


def judge_flag(
    flag: Flag,
    submitted: list[object],
    key: AnswerKey | None,
    under_variant: list[object] | None = None,
    variant_key: AnswerKey | None = None,
) -> FlagGrade:
    """A flag earns its points when answered one way and right, and right under the variant too."""
    if not submitted:
        return FlagGrade(flag, NOT_ANSWERED)
    distinct = _canonical_set(flag, submitted)
    if distinct is None:
        return FlagGrade(flag, WRONG)
    if len(distinct) > 1:
        return FlagGrade(flag, SEVERAL)
    if not is_right(flag, submitted[-1], key):
        return FlagGrade(flag, WRONG)
    if variant_key is not None:
        values = under_variant or []
        answered_once = bool(values) and len(_canonical_set(flag, values) or ()) == 1
        if not answered_once or not is_right(flag, values[-1], variant_key):
            return FlagGrade(flag, NOT_UNDER_VARIANT)
    return FlagGrade(flag, CAPTURED)


def grade_submission(submission: Submission, course: Course) -> Grade:
    """Run a submission (and its variant), then judge every flag of its chapter."""
    notebook = read_notebook(submission.path) if submission.is_notebook_file else None
    if notebook is None:
        return Grade(submission, None, NOT_A_NOTEBOOK)
    chapter = chapter_of(notebook, submission.name, course.stems)
    if chapter is None:
        return Grade(submission, None, NO_CHAPTER)
    run = run_submission(submission, course)
    variant = course.variants.get(chapter)
    variant_run = run_submission(submission, course, variant.parameters) if variant else None
    grades = [
        judge_flag(
            flag,
            run.answers.get(flag.id, []),
            course.keys.get(flag.id),
            variant_run.answers.get(flag.id, []) if variant_run else None,
            variant.keys.get(flag.id) if variant else None,
        )
        for flag in chapter_flags(chapter)
    ]
    return Grade(
        submission,
        chapter,
        run.status,
        grades,
        run.error,
        variant_run.status if variant_run else "",
        variant_run.error if variant_run else None,
        run.seconds + (variant_run.seconds if variant_run else 0.0),
    )


def grade_all(submissions: list[Submission], course: Course, jobs: int = 1) -> Iterator[Grade]:
    """Grade every submission, ``jobs`` at a time; yield each grade as it is ready.

    A submission that breaks the grader itself (it should not happen) still yields a row, with
    the error as its status, so no submission stops the batch.
    """
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_submission, sub, course): sub for sub in submissions}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a grader bug must not lose the other rows
                yield Grade(futures[future], None, f"grader error: {error}"[:200])


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
