"""Run a solution notebook and take its answers: exactly one per flag, computed, never typed.

Both the answer keys (:mod:`checks.authoring.keys`) and the grader's variants
(:mod:`checks.grading.variants`) get their answers this way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from checks.canonical import BadAnswer
from checks.recording import RECORD_FILE, RecordedAnswer, read_records, recording_env
from checks.running.execute import run_notebook


class SolutionFailed(RuntimeError):
    """A solution notebook does not run, or does not answer each of its flags exactly one way."""


def run_solution(
    solution: Path,
    workdir: Path,
    *,
    parameters: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    cell_timeout: int = 600,
    python: Path | None = None,
) -> list[RecordedAnswer]:
    """Execute ``solution`` in ``workdir``, recording its answers; raise if a cell fails.

    ``python`` runs the notebook in another environment (see
    :func:`~checks.running.execute.run_notebook`).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    execution = run_notebook(
        solution,
        workdir / solution.name,
        parameters=parameters,
        env={**recording_env(workdir, solution.name), **(env or {})},
        cell_timeout=cell_timeout,
        python=python,
    )
    shown = f" with {parameters}" if parameters else ""
    if not execution.ok:
        raise SolutionFailed(f"{solution.name} fails{shown}:\n{execution.error_summary()}")
    return read_records(workdir / RECORD_FILE)


def one_answer_per_flag(
    records: Iterable[RecordedAnswer], expected: Iterable[str]
) -> dict[str, RecordedAnswer]:
    """The answer to each expected flag: every one answered, and only one way."""
    answers: dict[str, RecordedAnswer] = {}
    for record in records:
        try:
            text = record.canonical
        except (BadAnswer, KeyError) as error:
            raise SolutionFailed(f"flag {record.flag}: the solution checks {error}") from None
        known = answers.setdefault(record.flag, record)
        if known.canonical != text:
            raise SolutionFailed(
                f"flag {record.flag} is answered two different ways ({known.notebook}, "
                f"{record.notebook})"
            )
    missing = [flag_id for flag_id in expected if flag_id not in answers]
    if missing:
        raise SolutionFailed(f"no solution answers flag(s) {', '.join(missing)}")
    return answers
