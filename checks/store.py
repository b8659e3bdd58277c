"""Each student's progress: which flags they captured, saved per user in a JSON file.

The file lives in ``$CHECKS_HOME`` (default ``~/.mnist-course``). Every update takes a file lock,
re-reads the file and replaces it atomically, so two kernels checking flags at once never lose
each other's work. A corrupt file is set aside as ``progress.json.corrupt-<time>`` and a new one is
started: progress is never worth a crash.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from checks.files import atomic_write_text

HOME_VARIABLE = "CHECKS_HOME"
FORMAT = 1


def checks_home() -> Path:
    """The folder holding this user's progress (``$CHECKS_HOME`` or ``~/.mnist-course``)."""
    configured = os.environ.get(HOME_VARIABLE)
    return Path(configured).expanduser() if configured else Path.home() / ".mnist-course"


def progress_file() -> Path:
    """The progress file of this user."""
    return checks_home() / "progress.json"


@dataclass(frozen=True)
class FlagProgress:
    """A flag's record: captured or not, and how many answers were tried."""

    captured: bool
    attempts: int
    captured_at: str | None = None


def _read(path: Path) -> dict[str, FlagProgress]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}")
        return {flag_id: FlagProgress(**entry) for flag_id, entry in data["flags"].items()}
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as error:
        backup = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        path.replace(backup)
        warnings.warn(
            f"Your progress file {path} was unreadable ({error}); it was moved to {backup.name} "
            "and a new one started.",
            stacklevel=4,
        )
        return {}


def _write(path: Path, records: dict[str, FlagProgress]) -> None:
    document = {"format": FORMAT, "flags": {k: vars(v) for k, v in sorted(records.items())}}
    atomic_write_text(path, json.dumps(document, indent=2) + "\n")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=30):
        yield


def load() -> dict[str, FlagProgress]:
    """Every flag this user has answered, by id."""
    path = progress_file()
    with _locked(path):
        return _read(path)


def record_attempt(flag_id: str, correct: bool) -> dict[str, FlagProgress]:
    """Record one judged answer and return the updated progress.

    A captured flag stays captured: a later wrong answer only adds an attempt.
    """
    path = progress_file()
    with _locked(path):
        records = _read(path)
        previous = records.get(flag_id, FlagProgress(captured=False, attempts=0))
        captured_now = correct and not previous.captured
        records[flag_id] = FlagProgress(
            captured=previous.captured or correct,
            attempts=previous.attempts + 1,
            captured_at=time.strftime("%Y-%m-%dT%H:%M:%S")
            if captured_now
            else previous.captured_at,
        )
        _write(path, records)
        return records


def reset() -> None:
    """Forget this user's progress."""
    path = progress_file()
    with _locked(path):
        path.unlink(missing_ok=True)
