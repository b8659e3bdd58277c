"""The progress store under bad input: one bad entry costs itself only, nothing ever crashes.

Tests run as root, so chmod cannot make a file unreadable: a folder in the file's place, a file
in the folder's place, a patched write and a held lock stand in for the real failures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from filelock import FileLock

import checks
from checks import checker, store
from checks.answer_keys import make_key

GOOD = {"captured": True, "attempts": 2, "captured_at": "2025-01-01T10:00:00"}
BAD_ENTRIES = {
    "1.2": {"captured": False, "attempts": "3"},  # attempts as text
    "1.3": {"captured": "yes", "attempts": 1},
    "1.4": {"captured": False, "attempts": -1},
    "2.1": {"captured": True, "attempts": 0},  # captured without an attempt
    "2.2": {"captured": False, "attempts": 1, "captured_at": 7},
    "2.3": {"captured": False, "attempts": 1, "points": 1000},  # a field the store never writes
    "2.4": [1, 2],
    "": {"captured": False, "attempts": 1},
    "3.1": {"captured": 1, "attempts": 1},  # 1 is not a bool
}


@pytest.fixture(scope="module")
def keys() -> dict:
    return {"1.1": make_key("1.1", "1234", "tests")}


@pytest.fixture(autouse=True)
def synthetic_keys(keys: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checker, "load_keys", lambda: keys)


def write_progress(home: Path, document: object) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "progress.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_one_bad_entry_is_dropped_and_kept_aside_the_good_ones_stay(isolated_home):
    path = write_progress(isolated_home, {"format": 1, "flags": {"1.1": GOOD, **BAD_ENTRIES}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = store.record_attempt("3.2", correct=False)
    assert len(caught) == 1 and "9 bad entries" in str(caught[0].message)
    assert set(records) == {"1.1", "3.2"}
    assert records["1.1"] == store.FlagProgress(True, 2, "2025-01-01T10:00:00")
    (backup,) = isolated_home.glob("progress.json.bad-*")
    assert json.loads(backup.read_text())["flags"] == BAD_ENTRIES
    assert set(json.loads(path.read_text())["flags"]) == {"1.1", "3.2"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # repaired once: no warning again
        assert store.record_attempt("1.1", correct=False)["1.1"].attempts == 3


def test_load_repairs_bad_entries_too(isolated_home):
    write_progress(isolated_home, {"format": 1, "flags": {"1.1": GOOD, "1.2": {"x": 1}}})
    with pytest.warns(UserWarning, match="1 bad entry"):
        assert set(store.load()) == {"1.1"}
    assert len(list(isolated_home.glob("progress.json.bad-*"))) == 1


@pytest.mark.parametrize(
    "content",
    [
        '{"format": true, "flags": {}}',
        '{"format": 1, "flags": [1]}',
        '{"format": 1}',
        "[" * 100_000,
        "null",
        "\udcff",
        '{"format": 1, "flags": {}, "pad": "' + "x" * (store.LARGEST_FILE + 1) + '"}',
    ],
    ids=["format true", "flags a list", "no flags", "deep", "null", "not utf-8", "too large"],
)
def test_what_is_not_a_progress_file_is_set_aside(isolated_home, content):
    isolated_home.mkdir(parents=True)
    (isolated_home / "progress.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.warns(UserWarning, match="unreadable"):
        records = store.record_attempt("1.1", correct=True)
    assert records["1.1"].captured
    assert len(list(isolated_home.glob("progress.json.corrupt-*"))) == 1


def test_a_folder_in_the_files_place_never_breaks_check_or_progress(isolated_home, capsys):
    (isolated_home / "progress.json").mkdir(parents=True)
    with pytest.warns(UserWarning, match="could not be saved"):
        assert checks.check("1.1", 1234)
    assert "✔ Flag 1.1" in capsys.readouterr().out
    snapshot = store.snapshot()
    assert snapshot.records == {} and "could not be read" in snapshot.problem
    checks.progress()
    table = capsys.readouterr().out
    assert "Total" in table and "could not be read" in table
    assert "could not be read" in store.snapshot().problem


def test_an_unwritable_folder_never_breaks_check(tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("CHECKS_HOME", str(tmp_path / "a-file" / "home"))
    with pytest.warns(UserWarning, match="could not be saved"):
        assert checks.check("1.1", 1234)
    assert "✔" in capsys.readouterr().out
    checks.progress()
    assert "Total" in capsys.readouterr().out


def test_a_failed_save_does_not_break_later_saves(isolated_home, monkeypatch):
    store.record_attempt("1.1", correct=False)

    def read_only(*args: object) -> None:
        raise PermissionError("read-only file system")

    with monkeypatch.context() as patched, pytest.warns(UserWarning, match="could not be saved"):
        patched.setattr(store, "atomic_write_text", read_only)
        assert checks.check("1.1", 1234)
    store.record_attempt("1.1", correct=True)
    record = store.load()["1.1"]
    assert record.captured and record.attempts == 2
    assert [path.name for path in isolated_home.iterdir() if path.suffix == ".tmp"] == []


def test_a_lock_held_too_long_only_warns(isolated_home, monkeypatch, capsys):
    store.record_attempt("1.1", correct=True)
    monkeypatch.setattr(store, "LOCK_TIMEOUT", 0.2)
    with FileLock(str(isolated_home / "progress.json.lock")):
        with pytest.warns(UserWarning, match="too long"):
            assert checks.check("1.1", 1234)
        assert store.load()["1.1"].captured  # read without the lock
        checks.progress()
    out = capsys.readouterr().out
    assert "✔" in out and "Total" in out


def test_status_with_a_broken_store_exits_0_with_the_table(isolated_home):
    (isolated_home / "progress.json").mkdir(parents=True)
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "status"],
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKS_HOME": str(isolated_home)},
    )
    assert completed.returncode == 0, completed.stderr
    assert "Total" in completed.stdout and "could not be read" in completed.stdout
    assert "Traceback" not in completed.stderr
