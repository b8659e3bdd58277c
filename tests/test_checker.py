"""check(): right, wrong, blank and bad answers; scoring; strict and record modes; display."""

from __future__ import annotations

import json

import numpy as np
import pytest

import checks
from checks import checker, store
from checks.catalogue import flags
from checks.outcome import INVALID, UNANSWERED, WRONG
from checks.recording import NOTEBOOK_VARIABLE, RECORD_FILE, RECORD_VARIABLE, read_records

# Synthetic answers, not the course's (conftest.synthetic_keys): keys made here, for the mechanism.
pytestmark = pytest.mark.usefixtures("synthetic_keys")


def test_right_answer_in_any_numeric_form(capsys):
    assert checks.check("1.1", np.int64(1234))
    assert checks.check("1.1", np.array(1234))
    assert checks.check(1.4, 0.5004)  # a float id is read as "1.4"
    out = capsys.readouterr().out
    assert "✔ Flag 1.1" in out and "+10 pts" in out


def test_boundary_noise_is_accepted_but_not_a_larger_error():
    assert checks.check("1.4", 0.50049)  # rounds to 0.500
    assert checks.check("1.4", 0.50051)  # rounds to 0.501, next to the key's bucket
    assert checks.check("1.4", 0.4995)
    assert not checks.check("1.4", 0.5016)  # two buckets away


@pytest.mark.parametrize(
    ("flag_id", "value", "status", "text"),
    [
        ("1.1", 1235, WRONG, "Hint:"),
        ("1.1", ..., UNANSWERED, "Replace the ..."),
        ("1.1", None, INVALID, "got None"),
        ("1.4", float("nan"), INVALID, "got nan"),
        ("1.1", "1234", INVALID, "got the string '1234'"),
        ("1.1", np.arange(3), INVALID, "got a NumPy array of shape (3,)"),
        ("99.1", 3, INVALID, "There is no flag '99.1'"),
    ],
)
def test_everything_but_a_right_answer_returns_false_without_raising(
    flag_id, value, status, text, capsys
):
    assert not checks.check(flag_id, value)
    out = capsys.readouterr().out
    assert text in out
    assert checker.judge(flag_id, value).status == status
    assert "Traceback" not in out and out.count("\n") <= 2


def test_progress_is_kept_and_totals_run(capsys):
    checks.check("1.1", 1)
    checks.check("1.1", 1234)
    checks.check("1.1", 2)  # a captured flag stays captured
    checks.check("1.1", ...)  # blanks are not attempts
    record = store.load()["1.1"]
    assert record.captured and record.attempts == 3 and record.captured_at
    chapter_total = sum(f.points for f in flags().values() if f.chapter == 1)
    assert f"Chapter 1: 10/{chapter_total} pts" in capsys.readouterr().out
    checks.progress()
    table = capsys.readouterr().out
    assert "MNIST and a binary classifier" in table and f"10/{chapter_total}" in table


def test_strict_mode_raises_for_anything_but_a_right_answer(monkeypatch):
    monkeypatch.setenv("CHECKS_STRICT", "1")
    assert checks.check("1.1", 1234)
    for value in (1235, ..., None):
        with pytest.raises(checks.FlagNotCaptured, match=r"Flag 1.1"):
            checks.check("1.1", value)


def test_record_mode_writes_plain_values_that_give_the_canonical_answer(tmp_path, monkeypatch):
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / RECORD_FILE))
    monkeypatch.setenv(NOTEBOOK_VARIABLE, "01_x.ipynb")
    checks.check("1.1", np.int64(1234))
    checks.check("1.4", 0.123456)
    checks.check("1.1", ...)  # blanks are not recorded
    checks.check("1.1", None)  # nor values that cannot be answers
    lines = [json.loads(line) for line in (tmp_path / RECORD_FILE).read_text().splitlines()]
    assert lines == [
        {"flag": "1.1", "value": 1234, "notebook": "01_x.ipynb"},
        {"flag": "1.4", "value": 0.123456, "notebook": "01_x.ipynb"},
    ]
    records = read_records(tmp_path / RECORD_FILE)
    assert [(record.flag, record.canonical) for record in records] == [
        ("1.1", "1234"),
        ("1.4", "0.123"),
    ]


def test_the_record_reader_skips_what_is_not_a_record(tmp_path):
    record = tmp_path / RECORD_FILE
    record.write_text(
        json.dumps({"flag": "1.1", "value": 1, "notebook": ""})
        + '\nnot json\n[1, 2]\n{"flag": "1.2"}\n'
        + json.dumps({"flag": "1.1", "value": 2, "notebook": 7})
        + "\n"
    )
    assert [(r.flag, r.value, r.notebook) for r in read_records(record)] == [
        ("1.1", 1, ""),
        ("1.1", 2, ""),
    ]
    assert read_records(tmp_path / "missing.jsonl") == []


def test_missing_key_is_reported_not_crashed(capsys):
    assert not checks.check("1.2", 5)
    assert "python -m checks keys" in capsys.readouterr().out


def test_rich_display_in_a_notebook():
    html = checker.judge("1.1", 1234)._repr_html_()
    assert "Correct" in html and "Flag 1.1" in html and "<div" in html
    assert "Not answered yet" in checker.judge("1.1", ...)._repr_html_()


def test_unsaveable_progress_only_warns(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "record_attempt", broken)
    with pytest.warns(UserWarning, match=r"could not be saved"):
        assert checks.check("1.1", 1234)


def test_a_first_right_answer_earns_its_points_a_rerun_says_already_captured(capsys):
    checks.check("1.1", 1234)
    assert "+10 pts." in capsys.readouterr().out
    again = checks.check("1.1", 1234)
    out = capsys.readouterr().out
    assert again and "Already captured earlier: no new points" in out and "+10 pts" not in out


def test_a_wrong_answer_after_a_capture_says_the_capture_still_counts(capsys):
    from checks.outcome import STILL_CAPTURED

    assert not checks.check("1.1", 1235)
    assert STILL_CAPTURED not in capsys.readouterr().out  # nothing captured yet
    checks.check("1.1", 1234)
    capsys.readouterr()
    outcome = checks.check("1.1", 1235)
    out = capsys.readouterr().out
    assert not outcome and "Not quite" in out and STILL_CAPTURED in out
    assert STILL_CAPTURED in outcome._repr_html_() and "Chapter 1: 10/" in out
