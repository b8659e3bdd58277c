"""Kaggle-style submissions: read, validated with one line per problem, and scored by check().

Submissions are written by pandas (an independent writer) from random predictions, then broken
one way at a time: each malformed file must get exactly its one message, several problems several
lines, and check() must answer any value (a device, a folder, a 2 GB file...) with a verdict.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import grade_quietly

import checks
from checks import scoring
from checks.canonical import plain_value
from checks.catalogue import Flag, flags
from checks.checker import judge
from checks.cli import parse_value
from checks.grading.judging import judge_flag
from checks.grading.status import Verdict
from checks.grading.step import standard
from checks.kaggle import N_TEST_ROWS, SUBMISSION_HEADER, kaggle_test_labels, split
from checks.outcome import CORRECT, INVALID, WRONG
from checks.recording import LONGEST_RECORD, RECORD_FILE, RECORD_VARIABLE, read_records
from checks.submission import MAX_BYTES, SubmissionError, read_submission, validate_submission

#: A score flag on the hidden Kaggle labels, built here so the tests do not depend on chapter 9's
#: flags in flags.toml.
FLAG = Flag(
    id="9.90",
    title="A test submission",
    points=25,
    kind="score",
    hint="Train a better model.",
    metric="accuracy",
    threshold=0.98,
    labels="kaggle_test",
)


@pytest.fixture
def flag(monkeypatch) -> Flag:
    """:data:`FLAG`, known to the catalogue for this test."""
    monkeypatch.setitem(flags(), FLAG.id, FLAG)
    return FLAG


pytestmark = pytest.mark.usefixtures("offline_mnist")


@pytest.fixture(scope="module")
def predicted() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 10, N_TEST_ROWS)


def frame(predicted: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"ImageId": np.arange(1, len(predicted) + 1), "Label": predicted})


def write(tmp_path, table: pd.DataFrame, **options) -> str:
    path = tmp_path / "submission.csv"
    table.to_csv(path, index=options.pop("index", False), **options)
    return str(path)


def problems(source) -> list[str]:
    with pytest.raises(SubmissionError) as raised:
        read_submission(source)
    assert isinstance(raised.value, ValueError)
    return raised.value.problems


# --- A right submission ----------------------------------------------------------------------


def test_a_submission_written_by_pandas_is_read_in_imageid_order(tmp_path, predicted):
    shuffled = frame(predicted).sample(frac=1, random_state=0)  # any row order
    path = write(tmp_path, shuffled)
    assert read_submission(path).dtype == np.int64
    assert (read_submission(path) == predicted).all()
    assert (read_submission(frame(predicted)) == predicted).all()


def test_a_submission_written_by_numpy_with_crlf_and_a_bom_is_read(tmp_path, predicted):
    path = tmp_path / "submission.csv"
    rows = np.column_stack([np.arange(1, N_TEST_ROWS + 1), predicted])
    np.savetxt(path, rows, fmt="%d", delimiter=",", header=SUBMISSION_HEADER, comments="")
    assert (read_submission(path) == predicted).all()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert (read_submission(path) == predicted).all()


def test_float_labels_equal_to_digits_are_accepted(tmp_path, predicted):
    path = write(tmp_path, frame(predicted.astype(float)))
    assert (read_submission(path) == predicted).all()


def test_validate_submission_says_yes_in_one_line(tmp_path, predicted, capsys):
    path = write(tmp_path, frame(predicted))
    assert checks.validate_submission(path) is True
    out = capsys.readouterr().out.strip()
    assert out.startswith("✓") and f"{N_TEST_ROWS:,} predictions" in out
    assert len(out.splitlines()) == 1


# --- Each malformed submission: exactly its one message --------------------------------------


def _header(table):
    return table.rename(columns={"ImageId": "ImageID", "Label": "label"})


def _label(value):
    def change(table):
        table = table.astype({"Label": object})
        table.loc[0, "Label"] = value
        return table

    return change


def _duplicate(table):
    table = table.copy()
    table.loc[5, "ImageId"] = table.loc[4, "ImageId"]
    return table


def _imageid(value):
    def change(table):
        table = table.astype({"ImageId": object})
        table.loc[0, "ImageId"] = value
        return table

    return change


MALFORMED = {
    # name: (how the table is broken, what its one message must say)
    "wrong header": (_header, ["the header is 'ImageID,label'", "expected 'ImageId,Label'"]),
    "27,999 rows": (lambda t: t.iloc[:-1], ["expected 28,000 rows", "found 27,999"]),
    "duplicate ids": (_duplicate, ["ImageId appears more than once", "5 (rows 6, 7)"]),
    "label 10": (_label(10), ["row 2 (ImageId 1): the label '10' is not a digit 0-9"]),
    "label -1": (_label(-1), ["row 2 (ImageId 1): the label '-1' is not a digit 0-9"]),
    "label 7.5": (_label(7.5), ["the label '7.5' is not a digit 0-9"]),
    "text label": (_label("seven"), ["row 2 (ImageId 1): the label 'seven' is text"]),
    "blank label": (_label(None), ["row 2 (ImageId 1): the Label is blank"]),
    "id 1.5": (_imageid(1.5), ["the ImageId '1.5' is not a whole number"]),
    "id text": (_imageid("one"), ["the ImageId 'one' is not a whole number"]),
    "id 0": (_imageid(0), ["row 2 (ImageId 0): the ImageId 0 is not between 1 and 28,000"]),
    "extra column": (
        lambda t: t.assign(Confidence=1.0),
        ["the header is 'ImageId,Label,Confidence'", "only these two columns"],
    ),
    "swapped columns": (lambda t: t[["Label", "ImageId"]], ["ImageId first, then Label"]),
    "no header": (lambda t: t, ["the first row is '1,", "expected the header 'ImageId,Label'"]),
    "index column": (lambda t: t, ["expected 'ImageId,Label'", "index=False"]),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_each_malformed_submission_gets_exactly_its_one_message(name, tmp_path, predicted):
    change, expected = MALFORMED[name]
    options = {"header": False} if name == "no header" else {}
    options |= {"index": True} if name == "index column" else {}
    path = write(tmp_path, change(frame(predicted)), **options)
    found = problems(path)
    assert len(found) == 1, found
    for text in expected:
        assert text in found[0]
    assert "\n" not in found[0] and len(found[0]) < 200


def test_a_row_too_many_says_so_and_why(tmp_path, predicted):
    table = frame(predicted)
    found = problems(write(tmp_path, pd.concat([table, table.iloc[:1].assign(ImageId=28_001)])))
    assert found == [
        "row 28002 (ImageId 28001): the ImageId 28001 is not between 1 and 28,000",
        "expected 28,000 rows (ImageId 1 to 28,000), found 28,001",
    ]


def test_the_missing_ids_are_named_when_few(tmp_path, predicted):
    (found,) = problems(write(tmp_path, frame(predicted).drop(index=[9, 99])))
    assert "found 27,998" in found and "missing: ImageId 10, 100" in found


def test_a_problem_repeated_in_many_rows_is_one_line_with_three_examples(tmp_path, predicted):
    table = frame(predicted).astype({"Label": object})
    table.loc[:99, "Label"] = "seven"
    (found,) = problems(write(tmp_path, table))
    assert found.startswith("100 rows have a label that is text")
    assert found.count("'seven'") == 3 and found.endswith("and 97 more")


def test_several_problems_give_several_lines(tmp_path, predicted, capsys):
    table = _header(_label(10)(_duplicate(frame(predicted))).iloc[:-2])
    path = write(tmp_path, table)
    found = problems(path)
    assert len(found) == 4, found
    assert checks.validate_submission(path) is False
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("✘") and out[1:] == [f"  - {problem}" for problem in found]


def test_blank_lines_are_one_problem(tmp_path, predicted):
    path = write(tmp_path, frame(predicted))
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    lines[10:10] = ["", ""]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (found,) = problems(path)
    assert "2 blank rows" in found


def test_a_row_with_an_extra_field_is_named(tmp_path, predicted):
    path = write(tmp_path, frame(predicted))
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    lines[3] += ",9"
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (found,) = problems(path)
    assert found == "row 4 (ImageId 3): 3 fields where the header has 2"


# --- Files that are not submissions ----------------------------------------------------------


def _sparse(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as stream:
        stream.truncate(2 * 1024**3)  # 2 GB that take no disk: must be refused unread
    return path


NOT_FILES = {
    "missing": (lambda tmp: tmp / "nothing.csv", "there is no file"),
    "folder": (lambda tmp: tmp, "is a folder"),
    "device": (lambda tmp: "/dev/zero", "not a regular file"),
    "huge": (_sparse, "the file is 2.0 GB"),
    "just over the cap": (
        lambda tmp: (tmp / "big.csv").write_bytes(b"1" * (MAX_BYTES + 1)) and tmp / "big.csv",
        "the file is 4.0 MB",
    ),
    "empty": (lambda tmp: (tmp / "e.csv").write_bytes(b"") or tmp / "e.csv", "the file is empty"),
    "blank": (lambda tmp: (tmp / "b.csv").write_bytes(b"\n \n") and tmp / "b.csv", "is empty"),
    "binary": (lambda tmp: (tmp / "p.csv").write_bytes(b"\x89PNG\x00") and tmp / "p.csv", "binary"),
    "latin-1": (
        lambda tmp: (
            (tmp / "l.csv").write_bytes("ImageId,Label\n1,é\n".encode("latin-1")) and tmp / "l.csv"
        ),
        "not UTF-8 text (byte 0xe9",
    ),
    "nul in path": (lambda tmp: "sub\x00.csv", "not a valid file path"),
}


@pytest.mark.parametrize("name", NOT_FILES)
def test_what_is_not_a_submission_file_is_one_message(name, tmp_path):
    make, expected = NOT_FILES[name]
    (found,) = problems(make(tmp_path))
    assert expected in found


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    (found,) = problems(tmp_path / "pipe.csv")
    assert "not a regular file" in found


def test_a_dataframe_with_wrong_columns_or_size_is_refused(predicted):
    (found,) = problems(frame(predicted)[["Label"]])
    assert "the header is 'Label'" in found
    (found,) = problems(pd.DataFrame(np.zeros((10 * N_TEST_ROWS + 1, 2))))
    assert "found 280,001 x 2" in found


# --- check(): a submission is scored, any other value answered --------------------------------


@pytest.fixture(scope="module")
def hidden() -> np.ndarray:
    """The hidden labels, derived from fetch_mnist (not from the module that scores them)."""
    target = checks.fetch_mnist(verbose=False).target.astype(np.int64)
    return target[split()[1]]


def with_errors(labels: np.ndarray, count: int) -> np.ndarray:
    changed = labels.copy()
    changed[:count] = (changed[:count] + 1) % 10
    return changed


def errors_for(threshold: float) -> int:
    return round((1 - threshold) * N_TEST_ROWS)


@pytest.mark.slow
def test_the_hidden_labels_are_fetch_mnists_in_test_csv_order(hidden):
    scoring.labels.cache_clear()
    assert (kaggle_test_labels() == hidden).all()
    assert (scoring.labels("kaggle_test") == hidden).all()


@pytest.mark.slow
def test_check_scores_a_path_a_dataframe_and_an_array_alike(flag, hidden, tmp_path):
    right = with_errors(hidden, errors_for(flag.threshold) - 1)
    wrong = with_errors(hidden, errors_for(flag.threshold) + 1)
    for value in (right, frame(right), write(tmp_path, frame(right))):
        assert judge(flag.id, value).status == CORRECT
    path = tmp_path / "submission.csv"
    frame(wrong).to_csv(path, index=False)
    for value in (wrong, frame(wrong), path, str(path)):
        outcome = judge(flag.id, value)
        assert outcome.status == WRONG and "short" in outcome.detail


@pytest.mark.slow
def test_check_records_the_predictions_read_never_the_path(flag, hidden, tmp_path, monkeypatch):
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / RECORD_FILE))
    path = write(tmp_path, frame(hidden))
    assert checks.check(flag.id, path)
    (record,) = read_records(tmp_path / RECORD_FILE)
    assert record.value == hidden.tolist()
    assert judge_flag(flag, [record.value], standard(flag, {}, {})).verdict is Verdict.CAPTURED


def test_the_grader_never_opens_a_recorded_path(flag, predicted, tmp_path):
    path = write(tmp_path, frame(predicted))
    for recorded in (path, str(tmp_path), "/dev/zero"):
        assert judge_flag(flag, [recorded], standard(flag, {}, {})).verdict is Verdict.WRONG


def test_a_bad_submission_is_a_one_line_verdict_naming_every_problem(flag, tmp_path, predicted):
    table = _label("seven")(frame(predicted).iloc[:-1])
    outcome = judge(flag.id, write(tmp_path, table))
    assert outcome.status == INVALID
    assert "expected 28,000 rows" in outcome.detail and "'seven'" in outcome.detail
    assert "\n" not in outcome.detail


class Unprintable:
    def __str__(self):
        raise RuntimeError("no")

    __repr__ = __str__


class BrokenFrame(pd.DataFrame):
    def to_csv(self, *args, **kwargs):
        raise MemoryError("boom")


HOSTILE = {
    "device": "/dev/zero",
    "folder": "/",
    "bytes": b"ImageId,Label\n1,7\n",
    "none": None,
    "wrong columns": pd.DataFrame({"a": [1], "b": [2]}),
    "empty frame": pd.DataFrame(),
    "broken frame": BrokenFrame({"ImageId": [1], "Label": [7]}),
    "unprintable": Unprintable(),
    "long path": "x" * 10_000,
    "series": pd.Series([1, 2]),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_check_never_raises_on_hostile_values(name, flag, capsys, tmp_path):
    value = HOSTILE[name]
    outcome = checks.check(flag.id, value)
    assert not outcome
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert validate_submission(value) is False
    assert "Traceback" not in capsys.readouterr().out


def test_check_never_raises_on_a_2_gb_file(flag, tmp_path, capsys):
    outcome = checks.check(flag.id, _sparse(tmp_path))
    assert outcome.status == INVALID and "2.0 GB" in outcome.detail


def test_the_command_line_takes_a_submission_path(flag, tmp_path, predicted):
    path = write(tmp_path, frame(predicted))
    assert parse_value(flag.id, path) == path
    assert parse_value(flag.id, "[1, 2]") == [1, 2]


def test_a_recorded_submission_fits_a_record_line(flag, predicted):
    line = json.dumps({"flag": flag.id, "value": plain_value(flag, predicted)})
    assert len(line) < LONGEST_RECORD


# --- The grader: a submission file written inside the sandbox ---------------------------------

GRADED = """\
import json, os
import numpy as np, pandas as pd
import checks
from checks.catalogue import Flag, flags
flags()["{id}"] = Flag(**{fields})  # the test's flag, in the kernel's catalogue too
from checks.kaggle import kaggle_test_labels
y_pred = kaggle_test_labels()
{make}
pd.DataFrame({{"ImageId": np.arange(1, len(y_pred) + 1), "Label": y_pred}}).to_csv(
    "submission.csv", index=False
)
{check}
"""
CHECK = 'checks.check("{id}", "submission.csv")'
#: The kernel records a path, not predictions: the grader must not open it.
RECORDS_A_PATH = (
    'checks.check("{id}", ...)\n'
    'with open(os.environ["CHECKS_RECORD"], "a") as out:\n'
    '    out.write(json.dumps({{"flag": "{id}", "value": os.path.abspath("submission.csv")}}))\n'
)
GRADED_CASES = {
    "right": ("y_pred[:{right}] = (y_pred[:{right}] + 1) % 10", CHECK),
    "wrong": ("y_pred[:{wrong}] = (y_pred[:{wrong}] + 1) % 10", CHECK),
    "malformed": ("y_pred = y_pred[:-1]", CHECK),
    "path recorded": ("", RECORDS_A_PATH),
}


@pytest.mark.slow
def test_the_grader_scores_a_submission_file_written_in_its_sandbox(flag, tmp_path, monkeypatch):
    # The file is written from the hidden labels the run can read without the grader's dealing:
    # run on the files as they are (the dealing is tested in test_grading_withheld).
    monkeypatch.setattr("checks.grading.session.prepare_withheld", lambda *args, **kwargs: {})
    from dataclasses import asdict

    fields = repr(asdict(flag))
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name, (make, check) in GRADED_CASES.items():
        make = make.format(
            right=errors_for(flag.threshold) // 2, wrong=errors_for(flag.threshold) + 1
        )
        source = GRADED.format(id=flag.id, fields=fields, make=make, check=check.format(id=flag.id))
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nbformat.write(notebook, folder / f"{name.replace(' ', '_')}.ipynb")
    rows = grade_quietly(folder, tmp_path)
    names = [name.replace(" ", "_") for name in GRADED_CASES]
    assert {name: rows[name]["status"] for name in names} == dict.fromkeys(names, "ok")
    earned = {name: int(rows[name][flag.id]) for name in names}
    assert earned == {"right": flag.points, "wrong": 0, "malformed": 0, "path_recorded": 0}
