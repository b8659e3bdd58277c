"""Hostile inputs to chapter 9's score flags on test.csv and its submissions.

Each failure found is a test that fails on the code as found and passes once it is fixed; the
other tests pin the hostile cases that already hold. The rules: ``check()`` answers every value
with a verdict or a one-line message, never a traceback; ``validate_submission`` never raises.
"""

from __future__ import annotations

import contextlib
import io
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import checks
from checks.kaggle import N_TEST_ROWS, SUBMISSION_HEADER
from checks.outcome import INVALID
from checks.submission import MAX_BYTES, SubmissionError, read_submission, validate_submission

pytestmark = pytest.mark.usefixtures("offline_mnist")

SCORE_FLAGS = ("9.2", "9.4")


@pytest.fixture(scope="module")
def predicted() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 10, N_TEST_ROWS)


def submission_text(predicted: np.ndarray, ids=None, labels=None, header="ImageId,Label") -> str:
    ids = range(1, N_TEST_ROWS + 1) if ids is None else ids
    labels = predicted if labels is None else labels
    return header + "\n" + "".join(f"{i},{label}\n" for i, label in zip(ids, labels, strict=True))


def with_first(values, first) -> list:
    return [first, *list(values)[1:]]


def checked(flag_id: str, value: object):
    """check()'s outcome and everything it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        outcome = checks.check(flag_id, value)
    return outcome, out.getvalue() + err.getvalue()


def validated(value: object) -> tuple[bool, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        answer = validate_submission(value)
    return answer, out.getvalue()


# --- 1. check() on score flags and validate_submission: what holds ----------------------------


def _symlink_loop(tmp: Path) -> Path:
    (tmp / "a.csv").symlink_to(tmp / "b.csv")
    (tmp / "b.csv").symlink_to(tmp / "a.csv")
    return tmp / "a.csv"


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.csv")
    return tmp / "pipe.csv"


def _file(name: str, content):
    def make(tmp: Path, predicted: np.ndarray) -> Path:
        data = content(predicted) if callable(content) else content
        (tmp / name).write_bytes(data.encode() if isinstance(data, str) else data)
        return tmp / name

    return make


ODD_PATHS = {
    "/dev/stdin": lambda tmp, p: "/dev/stdin",
    "/proc/self/mem": lambda tmp, p: "/proc/self/mem",
    "a FIFO": lambda tmp, p: _fifo(tmp),
    "a symlink loop": lambda tmp, p: _symlink_loop(tmp),
    "a folder as a Path": lambda tmp, p: tmp,
    "NUL bytes": _file("nul.csv", lambda p: submission_text(p).replace("\n1,", "\n1\x00,", 1)),
    "a 5 MB file": _file("big.csv", b"1," * (5 * 1024**2 // 2)),
    "an extra column": _file(
        "extra.csv",
        lambda p: submission_text(p, labels=[f"{d},0" for d in p], header="ImageId,Label,Extra"),
    ),
    "labels 7.5": _file("half.csv", lambda p: submission_text(p, labels=[f"{d}.5" for d in p])),
    "negative ids": _file(
        "negative.csv", lambda p: submission_text(p, ids=range(-1, -N_TEST_ROWS - 1, -1))
    ),
    "an id 1e3": _file(
        "e3.csv", lambda p: submission_text(p, ids=with_first(range(1, N_TEST_ROWS + 1), "1e3"))
    ),
    "UTF-16": _file("utf16.csv", lambda p: submission_text(p).encode("utf-16")),
}


@pytest.mark.parametrize("flag_id", SCORE_FLAGS)
@pytest.mark.parametrize("name", ODD_PATHS)
def test_odd_paths_get_a_one_line_verdict(name, flag_id, tmp_path, predicted):
    path = ODD_PATHS[name](tmp_path, predicted)
    outcome, printed = checked(flag_id, path)
    assert outcome.status == INVALID, outcome.detail
    assert "\n" not in outcome.detail and "Traceback" not in printed
    answer, shown = validated(path)
    assert answer is False and "Traceback" not in shown


def test_crlf_and_bom_are_the_same_submission(tmp_path, predicted):
    text = submission_text(predicted)
    (tmp_path / "crlf.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert (read_submission(tmp_path / "crlf.csv") == predicted).all()


ODD_VALUES = {
    "a generator": lambda p: (int(d) for d in p),
    "bytes": lambda p: b"ImageId,Label\n1,7\n",
    "a str of 10,000 characters": lambda p: "s" * 10_000,
    "object array of None": lambda p: np.array([None] * N_TEST_ROWS, dtype=object),
    "complex array": lambda p: p.astype(complex) + 1j,
    "bool array": lambda p: p.astype(bool),
    "datetime array": lambda p: p.astype("datetime64[s]"),
    "one-hot array": lambda p: np.eye(10)[p],
    "0-d array": lambda p: np.array(7),
    "a MultiIndex DataFrame": lambda p: pd.DataFrame(
        {"Label": p},
        index=pd.MultiIndex.from_arrays([np.arange(1, N_TEST_ROWS + 1), np.zeros(N_TEST_ROWS)]),
    ),
    "an object DataFrame with None": lambda p: pd.DataFrame(
        {
            "ImageId": np.arange(1, N_TEST_ROWS + 1),
            "Label": pd.Series(with_first(p.tolist(), None), dtype=object),
        }
    ),
    "a DataFrame with MultiIndex columns": lambda p: pd.DataFrame(
        np.c_[np.arange(1, N_TEST_ROWS + 1), p],
        columns=pd.MultiIndex.from_tuples([("ImageId", "a"), ("Label", "b")]),
    ),
}


@pytest.mark.parametrize("flag_id", SCORE_FLAGS)
@pytest.mark.parametrize("name", ODD_VALUES)
def test_odd_values_get_a_one_line_verdict(name, flag_id, predicted):
    outcome, printed = checked(flag_id, ODD_VALUES[name](predicted))
    assert outcome.status == INVALID, outcome.detail
    assert "\n" not in outcome.detail and "Traceback" not in printed
    answer, shown = validated(ODD_VALUES[name](predicted))
    assert answer is False and "Traceback" not in shown


# --- 1. check() and submissions: the failures -------------------------------------------------


@pytest.mark.parametrize("flag_id", SCORE_FLAGS)
def test_a_path_with_a_newline_is_still_a_one_line_verdict(flag_id, tmp_path):
    # Found: "there is no file /tmp/.../no\nsuch.csv": the verdict spans two lines.
    outcome, _ = checked(flag_id, str(tmp_path / "no\nsuch.csv"))
    assert outcome.status == INVALID
    assert "\n" not in outcome.detail


@pytest.mark.parametrize("flag_id", SCORE_FLAGS)
def test_a_10000_character_path_gets_a_short_verdict(flag_id):
    # Found: the verdict is 20,065 characters (the path twice, unclipped by _read_file).
    outcome, _ = checked(flag_id, "s" * 10_000)
    assert outcome.status == INVALID
    assert len(outcome.detail) < 500
    _, shown = validated("s" * 10_000)
    assert len(shown) < 500


@pytest.mark.parametrize(
    "label", ["0_7", "\uff17", "\u0667"], ids=["underscore", "full-width", "arabic-indic"]
)
def test_a_label_kaggle_would_not_read_as_a_digit_is_refused(label, tmp_path, predicted):
    # Found: Python's int() reads '0_7', a full-width 7 and an Arabic-Indic 7 as 7, so
    # validate_submission says "the format Kaggle expects" for a file Kaggle cannot parse.
    path = tmp_path / "submission.csv"
    path.write_text(submission_text(predicted, labels=with_first(predicted, label)), "utf-8")
    with pytest.raises(SubmissionError) as raised:
        read_submission(path)
    assert label in str(raised.value)


@pytest.mark.parametrize("image_id", ["1_0", "\u0661"], ids=["underscore", "arabic-indic"])
def test_an_imageid_kaggle_would_not_read_is_named_as_written(image_id, tmp_path, predicted):
    # Found: '1_0' is read as ImageId 10 ("10 appears more than once"), an Arabic-Indic 1
    # as ImageId 1.
    ids = with_first(range(1, N_TEST_ROWS + 1), image_id)
    path = tmp_path / "submission.csv"
    path.write_text(submission_text(predicted, ids=ids), "utf-8")
    with pytest.raises(SubmissionError) as raised:
        read_submission(path)
    assert f"the ImageId {image_id!r} is not a whole number" in str(raised.value)


def test_a_repeated_column_is_named(predicted):
    # Found: "... only these two columns, not ." (the extra column's name is missing).
    table = pd.DataFrame(
        np.c_[np.arange(1, N_TEST_ROWS + 1), predicted, predicted],
        columns=["ImageId", "Label", "Label"],
    )
    with pytest.raises(SubmissionError) as raised:
        read_submission(table)
    (problem,) = raised.value.problems
    assert not problem.rstrip().endswith("not")
    assert "Label" in problem.split(f"expected {SUBMISSION_HEADER!r}")[-1]


def test_a_dataframe_too_large_to_be_a_submission_is_refused_before_it_is_written(predicted):
    # Found: the file path is capped at MAX_BYTES, a DataFrame is not: 28,000 labels of
    # 1,000 characters become 28 MB of CSV text (632 MB of RSS for 4,000 characters).
    long_label = "7" * 1_000
    table = pd.DataFrame({"ImageId": np.arange(1, N_TEST_ROWS + 1), "Label": [long_label] * 28_000})
    tracemalloc.start()
    try:
        with pytest.raises(SubmissionError):
            read_submission(table)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MAX_BYTES, f"peak {peak / 1e6:.0f} MB"
