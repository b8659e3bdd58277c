"""Run a solution notebook and take its answers: exactly one per flag, computed, never typed.

Both the answer keys (:mod:`checks.authoring.keys`) and the grader's variants
(:mod:`checks.grading.variants`) get their answers this way. Regenerating the keys also records
how long each solution took (:data:`SECONDS_FILE`): the grader's time limit per run is a
multiple of it (:func:`checks.grading.step.run_timeout`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from checks.canonical import BadAnswer
from checks.files import atomic_write_text
from checks.recording import RECORD_FILE, RecordedAnswer, read_records, recording_env
from checks.running.execute import run_notebook

SECONDS_FILE = Path(__file__).resolve().parent.parent / "solution_seconds.json"
"""Each chapter's solution run time in seconds, measured when the keys were last made."""


def solution_seconds(path: Path = SECONDS_FILE) -> dict[int, float]:
    """The measured run time of each chapter's solution, in seconds (empty if none recorded)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(chapter): float(seconds) for chapter, seconds in data["seconds"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def record_solution_seconds(seconds: Mapping[int, float], path: Path = SECONDS_FILE) -> None:
    """Record the run times of the solutions just run, keeping the other chapters' figures."""
    merged = {**solution_seconds(path), **seconds}
    data = {
        "comment": "Written by `python -m checks keys`: each chapter's solution run time (s), "
        "measured on the machine that made the keys. The grader's time limit per run is a "
        "multiple of it.",
        "seconds": {str(chapter): round(merged[chapter], 1) for chapter in sorted(merged)},
    }
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


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
