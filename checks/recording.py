"""The kernel↔grader contract: a kernel records every value it checks, the grader reads them.

When the environment variable :data:`RECORD_VARIABLE` names a file, every
:func:`checks.check` call that judges a value also appends it to that file as one JSON line:
``{"flag": "1.1", "value": 1234, "notebook": "01_mnist_binary.ipynb"}``. The value is plain JSON
(:func:`checks.canonical.plain_value`), so whoever reads the file recomputes the canonical answer
itself and trusts nothing else the kernel says. Two programs read records: the answer-key
generator (from the solutions) and the grader (from submissions).

Declared mistakes (:func:`checks.mistake`, in the solution notebooks only) go to a file of their
own beside it, :data:`MISTAKES_FILE`, one JSON line each with the hint: only the answer-key
generator reads it, so nothing a kernel writes there can count as an answer.

This module is the one home of the contract: the variable names, the file name, the writer and
the reader.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from checks.canonical import Answer, canonical, plain_value
from checks.catalogue import Flag, get_flag
from checks.files import read_regular_file
from checks.store import HOME_VARIABLE

RECORD_VARIABLE = "CHECKS_RECORD"
NOTEBOOK_VARIABLE = "CHECKS_NOTEBOOK"
RECORD_FILE = "answers.jsonl"
MISTAKES_FILE = "mistakes.jsonl"
# A record file is read up to this size, and a line up to this length: a record is a few hundred
# characters, a chapter's records a few kilobytes; more is not a course's answers but an attack.
MAX_RECORD_BYTES = 16 * 1024**2
LONGEST_RECORD = 2**20


@dataclass(frozen=True)
class RecordedAnswer:
    """One value a kernel checked."""

    flag: str
    value: object
    notebook: str = ""

    @property
    def canonical(self) -> str:
        """The canonical answer text of the value (raises ``BadAnswer`` if it cannot be one)."""
        return canonical(get_flag(self.flag), self.value)


@dataclass(frozen=True)
class RecordedMistake(RecordedAnswer):
    """The value of a declared wrong way to compute a flag, with the hint that names it."""

    hint: str = ""


def recording_file() -> Path | None:
    """The record file this kernel writes to, or None when it does not record."""
    configured = os.environ.get(RECORD_VARIABLE)
    return Path(configured) if configured else None


def record(answer: Answer) -> bool:
    """Append a checked answer, as plain JSON, to the record file (if recording).

    It never raises: an answer that cannot be written as JSON is not recorded (the grader then
    sees the flag as not answered), and a record file that cannot be written only warns.

    Parameters
    ----------
    answer : Answer
        The answer checked (:func:`checks.canonical.read_answer`): its flag and plain value.

    Returns
    -------
    bool
        Whether the answer was recorded.
    """
    path = recording_file()
    if path is None:
        return False
    try:
        entry = {
            "flag": answer.flag.id,
            "value": answer.plain,
            "notebook": os.environ.get(NOTEBOOK_VARIABLE, ""),
        }
        line = json.dumps(entry, allow_nan=False) + "\n"
    except Exception:
        return False
    try:
        with FileLock(str(path) + ".lock", timeout=30), path.open("a", encoding="utf-8") as stream:
            stream.write(line)
    except Exception as error:
        warnings.warn(f"The answer could not be recorded in {path} ({error}).", stacklevel=3)
        return False
    return True


def record_mistake(flag: Flag, value: object, hint: str) -> bool:
    """Append a declared mistake's value and hint to :data:`MISTAKES_FILE` (if recording).

    Unlike :func:`record`, it is for authors and raises when the value cannot be recorded, so a
    broken declaration stops the run that makes the keys.

    Parameters
    ----------
    flag : Flag
        The flag the mistake belongs to.
    value : object
        The value the wrong computation gives.
    hint : str
        What the student is told when their answer is this value.

    Returns
    -------
    bool
        Whether the mistake was recorded (False when this kernel does not record).

    Raises
    ------
    checks.canonical.BadAnswer
        If the value cannot be an answer to the flag.
    """
    path = recording_file()
    if path is None:
        return False
    entry = {
        "flag": flag.id,
        "value": plain_value(flag, value),
        "hint": hint,
        "notebook": os.environ.get(NOTEBOOK_VARIABLE, ""),
    }
    line = json.dumps(entry, allow_nan=False, ensure_ascii=False) + "\n"
    mistakes = path.with_name(MISTAKES_FILE)
    with FileLock(str(mistakes) + ".lock", timeout=30), mistakes.open("a", encoding="utf-8") as out:
        out.write(line)
    return True


def read_mistakes(path: Path) -> list[RecordedMistake]:
    """Every declared mistake in ``path`` (a :data:`MISTAKES_FILE`), in order.

    Parameters
    ----------
    path : Path
        A mistakes file, which may not exist.

    Returns
    -------
    list of RecordedMistake
        The mistakes with a flag, a value and a non-empty hint.
    """
    content = read_regular_file(path, MAX_RECORD_BYTES)
    if content is None:
        return []
    mistakes = []
    for line in content.decode("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            flag_id, value, hint = str(entry["flag"]), entry["value"], entry["hint"]
        except Exception:
            continue
        if isinstance(hint, str) and hint.strip():
            notebook = entry.get("notebook", "")
            mistakes.append(
                RecordedMistake(flag_id, value, notebook if isinstance(notebook, str) else "", hint)
            )
    return mistakes


def read_records(path: Path) -> list[RecordedAnswer]:
    """Every record in ``path``, in order; a line that is not a proper record is skipped.

    The file may come from an untrusted kernel: it is read only if it is a regular file (not a
    link, a pipe or a device), up to :data:`MAX_RECORD_BYTES`; a line longer than
    :data:`LONGEST_RECORD` characters (no answer comes near) is skipped; anything but a JSON
    object with a ``flag`` and a ``value`` is ignored, and nothing in it is believed but the
    values.

    Parameters
    ----------
    path : Path
        A record file, which may not exist.

    Returns
    -------
    list of RecordedAnswer
        The proper records, in the order they were written.
    """
    content = read_regular_file(path, MAX_RECORD_BYTES)
    if content is None:
        return []
    text = content.decode("utf-8", errors="replace")
    records = []
    for line in text.splitlines():
        if len(line) > LONGEST_RECORD:
            continue
        try:
            entry = json.loads(line)
            flag_id, value = str(entry["flag"]), entry["value"]
        except Exception:  # not JSON, too deeply nested, not an object, no flag or value...
            continue
        notebook = entry.get("notebook", "")
        if not isinstance(notebook, str):
            notebook = ""
        records.append(RecordedAnswer(flag_id, value, notebook))
    return records


def recording_env(workdir: Path, notebook_name: str) -> dict[str, str]:
    """The environment that makes a kernel record into ``workdir``, with a fresh progress store.

    The fresh store keeps a recording run from touching any real user's progress.
    """
    return {
        RECORD_VARIABLE: str(workdir / RECORD_FILE),
        NOTEBOOK_VARIABLE: notebook_name,
        HOME_VARIABLE: str(workdir / "progress"),
    }
