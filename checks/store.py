"""Each student's progress: which flags they captured, saved per user in a JSON file.

The file lives in ``$CHECKS_HOME`` (default ``~/.mnist-course``). Every update takes a file lock,
re-reads the file and replaces it atomically, so two kernels checking flags at once never lose
each other's work. Progress is never worth a crash:

- each entry is checked when read; a bad one is dropped and kept aside in
  ``progress.json.bad-<time>``, the good ones stay;
- a file that is not a progress file at all (not JSON, another format) is set aside as
  ``progress.json.corrupt-<time>`` and a new one is started;
- a store that cannot be read or written (a folder in the file's place, a read-only folder, a
  lock held too long) makes :func:`record_attempt` raise :class:`StoreError`, which
  :func:`checks.check` turns into a warning, and :func:`snapshot` report what it could read.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from checks.files import atomic_write_text, make_folder

HOME_VARIABLE = "CHECKS_HOME"
FORMAT = 1
#: Seconds to wait for another kernel's lock before giving up on saving.
LOCK_TIMEOUT = 10.0
#: A progress file is a few kilobytes; anything much larger is not one, and is not read.
LARGEST_FILE = 2**20
_FIELDS = {"captured", "attempts", "captured_at"}


class StoreError(OSError):
    """The progress store cannot be read or written; the message says why, in one line."""


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


@dataclass(frozen=True)
class Snapshot:
    """The progress that could be read, and why not all of it, if so."""

    records: dict[str, FlagProgress] = field(default_factory=dict)
    problem: str | None = None


# --- Reading and checking ------------------------------------------------------------------


def _entry(flag_id: object, entry: object) -> FlagProgress | None:
    """The record an entry of the file holds, or None if it is not a proper one."""
    if not isinstance(flag_id, str) or not 0 < len(flag_id) <= 32 or not isinstance(entry, dict):
        return None
    if not {"captured", "attempts"} <= set(entry) <= _FIELDS:
        return None
    captured, attempts = entry["captured"], entry["attempts"]
    captured_at = entry.get("captured_at")
    if type(captured) is not bool or type(attempts) is not int or not 0 <= attempts < 10**9:
        return None
    if captured and attempts < 1:
        return None
    if captured_at is not None and not (isinstance(captured_at, str) and len(captured_at) < 64):
        return None
    return FlagProgress(captured, attempts, captured_at)


def _parse(text: str) -> tuple[dict[str, FlagProgress], dict[str, object]]:
    """The good records of a progress file and its bad entries; ValueError if it is not one."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    if type(data.get("format")) is not int or data["format"] != FORMAT:
        raise ValueError(f"unknown format {str(data.get('format'))[:20]!r}")
    entries = data.get("flags")
    if not isinstance(entries, dict):
        raise ValueError("no 'flags' object")
    good, bad = {}, {}
    for flag_id, entry in entries.items():
        record = _entry(flag_id, entry)
        if record is None:
            bad[flag_id] = entry
        else:
            good[flag_id] = record
    return good, bad


def _read_text(path: Path) -> str | None:
    """The file's text, None if there is no file.

    Raises ValueError if it is not a progress file's text, :class:`StoreError` if it cannot be
    read at all.
    """
    try:
        if not path.exists():
            return None
        if path.is_file() and path.stat().st_size > LARGEST_FILE:
            raise ValueError(f"larger than {LARGEST_FILE // 2**20} MiB")
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise StoreError(f"{path} ({error.strerror or type(error).__name__})") from None


def _backup_path(path: Path, kind: str) -> Path:
    """A new file name next to ``path``: ``progress.json.<kind>-<time>`` (``-2``... if taken)."""
    base = f"{path.name}.{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    backup, number = path.with_name(base), 1
    while backup.exists() or backup.is_symlink():
        number += 1
        backup = path.with_name(f"{base}-{number}")
    return backup


def _set_aside(path: Path, error: Exception) -> str:
    """Move a file that is not a progress file aside; say what happened."""
    backup = _backup_path(path, "corrupt")
    try:
        path.replace(backup)
    except OSError as failure:
        return (
            f"Your progress file {path} is unreadable ({error}) and could not be moved ({failure})."
        )
    return (
        f"Your progress file {path} was unreadable ({error}); it was moved to {backup.name} "
        "and a new one started."
    )


def _keep_bad_entries(path: Path, bad: dict[str, object], good: dict[str, FlagProgress]) -> str:
    """Write the bad entries next to the file and the file without them; say what happened."""
    backup = _backup_path(path, "bad")
    names = ", ".join(repr(name)[:20] for name in list(bad)[:5])
    entries = f"{len(bad)} bad entr{'y' if len(bad) == 1 else 'ies'} ({names})"
    try:
        atomic_write_text(backup, json.dumps({"format": FORMAT, "flags": bad}, indent=2) + "\n")
        _write(path, good)
    except (OSError, ValueError, TypeError) as error:
        return f"Your progress file {path} has {entries}, ignored ({error})."
    return (
        f"Your progress file {path} had {entries}: dropped, and kept in {backup.name}. "
        "The rest of your progress is unchanged."
    )


def _read(path: Path, *, repair: bool) -> tuple[dict[str, FlagProgress], str | None]:
    """The good records in ``path``, and what was wrong with the rest, if anything.

    With ``repair`` (the lock held), bad content is set aside. Raises :class:`StoreError` if the
    file exists but cannot be read.
    """
    try:
        text = _read_text(path)
        if text is None:
            return {}, None
        good, bad = _parse(text)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        if repair:
            return {}, _set_aside(path, error)
        return {}, f"Your progress file {path} is unreadable ({error})."
    if not bad:
        return good, None
    if repair:
        return good, _keep_bad_entries(path, bad, good)
    return good, f"Your progress file {path} has {len(bad)} bad entries, ignored."


def _write(path: Path, records: dict[str, FlagProgress]) -> None:
    document = {"format": FORMAT, "flags": {k: vars(v) for k, v in sorted(records.items())}}
    atomic_write_text(path, json.dumps(document, indent=2) + "\n")


@contextmanager
def _locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the store's lock; StoreError if it cannot be had within ``timeout`` seconds."""
    try:
        make_folder(path.parent)
        lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT if timeout is None else timeout)
        lock.acquire()
    except Timeout:
        raise StoreError(f"another program has held {path}.lock for too long") from None
    except OSError as error:
        raise StoreError(f"{path.parent} is not writable ({error.strerror or error})") from None
    try:
        yield
    finally:
        lock.release()


# --- The public functions ------------------------------------------------------------------


def snapshot() -> Snapshot:
    """Every flag this user has answered, and why not all could be read; never raises.

    With the store's lock, bad content is set aside as for :func:`record_attempt` (with one
    warning). Without it (a read-only folder, another program holding it), the file is only read.

    Returns
    -------
    Snapshot
        The records by flag id, and ``problem``: None, or one line saying what could not be read.
    """
    path = progress_file()
    try:
        with _locked(path, timeout=LOCK_TIMEOUT / 4):
            records, message = _read(path, repair=True)
        if message:
            warnings.warn(message, stacklevel=3)
        return Snapshot(records)
    except Exception:  # no lock (or warnings turned into errors): read as it is
        pass  # writes are atomic, so the file read without the lock is whole
    try:
        return Snapshot(*_read(path, repair=False))
    except Exception as error:
        return Snapshot({}, f"Your progress could not be read: {error}.")


def load() -> dict[str, FlagProgress]:
    """Every flag this user has answered, by id (what could be read; it never raises).

    Returns
    -------
    dict of str to FlagProgress
        The records by flag id.
    """
    return snapshot().records


def record_attempt(flag_id: str, correct: bool) -> dict[str, FlagProgress]:
    """Record one judged answer and return the updated progress.

    A captured flag stays captured: a later wrong answer only adds an attempt.

    Parameters
    ----------
    flag_id : str
        The flag answered.
    correct : bool
        Whether the answer was right.

    Returns
    -------
    dict of str to FlagProgress
        Every record, this one updated.

    Raises
    ------
    StoreError
        If the store cannot be read or written (the answer is then not saved).
    """
    path = progress_file()
    with _locked(path):
        records, message = _read(path, repair=True)
        if message:
            warnings.warn(message, stacklevel=4)
        previous = records.get(flag_id, FlagProgress(captured=False, attempts=0))
        captured_now = correct and not previous.captured
        records[flag_id] = FlagProgress(
            captured=previous.captured or correct,
            attempts=previous.attempts + 1,
            captured_at=time.strftime("%Y-%m-%dT%H:%M:%S")
            if captured_now
            else previous.captured_at,
        )
        try:
            _write(path, records)
        except OSError as error:
            raise StoreError(f"{path} cannot be written ({error.strerror or error})") from None
        return records


def reset() -> None:
    """Forget this user's progress."""
    path = progress_file()
    with _locked(path):
        path.unlink(missing_ok=True)
