"""Make the answer keys by executing the solution notebooks: answers are computed, never typed.

Each solution notebook runs in a child kernel with ``CHECKS_RECORD`` set, so every
``checks.check(flag, value)`` appends the canonical answer to a scratch file. The answers are then
hashed (salted PBKDF2) into ``checks/answer_keys.json``; the scratch file is deleted.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from checks.catalogue import flags
from checks.checker import RECORD_VARIABLE
from checks.execute import run_notebook
from checks.files import atomic_write_text
from checks.hashing import AnswerKey, dump_keys, keys_path, load_keys, make_key
from checks.store import HOME_VARIABLE


class KeysError(RuntimeError):
    """The solutions did not produce one consistent answer for every flag."""


@dataclass(frozen=True)
class RecordedAnswer:
    """One flag's canonical answer, as a solution notebook computed it."""

    flag: str
    canonical: str
    notebook: str
    value: object = None


RECORD_FILE = "answers.jsonl"


def recording_env(notebook: Path, workdir: Path) -> dict[str, str]:
    """The environment that makes a kernel record its answers in ``workdir``, with a fresh home."""
    return {
        RECORD_VARIABLE: str(workdir / RECORD_FILE),
        HOME_VARIABLE: str(workdir / "home"),
        "CHECKS_NOTEBOOK": notebook.name,
    }


def execute_solutions(
    solutions: list[Path],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    report: Callable[[str], None] = print,
) -> list[RecordedAnswer]:
    """Run each solution notebook, recording its answers; raise if one fails."""
    for notebook in solutions:
        started = time.perf_counter()
        report(f"Executing {notebook.name} ...")
        execution = run_notebook(
            notebook,
            workdir / notebook.name,
            env={**recording_env(notebook, workdir), **(env or {})},
        )
        if not execution.ok:
            raise KeysError(f"{notebook} failed:\n{execution.error_summary()}")
        report(f"  done in {time.perf_counter() - started:.0f} s")
    return read_records(workdir / RECORD_FILE)


def read_records(record_file: Path) -> list[RecordedAnswer]:
    """Parse the JSON lines that ``check`` wrote in record mode."""
    if not record_file.exists():
        return []
    lines = record_file.read_text(encoding="utf-8").splitlines()
    return [RecordedAnswer(**json.loads(line)) for line in lines if line.strip()]


def consistent_answers(records: list[RecordedAnswer]) -> dict[str, RecordedAnswer]:
    """One answer per flag; every catalogue flag must be answered, and only one way."""
    answers: dict[str, RecordedAnswer] = {}
    for record in records:
        known = answers.setdefault(record.flag, record)
        if known.canonical != record.canonical:
            raise KeysError(f"flag {record.flag} was answered two different ways in the solutions")
    missing = [flag_id for flag_id in flags() if flag_id not in answers]
    if missing:
        raise KeysError(f"no solution notebook checks flag(s) {', '.join(missing)}")
    return answers


def build_keys(
    answers: dict[str, RecordedAnswer], existing: dict[str, AnswerKey]
) -> dict[str, AnswerKey]:
    """Hash each answer; keep an existing key (and its salt) when it already matches."""
    keys = {}
    for flag_id in flags():
        answer = answers[flag_id]
        old = existing.get(flag_id)
        source = f"solutions/{answer.notebook}"
        if old is not None and old.source == source and old.matches(flag_id, answer.canonical):
            keys[flag_id] = old
        else:
            keys[flag_id] = make_key(flag_id, answer.canonical, source)
    return keys


def regenerate_keys(solutions_dir: Path, report: Callable[[str], None] = print) -> list[str]:
    """Execute every solution notebook and rewrite the answer keys; return the changed flag ids."""
    notebooks = sorted(solutions_dir.glob("*.ipynb"))
    if not notebooks:
        raise KeysError(f"no notebooks in {solutions_dir}")
    with tempfile.TemporaryDirectory(prefix="checks-keys-") as scratch:
        answers = consistent_answers(execute_solutions(notebooks, Path(scratch), report=report))
    path = keys_path()
    existing = load_keys(path) if path.exists() else {}
    keys = build_keys(answers, existing)
    atomic_write_text(path, dump_keys(keys))
    load_keys.cache_clear()
    return [flag_id for flag_id in keys if existing.get(flag_id) != keys[flag_id]]
