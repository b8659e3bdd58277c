"""Score flags: predictions judged by a metric against labels the package loads, vs a threshold.

Right (above the threshold), wrong (below), short and hostile predictions, in ``check()`` and in
the grader (its judging, the variant's bar, and ``grade_folder`` on tiny notebooks). The
predictions are made from MNIST's own test labels with a chosen number of them changed, so the
expected accuracy is computed, never typed.
"""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
from conftest import grade_quietly

import checks
from checks import scoring
from checks.canonical import BadAnswer, canonical, plain_value, predictions
from checks.catalogue import LABEL_SETS, METRICS, _parse_flag, flags, get_flag
from checks.checker import FlagNotCaptured, judge
from checks.grading.judging import judge_flag
from checks.grading.status import Verdict
from checks.grading.step import score_bar, standard, variant_standard
from checks.grading.variant_keys import VariantKeys
from checks.outcome import CORRECT, INVALID
from checks.recording import LONGEST_RECORD, RECORD_FILE, RECORD_VARIABLE, read_records

SCORE_FLAGS = [flag for flag in flags().values() if flag.kind == "score"]
FLAG = SCORE_FLAGS[0]


@pytest.fixture(scope="module")
def truth(mnist_dir) -> np.ndarray:
    """MNIST's test labels, as fetch_mnist gives them (strings), loaded offline."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DATA_DIR", str(mnist_dir))
        return checks.fetch_mnist(verbose=False).target[60_000:]


pytestmark = pytest.mark.usefixtures("offline_mnist")


def with_errors(truth: np.ndarray, count: int) -> np.ndarray:
    """The labels with the first ``count`` changed to another digit: accuracy 1 - count/size."""
    changed = truth.copy()
    changed[:count] = [str((int(label) + 1) % 10) for label in truth[:count]]
    return changed


def errors_for(accuracy: float, size: int) -> int:
    return round((1 - accuracy) * size)


# --- The catalogue ---------------------------------------------------------------------------

ENTRY = {"id": "9.1", "title": "t", "points": 5, "hint": "h"}
SCORE = {"kind": "score", "metric": "accuracy", "threshold": 0.97, "labels": "mnist_test"}


def test_every_score_flag_names_a_known_metric_and_label_set():
    assert SCORE_FLAGS, "the course has a score flag"
    assert set(scoring.LOADERS) == set(LABEL_SETS)  # each label set has its loader
    for flag in SCORE_FLAGS:
        assert flag.metric in METRICS and flag.labels in LABEL_SETS
        assert not flag.keyed and 0 < (flag.threshold or 0) <= 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metric": "f1"}, "metric must be one of"),
        ({"labels": "mnist_train"}, "labels must be one of"),
        ({"threshold": 97}, "threshold must be in"),
        ({"threshold": float("nan")}, "threshold must be in"),
        ({"threshold": "0.97"}, "threshold must be a number"),
        ({"threshold": True}, "threshold must be a number"),
        ({"threshold": None}, "needs threshold"),
        ({"decimals": 4}, "'decimals' is required for float flags and only"),
    ],
)
def test_the_catalogue_refuses_a_malformed_score_flag(changes, message):
    entry = {**ENTRY, **SCORE, **changes}
    entry = {name: value for name, value in entry.items() if value is not None}
    with pytest.raises(ValueError, match=message):
        _parse_flag(entry)


def test_score_fields_belong_to_score_flags_only():
    with pytest.raises(ValueError, match="threshold only for score flags"):
        _parse_flag({**ENTRY, "kind": "integer", "threshold": 0.9})
    assert _parse_flag({**ENTRY, **SCORE}).threshold == SCORE["threshold"]


# --- check() ---------------------------------------------------------------------------------


def test_predictions_at_or_above_the_threshold_capture_the_flag(truth, capsys):
    count = errors_for(FLAG.threshold, len(truth)) - 1
    assert bool(checks.check(FLAG.id, with_errors(truth, count))) is True
    out = capsys.readouterr().out
    assert f"Accuracy {1 - count / len(truth):.4f} ≥ {FLAG.threshold:g}" in out
    assert f"+{FLAG.points} pts" in out


def test_exactly_the_threshold_is_enough(truth):
    count = errors_for(FLAG.threshold, len(truth))
    assert 1 - count / len(truth) == pytest.approx(FLAG.threshold)
    assert judge(FLAG.id, with_errors(truth, count)).status == CORRECT


def test_predictions_below_the_threshold_say_how_far(truth, capsys):
    count = errors_for(FLAG.threshold, len(truth)) + 50
    assert bool(checks.check(FLAG.id, with_errors(truth, count))) is False
    out = capsys.readouterr().out
    short = FLAG.threshold - (1 - count / len(truth))
    assert f"< {FLAG.threshold:g} ({short:.4f} short)" in out and "Hint:" in out


@pytest.mark.parametrize("form", ["strings", "ints", "floats", "objects", "list", "uint8"])
def test_any_array_like_of_digits_is_read(truth, form):
    digits = truth.astype(np.int64)
    value = {
        "strings": truth.astype(str),
        "ints": digits,
        "floats": digits.astype(float),
        "objects": truth,
        "list": [int(d) for d in digits],
        "uint8": digits.astype(np.uint8),
    }[form]
    assert (predictions(FLAG, value) == digits).all()
    assert judge(FLAG.id, value).status == CORRECT


class Exploding:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("boom")


class LyingLength:
    def __len__(self):
        return 10**30


class Unprintable:
    def __repr__(self):
        raise RuntimeError("no repr")


def hostile_values(truth: np.ndarray) -> dict[str, tuple[object, str]]:
    size = len(truth)
    as_float = truth.astype(float)
    as_float[17] = np.nan
    with_object = truth.copy()
    with_object[3] = Unprintable()
    return {
        "short": (truth[:100], "got 100 of them"),
        "long": (np.concatenate([truth, truth]), f"got {2 * size:,} of them"),
        "empty": ([], "got 0 of them"),
        "column": (truth.reshape(-1, 1), "use .ravel()"),
        "2-D": (np.zeros((2, 5)), "shape (2, 5)"),
        "ragged": ([[1, 2]] * (size // 2) + [[1]] * (size // 2), "not an array"),
        "NaN": (as_float, "NaN"),
        "not digits": (np.where(truth == "3", "three", truth), "such as the string 'three'"),
        "ten": (truth.astype(int) + 1, "not digits, such as the integer 10"),
        "negative": (-truth.astype(int), "not digits, such as the integer -"),
        "fraction": (truth.astype(float) + 0.5, "not digits, such as the number"),
        "booleans": (np.ones(size, dtype=bool), "entries of type bool"),
        "string": ("7" * size, "got the string"),
        "None": (None, "got None"),
        "dict": ({i: 0 for i in range(size)}, "got a dict"),
        "a number": (7, "got an array of shape ()"),
        "huge range": (range(10**15), "got 1,000,000,000,000,000 of them"),
        "generator": ((d for d in truth), "got an array of shape ()"),
        "exploding": (Exploding(), "cannot be read"),
        "lying length": (LyingLength(), "cannot be read"),
        "unprintable entry": (with_object, "not digits"),
        "complex": (truth.astype(int) + 0j, "entries of type complex128"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "short", "long", "empty", "column", "2-D", "ragged", "NaN", "not digits", "ten",
        "negative", "fraction", "booleans", "string", "None", "dict", "a number", "huge range",
        "generator", "exploding", "lying length", "unprintable entry", "complex",
    ],
)  # fmt: skip
def test_hostile_predictions_get_one_line_never_a_traceback(truth, capsys, case):
    value, message = hostile_values(truth)[case]
    outcome = judge(FLAG.id, value)
    assert outcome.status == INVALID
    assert message in outcome.detail and "\n" not in outcome.detail
    assert bool(checks.check(FLAG.id, value)) is False
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    with pytest.raises(BadAnswer):
        canonical(FLAG, value)


def test_strict_mode_refuses_a_score_below_the_threshold(truth, monkeypatch):
    monkeypatch.setenv("CHECKS_STRICT", "1")
    count = errors_for(FLAG.threshold, len(truth)) + 1
    with pytest.raises(FlagNotCaptured, match="short"):
        checks.check(FLAG.id, with_errors(truth, count))
    assert bool(checks.check(FLAG.id, truth)) is True


def test_labels_that_cannot_be_loaded_are_one_line(monkeypatch, capsys, truth, tmp_path):
    scoring.labels.cache_clear()
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))  # an empty folder
    try:
        assert bool(checks.check(FLAG.id, truth)) is False
    finally:
        scoring.labels.cache_clear()
    out = capsys.readouterr().out
    assert "could not be checked" in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_the_labels_load_offline_from_the_data_folder(no_network, truth):
    scoring.labels.cache_clear()
    assert (scoring.labels(FLAG.labels) == truth.astype(int)).all()


def test_predictions_are_recorded_in_one_line_under_the_cap(truth, tmp_path, monkeypatch):
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / RECORD_FILE))
    checks.check(FLAG.id, truth)
    line = (tmp_path / RECORD_FILE).read_text(encoding="utf-8").splitlines()[0]
    assert len(line) < LONGEST_RECORD // 10
    (record,) = read_records(tmp_path / RECORD_FILE)
    assert record.value == plain_value(FLAG, truth)
    assert record.canonical == canonical(FLAG, truth)


def test_the_command_line_verifies_predictions(truth):
    from checks.cli import parse_value

    value = parse_value(FLAG.id, json.dumps([int(d) for d in truth]))
    assert judge(FLAG.id, value).status == CORRECT
    with pytest.raises(ValueError, match="JSON array"):
        parse_value(FLAG.id, "[7, 2,")


# --- The grader ------------------------------------------------------------------------------


def test_the_grader_captures_a_score_at_or_above_the_threshold(truth):
    right = plain_value(FLAG, with_errors(truth, 10))
    wrong = plain_value(FLAG, with_errors(truth, errors_for(FLAG.threshold, len(truth)) + 1))
    bar = standard(FLAG, {}, {})
    assert judge_flag(FLAG, [right], bar).verdict is Verdict.CAPTURED
    assert judge_flag(FLAG, [wrong], bar).verdict is Verdict.WRONG
    assert judge_flag(FLAG, [], bar).verdict is Verdict.NOT_ANSWERED
    assert judge_flag(FLAG, [right, wrong], bar).verdict is Verdict.SEVERAL


HOSTILE_RECORDS = {
    "short": list(range(10)) * 10,
    "string": "7" * 10_000,
    "None": None,
    "object": {"a": 1},
    "nulls": [None] * 10_000,
    "ten": [10] * 10_000,
    "nested": [[1]] * 10_000,
    "float": 1e308,
}


@pytest.mark.parametrize("name", HOSTILE_RECORDS)
def test_the_grader_gives_hostile_records_nothing(name):
    recorded = HOSTILE_RECORDS[name]
    assert judge_flag(FLAG, [recorded], standard(FLAG, {}, {})).verdict is Verdict.WRONG


def test_under_a_variant_the_bar_is_the_lower_of_threshold_and_solution_score(truth):
    solution_under_variant = FLAG.threshold - 0.05
    assert score_bar(FLAG, solution_under_variant) == solution_under_variant
    assert score_bar(FLAG, 0.999) == FLAG.threshold
    reaches = plain_value(FLAG, with_errors(truth, errors_for(solution_under_variant, len(truth))))
    misses = plain_value(FLAG, with_errors(truth, errors_for(solution_under_variant - 0.01, 10**4)))
    right = plain_value(FLAG, truth)
    variant = VariantKeys({}, {}, [], {FLAG.id: solution_under_variant})
    variant_bar = variant_standard(FLAG, variant)
    assert variant_bar is not None and variant_bar.bar == solution_under_variant
    grade = judge_flag(FLAG, [right], standard(FLAG, {}, {}), [reaches], variant_bar)
    assert grade.verdict is Verdict.CAPTURED
    grade = judge_flag(FLAG, [right], standard(FLAG, {}, {}), [misses], variant_bar)
    assert grade.verdict is Verdict.NOT_UNDER_VARIANT
    # the variant's predictions alone do not reach the default threshold
    assert judge_flag(FLAG, [reaches], standard(FLAG, {}, {})).verdict is Verdict.WRONG


def test_variant_keys_keep_the_solution_score_through_their_cache(monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "x")
    keys = VariantKeys({"n_train": 1000}, {}, [], {FLAG.id: 0.9123})
    assert VariantKeys.from_json(keys.to_json()).scores == {FLAG.id: 0.9123}


SUBMISSION = """\
import checks
import numpy as np
y_test = checks.fetch_mnist().target[60_000:]
{make}
checks.check("{flag}", y_pred)
"""

CASES = {
    "right": "y_pred = y_test.copy(); y_pred[:{right}] = '0'",
    "wrong": "y_pred = y_test.copy(); y_pred[:{wrong}] = '0'",
    "short": "y_pred = y_test[:100]",
    "hostile": "y_pred = np.where(y_test == '1', 'one', y_test)",
}


@pytest.mark.slow  # grades real notebooks: each run executes one
def test_grade_folder_judges_score_flags_in_its_own_process(
    tmp_path, truth, mnist_dir, monkeypatch
):
    """Tiny notebooks of the score flag's chapter: only the one above the threshold earns it.

    The notebooks build their predictions from ``y_test``, so this runs on MNIST as it is: with
    the grader's dealing (labels withheld from the run), tested in test_grading_withheld, every
    one of them would earn 0.
    """
    monkeypatch.setattr("checks.grading.session.prepare_withheld", lambda *args, **kwargs: {})
    # Changing n labels to '0' costs n minus those already '0': count them, to stay on each side.
    zero_share = float(np.mean(truth[:1000] == "0"))
    over = errors_for(FLAG.threshold, len(truth)) // 2
    under = int(errors_for(FLAG.threshold, len(truth)) / (1 - zero_share)) + 100
    assert judge(FLAG.id, np.where(np.arange(len(truth)) < over, "0", truth)).correct
    assert not judge(FLAG.id, np.where(np.arange(len(truth)) < under, "0", truth)).correct
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name, make in CASES.items():
        source = SUBMISSION.format(make=make.format(right=over, wrong=under), flag=FLAG.id)
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nbformat.write(notebook, folder / f"{name}.ipynb")
    rows = grade_quietly(folder, tmp_path)
    assert {name: rows[name]["status"] for name in CASES} == dict.fromkeys(CASES, "ok")
    earned = {name: int(rows[name][FLAG.id]) for name in CASES}
    assert earned == {"right": get_flag(FLAG.id).points, "wrong": 0, "short": 0, "hostile": 0}


# --- A table of predictions: an ensemble against its members (flag 8.3) ----------------------

TABLE_FLAG = next(flag for flag in SCORE_FLAGS if flag.metric == "gain_over_members")


def test_an_ensemble_that_beats_every_member_and_95_percent_captures_the_table_flag(truth):
    ensemble, members = with_errors(truth, 200), [with_errors(truth, 300), with_errors(truth, 250)]
    outcome = judge(TABLE_FLAG.id, [ensemble, *members])
    assert outcome.status == CORRECT and "gain_over_members 0.0050" in outcome.detail.lower()
    assert judge(TABLE_FLAG.id, [ensemble, with_errors(truth, 150)]).status != CORRECT
    assert judge(TABLE_FLAG.id, [ensemble, ensemble]).status != CORRECT  # no better
    junk = np.random.default_rng(0).integers(0, 10, len(truth))
    junk_table = [junk, (junk + 1) % 10]  # beats a worse "member", not 95 %
    assert judge(TABLE_FLAG.id, junk_table).status != CORRECT


@pytest.mark.parametrize(
    "table",
    [
        "one row",
        [np.zeros(10_000, int)],  # the ensemble alone
        [np.zeros(9_999, int)] * 2,
        [np.zeros(10_000, int)] * 12,  # more than ten members
        [np.full(10_000, 11)] * 2,
    ],
)
def test_a_table_of_the_wrong_shape_or_entries_is_refused_in_a_line(table):
    with pytest.raises(BadAnswer, match="a table of predictions"):
        canonical(TABLE_FLAG, table)


def test_a_table_is_recorded_as_rows_of_digits(truth):
    plain = plain_value(TABLE_FLAG, [truth, with_errors(truth, 1)])
    assert len(plain) == 2 and plain[0] == truth.astype(int).tolist()
    assert canonical(TABLE_FLAG, plain) == canonical(TABLE_FLAG, [truth, with_errors(truth, 1)])
