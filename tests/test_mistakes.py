"""Declared mistakes: their key format, check()'s targeted hint, the keys' refusals, the grader.

Synthetic answers and mistakes only (1234 is the right answer, 1000 a declared mistake).
"""

from __future__ import annotations

import csv
import html
import json

import nbformat
import pytest

import checks
from checks import checker
from checks.answer_keys import (
    KeyFileError,
    Mistake,
    dump_keys,
    load_keys,
    load_mistakes,
    make_key,
    mistakes_from_json,
)
from checks.authoring.keys import MistakeRefused, build_mistakes, distinct_mistakes
from checks.authoring.release import student_version
from checks.canonical import read_answer
from checks.catalogue import get_flag
from checks.grading.feedback import feedback_page
from checks.grading.gradebook import MISTAKE_PREFIX, write_gradebook
from checks.grading.judging import Grade, judge_flag
from checks.grading.status import RunStatus, Verdict
from checks.grading.submissions import Submission
from checks.judge import Standard, recognised_mistake
from checks.outcome import WRONG
from checks.recording import (
    MISTAKES_FILE,
    RECORD_FILE,
    RECORD_VARIABLE,
    RecordedAnswer,
    RecordedMistake,
    read_mistakes,
)

HINT = "That counts every image, not only the target digit's."
FLOAT_HINT = "That is the error rate, not the accuracy."

pytestmark = pytest.mark.usefixtures("synthetic_keys")


@pytest.fixture(scope="module")
def synthetic_mistake_set() -> dict[str, list[Mistake]]:
    return {
        "1.1": [Mistake(HINT, make_key("1.1", "1000", "tests"))],
        "1.4": [Mistake(FLOAT_HINT, make_key("1.4", "0.250", "tests"))],
    }


@pytest.fixture(autouse=True)
def synthetic_mistakes(synthetic_mistake_set, monkeypatch):
    monkeypatch.setattr(checker, "load_mistakes", lambda: synthetic_mistake_set)
    return synthetic_mistake_set


def test_a_declared_mistake_gets_its_hint_after_not_quite(capsys):
    outcome = checks.check("1.1", 1000)
    assert not outcome and outcome.status == WRONG and outcome.targeted
    out = capsys.readouterr().out
    assert f"Not quite — {HINT}" in out and "Hint:" not in out
    assert html.escape(HINT) in outcome._repr_html_()
    assert checker.judge("1.4", 0.2501).detail == FLOAT_HINT


def test_other_wrong_answers_get_the_flags_hint_and_right_ones_stay_right(capsys):
    assert not checks.check("1.1", 999)
    out = capsys.readouterr().out
    assert f"Not quite. Hint: {get_flag('1.1').hint}" in out and HINT not in out
    assert checks.check("1.1", 1234)


def test_mistakes_are_not_used_where_the_series_has_its_own_key(monkeypatch):
    monkeypatch.setattr(checker, "_series_key", lambda flag: make_key(flag.id, "1234", "series"))
    assert not checker.judge("1.1", 1000).targeted


def test_the_key_file_holds_the_mistakes_with_their_hints(tmp_path, synthetic_mistake_set):
    keys = {"1.1": make_key("1.1", "1234", "tests")}
    path = tmp_path / "keys.json"
    path.write_text(dump_keys(keys, synthetic_mistake_set), encoding="utf-8")
    assert load_keys(path) == keys
    assert load_mistakes(path) == synthetic_mistake_set
    assert "1000" not in path.read_text(encoding="utf-8")
    with pytest.raises(KeyFileError, match="without a hint"):
        mistakes_from_json({"1.1": [{"salt": "00"}]})
    with pytest.raises(KeyFileError, match="not a scrypt answer key"):
        mistakes_from_json({"1.1": [{"hint": "h", "salt": "00"}]})


ANSWERS = {"1.1": RecordedAnswer("1.1", 1234, "01_x.ipynb"), "1.4": RecordedAnswer("1.4", 0.5)}


def declared(flag: str, value: object, hint: str) -> RecordedMistake:
    return RecordedMistake(flag, value, "01_x.ipynb", hint)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (declared("1.1", 1234, "same as the answer"), "gives the right answer's value"),
        (declared("1.1", 1234.0, "same, as a float"), "gives the right answer's value"),
        (declared("1.4", 0.5004, "same bucket"), "gives the right answer's value"),
        (declared("1.4", 0.50051, "next bucket, accepted"), "gives the right answer's value"),
        (declared("1.1", 12.5, "not whole"), "whole number"),
        (declared("9.9", 1, "no flag"), "no flag"),
    ],
)
def test_a_mistake_the_checker_would_accept_is_refused(mistake, message):
    with pytest.raises(MistakeRefused, match=message):
        distinct_mistakes([mistake], ANSWERS)


def test_two_mistakes_with_one_value_are_refused_the_same_one_twice_counts_once():
    first, again = declared("1.1", 1000, HINT), declared("1.1", 1000.0, HINT)
    assert [m.hint for m, _ in distinct_mistakes([first, again], ANSWERS)["1.1"]] == [HINT]
    with pytest.raises(MistakeRefused, match="same value as the mistake"):
        distinct_mistakes([first, declared("1.1", 1000, "another hint")], ANSWERS)


def test_built_mistakes_are_recognised_and_keep_their_salt_when_unchanged():
    mistakes = build_mistakes([declared("1.1", 1000, HINT)], ANSWERS, {})
    flag = get_flag("1.1")
    assert recognised_mistake(read_answer(flag, 1000), tuple(mistakes["1.1"])) is not None
    assert recognised_mistake(read_answer(flag, 1234), tuple(mistakes["1.1"])) is None
    assert build_mistakes([declared("1.1", 1000, HINT)], ANSWERS, mistakes) == mistakes


def test_mistake_records_only_when_recording_and_refuses_author_errors(tmp_path, monkeypatch):
    assert checks.mistake("1.1", 1000, HINT) is None  # not recording: nothing written
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / RECORD_FILE))
    checks.mistake("1.1", 1000, HINT)
    assert [(m.flag, m.value, m.hint) for m in read_mistakes(tmp_path / MISTAKES_FILE)] == [
        ("1.1", 1000, HINT)
    ]
    assert not (tmp_path / RECORD_FILE).exists()  # never read as an answer
    with pytest.raises(ValueError, match="no flag"):
        checks.mistake("9.9", 1, HINT)
    with pytest.raises(ValueError, match="needs a hint"):
        checks.mistake("1.1", 1, "  ")


def test_release_removes_the_mistakes_cells():
    solution = nbformat.v4.new_notebook()
    solution.cells = [
        nbformat.v4.new_code_cell('checks.check("1.1", x)'),
        nbformat.v4.new_code_cell('checks.mistake("1.1", y, "h")', metadata={"tags": ["mistakes"]}),
    ]
    student = student_version(solution)
    assert [cell.source for cell in student.cells] == ['checks.check("1.1", x)']


def test_the_grader_names_the_mistake_in_feedback_and_gradebook(tmp_path, synthetic_mistake_set):
    flag = get_flag("1.1")
    key = make_key("1.1", "1234", "tests")
    standard = Standard(key=key, mistakes=tuple(synthetic_mistake_set["1.1"]))
    named = judge_flag(flag, [1000], standard)
    plain = judge_flag(flag, [999], standard)
    right = judge_flag(flag, [1234], standard)
    assert (named.verdict, named.mistake) == (Verdict.WRONG, HINT)
    assert plain.mistake is None and right.mistake is None
    grade = Grade(Submission("zoe", tmp_path / "z.ipynb", None, chapter=1), RunStatus.OK, [named])
    page = feedback_page("zoe", [grade])
    assert f"wrong — {HINT}" in page and flag.hint not in page
    path = tmp_path / "gradebook.csv"
    write_gradebook(path, [grade])
    row = next(csv.DictReader(path.open(encoding="utf-8")))
    assert row[MISTAKE_PREFIX + "1.1"] == HINT and row[MISTAKE_PREFIX + "1.2"] == ""
    assert "1000" not in path.read_text(encoding="utf-8") + json.dumps(page)
