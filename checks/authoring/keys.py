"""Make the answer keys by executing the solution notebooks: answers are computed, never typed.

Each solution notebook runs in a child kernel in record mode (:mod:`checks.recording`), so every
``checks.check(flag, value)`` writes the value to a scratch file. The answers are then hashed
(:mod:`checks.answer_keys`) into ``checks/answer_keys.json``; the scratch folder is deleted.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from checks.answer_keys import (
    AnswerKey,
    KeyFileError,
    dump_keys,
    keys_path,
    load_keys,
    make_key,
)
from checks.authoring.notebooks import chapter_notebooks
from checks.authoring.solution_runs import SolutionFailed, one_answer_per_flag, run_solution
from checks.catalogue import flags
from checks.files import atomic_write_text
from checks.recording import RecordedAnswer


def execute_solutions(
    solutions: list[Path],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    report: Callable[[str], None] = print,
) -> list[RecordedAnswer]:
    """Run each solution notebook in a folder of ``workdir``, recording its answers.

    Raises :class:`~checks.authoring.solution_runs.SolutionFailed` if one fails.
    """
    records: list[RecordedAnswer] = []
    for notebook in solutions:
        started = time.perf_counter()
        report(f"Executing {notebook.name} ...")
        records += run_solution(notebook, workdir / notebook.stem, env=env)
        report(f"  done in {time.perf_counter() - started:.0f} s")
    return records


def build_keys(
    answers: dict[str, RecordedAnswer], existing: dict[str, AnswerKey]
) -> dict[str, AnswerKey]:
    """Hash each answer; keep an existing key (and its salt) when it already matches.

    A score flag gets no key: its answer is predictions, judged by their score, not a value.
    """
    keys = {}
    for flag_id in (flag.id for flag in flags().values() if flag.keyed):
        answer = answers[flag_id]
        old = existing.get(flag_id)
        source = f"solutions/{answer.notebook}"
        if old is not None and old.source == source and old.matches(flag_id, answer.canonical):
            keys[flag_id] = old
        else:
            keys[flag_id] = make_key(flag_id, answer.canonical, source)
    return keys


def regenerate_keys(solutions_dir: Path, report: Callable[[str], None] = print) -> list[str]:
    """Execute every solution notebook and rewrite the answer keys; return the changed flag ids.

    Raises :class:`~checks.authoring.solution_runs.SolutionFailed` when a solution fails or
    does not answer every flag of the catalogue exactly one way.
    """
    notebooks = list(chapter_notebooks(solutions_dir).values())
    if not notebooks:
        raise SolutionFailed(f"no course notebooks (NN_name.ipynb) in {solutions_dir}")
    with tempfile.TemporaryDirectory(prefix="checks-keys-") as scratch:
        records = execute_solutions(notebooks, Path(scratch), report=report)
        answers = one_answer_per_flag(records, flags())
    path = keys_path()
    try:
        existing = load_keys(path) if path.exists() else {}
    except KeyFileError as error:  # keys of an older format: every key is made afresh
        report(f"Replacing the old answer keys ({error}).")
        existing = {}
    keys = build_keys(answers, existing)
    atomic_write_text(path, dump_keys(keys))
    load_keys.cache_clear()
    return [flag_id for flag_id in keys if existing.get(flag_id) != keys[flag_id]]
