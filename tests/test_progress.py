"""The progress file: atomic, safe with two processes at once, and never a crash when corrupt."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from checks import store


def _record_many(home: str, flag_id: str, count: int) -> None:
    import os

    os.environ["CHECKS_HOME"] = home
    for index in range(count):
        store.record_attempt(flag_id, correct=index == count - 1)


def test_two_processes_at_once_lose_nothing(isolated_home):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_record_many, args=(str(isolated_home), flag_id, 25))
        for flag_id in ("1.1", "1.2")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    records = store.load()
    assert records["1.1"].attempts == 25 and records["1.2"].attempts == 25
    assert records["1.1"].captured and records["1.2"].captured
    leftovers = [p.name for p in isolated_home.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_corrupt_file_is_backed_up_and_restarted(isolated_home):
    isolated_home.mkdir(parents=True)
    (isolated_home / "progress.json").write_text('{"format": 1, "flags": {"1.1": {"capt')
    with pytest.warns(UserWarning, match="unreadable"):
        records = store.record_attempt("1.1", correct=True)
    assert records["1.1"].attempts == 1
    backups = list(isolated_home.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and "capt" in backups[0].read_text()
    assert json.loads((isolated_home / "progress.json").read_text())["flags"]["1.1"]["captured"]


def test_wrong_shape_is_treated_as_corrupt(isolated_home):
    isolated_home.mkdir(parents=True)
    (isolated_home / "progress.json").write_text("[1, 2, 3]")
    with pytest.warns(UserWarning):
        assert store.load() == {}


def test_reset_forgets(isolated_home):
    store.record_attempt("1.1", correct=True)
    store.reset()
    assert store.load() == {}
