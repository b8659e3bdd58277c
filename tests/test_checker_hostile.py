"""check() never breaks: any value, however hostile, gets one ⚠ line and False (strict: raises).

The keys are synthetic (made here with make_key), never the course's answers.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import checks
from checks import checker, recording
from checks.canonical import BadAnswer, candidates, canonical, plain_value, read_answer
from checks.catalogue import Flag
from checks.describe import describe
from checks.judge import Standard, judge
from checks.outcome import INVALID
from checks.recording import RECORD_FILE, RECORD_VARIABLE

INTEGER = Flag("9.1", "an integer", 10, "integer", "hint")
FLOAT = Flag("9.2", "a float", 10, "float", "hint", decimals=4)
STRING = Flag("9.3", "a string", 10, "string", "hint")
ARRAY = Flag("9.4", "an array", 10, "array", "hint", shape=(2, 2))


# Synthetic answers, not the course's (conftest.synthetic_keys): keys made here, for the mechanism.
pytestmark = pytest.mark.usefixtures("synthetic_keys")


# --- Hostile values ------------------------------------------------------------------------


class Boom(RuntimeError):
    """An error whose own message cannot be read either."""

    def __str__(self) -> str:
        raise RuntimeError("no message either")


def _raise(*args: object, **kwargs: object) -> object:
    raise Boom


class ReprRaises:
    __repr__ = __str__ = _raise


class FloatRaises(Fraction):
    """A real number (a Fraction) whose conversion to float raises."""

    __float__ = _raise


class EqRaises(Fraction):
    """A real number equal to nothing: comparing it raises."""

    __eq__ = __ne__ = _raise
    __hash__ = Fraction.__hash__


class Unbooleable:
    __bool__ = _raise


class EqIsUnbooleable(Fraction):
    """Comparing it gives something that is neither true nor false."""

    def __eq__(self, other: object) -> Unbooleable:
        return Unbooleable()

    def __ne__(self, other: object) -> Unbooleable:
        return Unbooleable()

    __hash__ = Fraction.__hash__


class ArrayRaises:
    __array__ = _raise


class HugeArray:
    """An object whose array is far larger than any memory."""

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        return np.empty((10**8, 10**8))


class EveryDunderRaises:
    """Even asking for its class raises."""

    __repr__ = __str__ = __float__ = __int__ = __index__ = __bool__ = _raise
    __eq__ = __ne__ = __lt__ = __len__ = __iter__ = __array__ = __format__ = _raise
    __hash__ = None  # type: ignore[assignment]

    def __getattribute__(self, name: str) -> object:
        raise Boom


class LyingSubclassOfInt(int):
    __repr__ = __str__ = __format__ = _raise


def nested(depth: int) -> list:
    outer: list = []
    inner = outer
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return outer


def generator():
    yield 1234


HOSTILE = {
    "repr raises": ReprRaises(),
    "float raises": FloatRaises(1234),
    "eq raises": EqRaises(1234),
    "bool of eq raises": EqIsUnbooleable(1234),
    "array raises": ArrayRaises(),
    "huge array": HugeArray(),
    "every dunder raises": EveryDunderRaises(),
    "float 1e25": 1e25,
    "float -1e300": -1e300,
    "int 10**5000": 10**5000,
    "int of 10 million digits": 1 << 33_300_000,
    "long double 1e4000": np.longdouble("1e4000"),
    "nested 10,000 deep": nested(10_000),
    "huge broadcast view": np.broadcast_to(np.int64(1), (10**6, 10**6)),
    "generator": generator(),
    "dict": {"answer": 1234},
    "class": int,
    "decimal": Decimal("1234"),
    "lone surrogate": "\ud800",
}
NOT_WHOLE = {
    "long double 1234.9": np.longdouble("1234.9"),
    "fraction 12349/10": Fraction(12349, 10),
    "decimal 1234.9": Decimal("1234.9"),
    "float 1234.5": 1234.5,
}


def assert_one_warning_line(out: str) -> None:
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("⚠ Flag") and "Can't check this value" in lines[0]
    assert "Traceback" not in out and len(lines[0]) < 400


# On a float flag these are numbers like any other (comparing them is never needed): wrong.
FINE_FOR_FLOATS = {"eq raises", "bool of eq raises"}
CASES = [("1.1", name) for name in [*HOSTILE, *NOT_WHOLE]] + [
    ("1.4", name) for name in HOSTILE if name not in FINE_FOR_FLOATS
]
VALUES = {**HOSTILE, **NOT_WHOLE}


@pytest.mark.parametrize(("flag_id", "name"), CASES, ids=[f"{f}-{n}" for f, n in CASES])
def test_a_hostile_value_gets_one_line_and_false(flag_id, name, capsys, monkeypatch):
    value = VALUES[name]
    started = time.perf_counter()
    assert not checks.check(flag_id, value)
    assert_one_warning_line(capsys.readouterr().out)
    assert checker.judge(flag_id, value).status == INVALID
    monkeypatch.setenv("CHECKS_STRICT", "1")
    with pytest.raises(checks.FlagNotCaptured, match=rf"Flag {flag_id}"):
        checks.check(flag_id, value)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("name", sorted(FINE_FOR_FLOATS))
def test_numbers_that_cannot_be_compared_are_still_judged_on_a_float_flag(name, capsys):
    assert not checks.check("1.4", HOSTILE[name])
    assert capsys.readouterr().out.startswith("✘ Flag 1.4")


@pytest.mark.parametrize(
    ("flag_id", "value", "shown"),
    [("1.1", 10**5000, "digits"), ("1.1", 1 << 33_300_000, "digits"), ("1.4", 1e25, "1e+25")],
    ids=["10**5000", "10 million digits", "1e25"],
)
def test_huge_numbers_are_called_far_too_large(flag_id, value, shown, capsys):
    assert not checks.check(flag_id, value)
    out = capsys.readouterr().out
    assert "far too large" in out and shown in out


@pytest.mark.parametrize("name", NOT_WHOLE)
def test_an_integer_flag_takes_only_whole_numbers(name, capsys):
    assert not checks.check("1.1", NOT_WHOLE[name])
    out = capsys.readouterr().out
    assert "whole number" in out or "got Decimal" in out


@pytest.mark.parametrize(
    "value",
    [1234.0, np.float32(1234), np.longdouble(1234), Fraction(2468, 2), np.array(1234.0)],
    ids=["float", "float32", "long double", "fraction", "0-d array"],
)
def test_whole_numbers_of_any_type_are_still_accepted(value, capsys):
    assert checks.check("1.1", value)
    assert "✔" in capsys.readouterr().out


def test_a_right_answer_that_cannot_be_printed_is_still_right(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / RECORD_FILE))
    assert checks.check("1.1", LyingSubclassOfInt(1234))
    assert "✔" in capsys.readouterr().out
    assert json.loads((tmp_path / RECORD_FILE).read_text())["value"] == 1234
    assert "LyingSubclassOfInt" in describe(LyingSubclassOfInt(1234))


def test_a_hostile_flag_id_is_one_line_too(capsys):
    assert not checks.check(EveryDunderRaises(), 1234)
    assert_one_warning_line(capsys.readouterr().out)
    assert not checks.check("1" * 10_000, 1234)
    assert len(capsys.readouterr().out) < 400


def test_an_unexpected_error_anywhere_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(checker, "_judged", _raise)  # what check() calls to judge
    assert not checks.check("1.1", 1234)
    out = capsys.readouterr().out
    assert_one_warning_line(out)
    assert "Boom" in out


# --- Canonical forms raise BadAnswer and nothing else --------------------------------------


@pytest.mark.parametrize("flag", [INTEGER, FLOAT, STRING, ARRAY], ids=lambda flag: flag.kind)
@pytest.mark.parametrize("name", HOSTILE)
def test_canonical_forms_raise_only_bad_answer(flag, name, synthetic_keys):
    value = HOSTILE[name]
    if flag is FLOAT and name in FINE_FOR_FLOATS:
        return
    for compute in (canonical, candidates, plain_value):
        with pytest.raises(BadAnswer) as error:
            compute(flag, value)
        assert "\n" not in str(error.value) and len(str(error.value)) < 300
    with pytest.raises(BadAnswer):
        judge(read_answer(flag, value), Standard(key=synthetic_keys["1.1"]))


def test_describing_a_value_never_raises():
    for value in [*HOSTILE.values(), 1 << 33_300_000]:
        text = describe(value)
        assert isinstance(text, str) and len(text) < 80 and "\n" not in text
    assert "digits" in describe(10**5000)


def test_arrays_from_untrusted_lists():
    assert canonical(ARRAY, [[1, 2], [3, 4]]) == "2x2:1,2,3,4"
    for value in ([[1, 2], [3, 10**30]], [[1e30, 2], [3, 4]], [[1, 2], [3]]):
        with pytest.raises(BadAnswer):
            canonical(ARRAY, value)


# --- Record mode -------------------------------------------------------------------------


def test_record_mode_never_breaks_check(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / RECORD_FILE))
    for value in HOSTILE.values():
        assert not checks.check("1.1", value)  # not recorded: not an answer
    capsys.readouterr()

    class UnwritableJson:
        @staticmethod
        def dumps(*args: object, **kwargs: object) -> str:
            raise Boom

    monkeypatch.setattr(recording, "json", UnwritableJson)
    assert checks.check("1.1", 1234)  # right, but not recorded
    assert not (tmp_path / RECORD_FILE).exists() or not (tmp_path / RECORD_FILE).read_text()
    monkeypatch.setattr(recording, "json", json)
    monkeypatch.setattr(checker, "load_keys", lambda: {})
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / "a-file" / "not-a-folder" / RECORD_FILE))
    (tmp_path / "a-file").write_text("")
    with pytest.warns(UserWarning, match="could not be recorded"):
        checks.check("1.1", 1234)
    assert "No answer key" in capsys.readouterr().out


def test_recorded_integers_are_plain_and_exact(tmp_path, monkeypatch):
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / RECORD_FILE))
    checks.check("1.1", Fraction(2468, 2))
    checks.check("1.1", np.longdouble(1234))
    lines = [json.loads(line) for line in (tmp_path / RECORD_FILE).read_text().splitlines()]
    assert [line["value"] for line in lines] == [1234, 1234]


def test_the_record_reader_skips_deeply_nested_lines(tmp_path):
    record = tmp_path / RECORD_FILE
    record.write_text("[" * 100_000 + "\n" + json.dumps({"flag": "1.1", "value": 1}) + "\n")
    assert [(r.flag, r.value) for r in recording.read_records(record)] == [("1.1", 1)]


JSON_TEXTS = [
    "null",
    "true",
    "[]",
    "{}",
    '"' + "x" * 100_000 + '"',
    "1" * 4_000,
    "1e308",
    "-1e400",
    "Infinity",
    "NaN",
    "[[1, 2], [3, 4.5]]",
    '[[1, 2], [3, "4"]]',
    "[" * 900 + "]" * 900,
    '{"flag": "1.1"}',
]


@pytest.mark.parametrize("flag", [INTEGER, FLOAT, STRING, ARRAY], ids=lambda flag: flag.kind)
@pytest.mark.parametrize("text", JSON_TEXTS, ids=range(len(JSON_TEXTS)))
def test_whatever_a_record_file_holds_the_grader_can_judge(flag, text, synthetic_keys):
    """The grader judges recorded JSON values: a bad one is a BadAnswer, never another error."""
    value = json.loads(text)
    try:
        texts = candidates(flag, value)
    except BadAnswer:
        return
    assert all(isinstance(text, str) for text in texts)
    judge(read_answer(flag, value), Standard(key=synthetic_keys["1.1"]))


def test_the_record_reader_skips_overlong_lines_without_holding_them(tmp_path):
    record = tmp_path / RECORD_FILE
    good = json.dumps({"flag": "1.1", "value": 1}) + "\n"
    with record.open("w") as stream:
        stream.write(good)
        stream.write('{"flag": "1.1", "value": "' + "9" * (3 * recording.LONGEST_RECORD) + '"}\n')
        stream.write(good.replace("1}", "2}"))
        stream.write("x" * (recording.LONGEST_RECORD + 5))  # no newline at the end
    assert [(r.flag, r.value) for r in recording.read_records(record)] == [("1.1", 1), ("1.1", 2)]
