"""The solutions executed in one environment: its :class:`~.results.EnvironmentResult`.

What the results are, and their local file, is :mod:`checks.authoring.compatibility.results`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from checks.authoring.compatibility.declared import Environment
from checks.authoring.compatibility.results import EnvironmentResult
from checks.authoring.solution_runs import SolutionFailed, one_answer_per_flag
from checks.canonical import BadAnswer
from checks.catalogue import get_flag
from checks.layout import chapter_notebooks
from checks.recording import RECORD_FILE, read_records, recording_env
from checks.running.execute import run_notebook

# Variables of this process that must not reach another environment's kernel.
_NOT_PASSED_ON = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CHECKS_STRICT", "CHECKS_RECORD")


def kernel_environment(workdir: Path, notebook: str) -> dict[str, str]:
    """The environment of another interpreter's kernel, recording into ``workdir``."""
    inherited = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED_ON}
    return {**inherited, **recording_env(workdir, notebook)}


def execute_in(
    environment: Environment,
    python: Path,
    solutions_dir: Path,
    workdir: Path,
    expected_flags: dict[int, list[str]],
    *,
    chapters: list[int] | None = None,
    report: Callable[[str], None] = print,
) -> EnvironmentResult:
    """Execute the solution notebooks (of ``chapters``, all when None) with ``python``.

    One answer per flag answered.
    A notebook that fails (an import error, a removed API) leaves the flags it did not answer
    out of the answers, and its error in ``failures``. ``expected_flags`` maps each chapter to
    its flag ids.
    """
    started = time.perf_counter()
    answers: dict[str, str] = {}
    failures: dict[str, str] = {}
    chapter_seconds: dict[str, float] = {}
    for chapter, notebook in chapter_notebooks(solutions_dir).items():
        if chapters is not None and chapter not in chapters:
            continue
        folder = workdir / notebook.stem
        folder.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        execution = run_notebook(
            notebook,
            folder / notebook.name,
            env=kernel_environment(folder, notebook.name),
            inherit_env=False,
            python=python,
        )
        records = read_records(folder / RECORD_FILE)
        if not execution.ok:
            failures[notebook.name] = execution.error_summary()
        try:
            found = one_answer_per_flag(records, [])
            answers.update(
                {
                    flag_id: answer.canonical
                    for flag_id, answer in found.items()
                    if get_flag(flag_id).keyed  # a score flag has no key to compare
                }
            )
        except (SolutionFailed, BadAnswer) as error:
            failures[notebook.name] = f"{failures.get(notebook.name, '')}\n{error}".strip()
        missing = [flag_id for flag_id in expected_flags.get(chapter, []) if flag_id not in answers]
        state = "ok" if execution.ok and not missing else f"FAILED (no answer to {missing})"
        chapter_seconds[str(chapter)] = round(time.perf_counter() - began, 1)
        report(f"  {notebook.name}: {state}, {chapter_seconds[str(chapter)]:.0f} s")
    return EnvironmentResult(
        environment,
        answers,
        failures,
        round(time.perf_counter() - started, 1),
        datetime.now(UTC).strftime("%Y-%m-%d"),
        chapter_seconds,
    )
