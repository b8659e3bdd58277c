"""Grading: the gradebook and the feedback pages (cells a spreadsheet would run neutralised)."""

from __future__ import annotations

import csv

import pytest
from conftest import ROOT

from checks.catalogue import get_flag
from checks.grading.feedback import feedback_page
from checks.grading.gradebook import neutralised, write_gradebook
from checks.grading.judging import FlagGrade, Grade
from checks.grading.shown import shown_name
from checks.grading.status import CellError, RunStatus, Verdict
from checks.grading.submissions import Submission

# --- Gradebook and feedback ------------------------------------------------------------------


def test_the_gradebook_has_a_column_per_flag_blank_outside_the_chapter(tmp_path):
    grades = [
        Grade(
            Submission("zoe", tmp_path / "z.ipynb", None, chapter=1),
            RunStatus.OK,
            [
                FlagGrade(get_flag("1.1"), Verdict.CAPTURED),
                FlagGrade(get_flag("1.2"), Verdict.WRONG),
            ],
            seconds=12.34,
        ),
        Grade(Submission("amy", tmp_path / "a.ipynb", None), RunStatus.NOT_A_NOTEBOOK),
        Grade(
            Submission("bea", tmp_path / "b.ipynb", None, chapter=1),
            RunStatus.ERROR,
            [FlagGrade(get_flag("1.1"), Verdict.CAPTURED)],
            CellError(7, "NameError", "name 'x' is not defined", "y = x"),
            RunStatus.ERROR,
            CellError(9, "ValueError", "", "z = 1"),
        ),
    ]
    path = tmp_path / "gradebook.csv"
    write_gradebook(path, grades)
    rows = list(csv.DictReader(path.open()))
    assert [row["student"] for row in rows] == ["amy", "bea", "zoe"]
    assert rows[2]["1.1"] == "10" and rows[2]["1.2"] == "0" and rows[2]["2.1"] == ""
    assert rows[2]["total"] == "10" and rows[2]["possible"] == "20" and rows[2]["seconds"] == "12.3"
    assert rows[2]["chapter"] == "1" and rows[2]["variant_status"] == ""
    assert rows[0]["status"] == "not a notebook" and rows[0]["total"] == "0"
    assert (rows[1]["status"], rows[1]["variant_status"]) == ("error in cell 7", "error in cell 9")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradebook.csv"]  # no temporary left


def test_feedback_gives_the_hint_and_the_reason_never_a_value(tmp_path):
    flag = get_flag("1.3")
    grade = Grade(
        Submission("zoe", tmp_path / "z.ipynb", None, chapter=1),
        RunStatus.OK,
        [FlagGrade(flag, Verdict.WRONG), FlagGrade(get_flag("1.4"), Verdict.NOT_UNDER_VARIANT)],
        variant_status=RunStatus.OK,
    )
    page = feedback_page("zoe", [grade])
    assert flag.hint in page and "0 / 15" in page
    assert "re-run with other parameter values" in page


def test_every_module_of_the_grader_is_documented_in_the_guide():
    guide = (ROOT / "book" / "instructors.md").read_text(encoding="utf-8")
    for needle in ("python -m checks grade", "--variant", "--student-edition", "Trust model"):
        assert needle in guide


@pytest.mark.parametrize("name", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_neutralised(tmp_path, name):
    grade = Grade(Submission(name, tmp_path / f"{name}.ipynb", None), RunStatus.NOT_A_NOTEBOOK)
    path = tmp_path / "gradebook.csv"
    write_gradebook(path, [grade])
    row = next(csv.DictReader(path.open(newline="")))
    assert row["student"] == "'" + shown_name(name)  # a tab or carriage return shown escaped
    assert neutralised("jane doe") == "jane doe"
