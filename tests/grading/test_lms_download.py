"""LMS downloads: Canvas's and Moodle's names read, submissions matched to the roster, the
submissions file written, and every bad download refused with one line. No notebook runs here:
``grade_folder`` is replaced by a stand-in that finds the submissions as the real one does."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from checks.grading import GradingInputError, GradingResult, session
from checks.grading.lms import (
    Handed,
    describe,
    match_submissions,
    read_entry,
    read_submissions_file,
    submissions_file,
    submissions_root,
)
from checks.grading.roster import parse_roster
from checks.grading.session import grade_download
from checks.grading.submissions import Submission, find_submissions

STEMS = {1: "01_mnist_binary", 2: "02_performance_measures"}
ROSTER = (
    "id,name,email,section\n"
    "1001,Jane Doe,jdoe@uni.edu,A\n"
    "1002,Bob Roe,broe@uni.edu,A\n"
    "1003,Carl Kim,ckim@uni.edu,B\n"
    "1004,Eve Park,epark@uni.edu,B\n"
)


def chapter_notebook(chapter: int = 1) -> str:
    cell = nbformat.v4.new_code_cell(f'checks.check("{chapter}.1", 0)')
    return nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))


@pytest.mark.parametrize(
    ("entry", "is_dir", "expected"),
    [
        (
            "doejane_1001_9001_01_mnist_binary.ipynb",
            False,
            Handed("canvas", "doejane_1001", "doejane", "1001", "9001", False),
        ),
        (
            "doejane_LATE_1001_9001_01_mnist_binary-1.ipynb",
            False,
            Handed("canvas", "doejane_1001", "doejane", "1001", "9001", True),
        ),
        (
            "Jane Doe_5001_assignsubmission_file_",
            True,
            Handed("moodle", "Jane Doe_5001", "Jane Doe", "5001"),
        ),
        (
            "Jane Doe_5001_assignsubmission_file_01_mnist_binary.ipynb",
            False,
            Handed("moodle", "Jane Doe_5001", "Jane Doe", "5001"),
        ),
        (
            "jdoe_01_mnist_binary.ipynb",
            False,
            Handed("folder", "jdoe_01_mnist_binary", "jdoe_01_mnist_binary"),
        ),
        ("jdoe", True, Handed("folder", "jdoe", "jdoe")),
        # A folder named like a Canvas file is a plain student folder.
        (
            "doejane_1001_9001_x",
            True,
            Handed("folder", "doejane_1001_9001_x", "doejane_1001_9001_x"),
        ),
    ],
)
def test_entries_are_read_as_their_lms_names_them(entry, is_dir, expected):
    handed = read_entry(entry, is_dir)
    assert handed == Handed(**{**expected.__dict__, "entry": entry})


def canvas_download(folder: Path) -> Path:
    folder.mkdir(parents=True)
    names = [
        "doejane_1001_9001_01_mnist_binary.ipynb",
        "roebob_1002_9002_01_mnist_binary.ipynb",
        "roebob_1002_9003_01_mnist_binary-1.ipynb",  # Bob handed in chapter 1 twice
        "kimcarl_LATE_1003_9004_01_mnist_binary.ipynb",
        "leedana_1099_9005_01_mnist_binary.ipynb",  # on no roster
        "roebob_1002_9006_notes.pdf",  # not a notebook: no chapter, not a duplicate
    ]
    for name in names:
        (folder / name).write_text(chapter_notebook() if name.endswith(".ipynb") else "%PDF")
    return folder


def test_a_canvas_download_is_matched_to_the_roster(tmp_path):
    folder = canvas_download(tmp_path / "download")
    matching = match_submissions(find_submissions(folder, STEMS), parse_roster(ROSTER, "r.csv"))
    students = {m.submission.name: (m.submission.student, m.student) for m in matching.submissions}
    assert students["doejane_1001_9001_01_mnist_binary.ipynb"][0] == "doejane_1001"
    assert students["doejane_1001_9001_01_mnist_binary.ipynb"][1].name == "Jane Doe"
    assert students["leedana_1099_9005_01_mnist_binary.ipynb"] == ("leedana_1099", None)
    assert [m.handed.key for m in matching.unmatched] == ["leedana_1099"]
    assert [s.id for s in matching.absent] == ["1004"]
    ((who, chapter), group), *others = matching.duplicates().items()
    assert (who, chapter, others) == ("1002", 1, [])
    assert sorted(m.submission.name for m in group) == [
        "roebob_1002_9002_01_mnist_binary.ipynb",
        "roebob_1002_9003_01_mnist_binary-1.ipynb",
    ]
    told = "\n".join(describe(matching))
    assert "Canvas download: 6 submission(s) from 4 student(s), 1 late." in told
    assert "3 of its 4 students handed in; 1 submission(s) match no roster entry" in told
    assert (
        "no roster entry: leedana_1099_9005_01_mnist_binary.ipynb (no roster entry with id" in told
    )
    assert "2 notebooks of chapter 1 for Bob Roe (1002)" in told


def test_a_moodle_download_of_folders_and_a_wrapper_folder(tmp_path):
    wrapper = tmp_path / "Course-Assignment 1-123"
    for name in ("Jane Doe_5001_assignsubmission_file_", "Bob Roe_5002_assignsubmission_file_"):
        (wrapper / name / "sub").mkdir(parents=True)
        (wrapper / name / "sub" / "01_mnist_binary.ipynb").write_text(chapter_notebook())
    assert submissions_root(tmp_path) == wrapper
    roster = parse_roster("Identifier,Full name\nParticipant 5001,Jane Doe\n")
    matching = match_submissions(find_submissions(wrapper, STEMS), roster)
    assert {(m.submission.student, m.submission.name) for m in matching.submissions} == {
        ("Jane Doe_5001", "sub/01_mnist_binary.ipynb"),
        ("Bob Roe_5002", "sub/01_mnist_binary.ipynb"),
    }
    assert [m.handed.key for m in matching.unmatched] == ["Bob Roe_5002"]
    # A folder holding one plain student folder is that student, not a wrapper.
    (tmp_path / "other" / "jdoe").mkdir(parents=True)
    assert submissions_root(tmp_path / "other") == tmp_path / "other"


def test_a_plain_folder_is_matched_by_login_or_email(tmp_path):
    (tmp_path / "jdoe").mkdir()
    (tmp_path / "jdoe" / "01_mnist_binary.ipynb").write_text(chapter_notebook())
    (tmp_path / "broe.ipynb").write_text(chapter_notebook(2))
    matching = match_submissions(find_submissions(tmp_path, STEMS), parse_roster(ROSTER))
    assert {m.submission.student: m.student.id for m in matching.submissions} == {
        "jdoe": "1001",
        "broe": "1002",
    }


def fake_grade_folder(calls: list):
    """Stand-in for grade_folder: finds the submissions and relabels them, runs nothing."""

    def grade(folder, *, out, report, relabel=None, **options):
        found = find_submissions(Path(folder), STEMS)
        calls.append((Path(folder), relabel(found) if relabel else found, options))
        return GradingResult([], Path(out), [], 0.0, "none")

    return grade


def test_grade_download_writes_the_submissions_file_from_a_zip(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(session, "grade_folder", fake_grade_folder(calls))
    folder = canvas_download(tmp_path / "download")
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.iterdir():
            zipped.write(path, path.name)
    (tmp_path / "roster.csv").write_text(ROSTER)
    said: list[str] = []
    result = grade_download(
        archive, roster=tmp_path / "roster.csv", out=tmp_path / "gb.csv", report=said.append, jobs=2
    )
    ((extracted, found, options),) = calls
    assert not extracted.exists()  # the extraction is removed once graded
    assert options == {"jobs": 2}
    assert sorted({s.student for s in found}) == [
        "doejane_1001",
        "kimcarl_1003",
        "leedana_1099",
        "roebob_1002",
    ]
    assert (
        result.submissions
        == submissions_file(tmp_path / "gb.csv")
        == tmp_path / "gb-submissions.csv"
    )
    rows = read_submissions_file(result.submissions)
    by_file = {row["download"]: row for row in rows if row["download"]}
    carl = by_file["kimcarl_LATE_1003_9004_01_mnist_binary.ipynb"]
    assert (carl["late"], carl["roster_id"], carl["roster_name"], carl["match"]) == (
        "late",
        "1003",
        "Carl Kim",
        "matched",
    )
    dana = by_file["leedana_1099_9005_01_mnist_binary.ipynb"]
    assert (dana["match"], dana["roster_id"]) == ("no roster entry", "")
    assert dana["note"] == "no roster entry with id 1099"
    bob = by_file["roebob_1002_9003_01_mnist_binary-1.ipynb"]
    assert bob["note"] == "one of 2 notebooks of chapter 1 for this student"
    assert by_file["roebob_1002_9006_notes.pdf"]["note"] == ""
    absent = [row for row in rows if row["match"] == "no submission"]
    assert [(row["roster_id"], row["student"]) for row in absent] == [("1004", "")]
    assert any("Canvas download" in line for line in said)


def test_a_plain_folder_without_a_roster_is_graded_as_before(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(session, "grade_folder", fake_grade_folder(calls))
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "jdoe.ipynb").write_text(chapter_notebook())
    (tmp_path / "gb-submissions.csv").write_text("an earlier grading's matches")
    result = grade_download(tmp_path / "subs", out=tmp_path / "gb.csv", report=print)
    assert result.submissions is None and not (tmp_path / "gb-submissions.csv").exists()
    assert [s.student for s in calls[0][1]] == ["jdoe"]


def test_formula_names_are_neutralised_in_the_submissions_file(tmp_path, monkeypatch):
    monkeypatch.setattr(session, "grade_folder", fake_grade_folder([]))
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "=cmd_1001_9001_01_mnist_binary.ipynb").write_text(chapter_notebook())
    grade_download(tmp_path / "subs", out=tmp_path / "gb.csv", report=print)
    text = (tmp_path / "gb-submissions.csv").read_text()
    row = next(csv.DictReader(text.splitlines()))
    assert row["student"] == "'=cmd_1001" and row["lms_name"] == "'=cmd"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "not a folder or a zip of submissions"),
        (lambda p: (p / "notes.txt").write_text("x") and p / "notes.txt", "not a folder or a zip"),
        (lambda p: (p / "fake.zip").write_text("x") and p / "fake.zip", "not a readable zip"),
    ],
)
def test_bad_downloads_are_one_line(tmp_path, make, message):
    with pytest.raises(GradingInputError, match=message) as caught:
        grade_download(make(tmp_path), out=tmp_path / "gb.csv", report=print)
    assert "\n" not in str(caught.value)


def test_a_bad_roster_stops_before_anything_is_extracted(tmp_path):
    (tmp_path / "roster.csv").write_text("id,name\n1,A\n1,B\n")
    with pytest.raises(GradingInputError, match="already on line 2"):
        grade_download(tmp_path, roster=tmp_path / "roster.csv", out=tmp_path / "gb.csv")


def test_the_command_line_refuses_a_hostile_zip_with_one_line_and_exit_2(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("doejane_1001_9001_01_mnist_binary.ipynb", chapter_notebook())
        zipped.writestr("../../outside.ipynb", chapter_notebook())
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "grade", str(archive), "--out", str(tmp_path / "gb.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert "'../../outside.ipynb' leaves the folder" in completed.stderr
    assert not (tmp_path / "gb.csv").exists() and not (tmp_path.parent / "outside.ipynb").exists()


def test_what_the_instructor_is_told_is_one_line_per_problem():
    """A plain folder's name with a newline (not a zip's: those are refused) stays escaped."""
    found = [
        Submission(f"j\ndoe_{n}", Path(f"/d/j\ndoe_{n}.ipynb"), None, chapter=1) for n in (1, 2)
    ]
    found = [replace(s, path=Path("/d") / "j\ndoe" / s.path.name, folder=Path("/d/j\ndoe"))
             for s in found]  # fmt: skip
    lines = describe(match_submissions(found, None))
    assert len(lines) == 2 and "2 notebooks of chapter 1 for j\\ndoe:" in lines[1]
    assert all("\n" not in line for line in lines)
