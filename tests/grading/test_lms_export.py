"""Grades out: a gradebook (written by the grader's own ``write_gradebook``) exported for Canvas,
Moodle and Gradescope and as a plain CSV, each file checked against the format's rules. No
notebook runs here; tests/test_lms_end_to_end.py grades a real download."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from checks.catalogue import chapter_flags
from checks.grading.export import (
    CANVAS_COLUMNS,
    VISIBILITIES,
    ExportError,
    export_gradebook,
    parse_assignments,
    read_gradebook,
)
from checks.grading.gradebook import write_gradebook
from checks.grading.judging import FlagGrade, Grade
from checks.grading.lms import match_submissions, write_submissions_file
from checks.grading.roster import parse_roster
from checks.grading.status import RunStatus, Verdict
from checks.grading.submissions import Submission

CHAPTER_1 = chapter_flags(1)
POSSIBLE_1 = sum(flag.points for flag in CHAPTER_1)
POSSIBLE_2 = sum(flag.points for flag in chapter_flags(2))
ROSTER = (
    "id,name,sis user id,login,email,section\n"
    "1001,Jane Doe,S-1,jdoe,jdoe@uni.edu,A\n"
    "1002,Bob Roe,S-2,broe,broe@uni.edu,A\n"
    "1003,Carl Kim,S-3,ckim,ckim@uni.edu,B\n"
    "1004,Eve Park,S-4,epark,epark@uni.edu,B\n"
)
MISTAKE = "That counts the images the detector gets right."


def grade(entry: str, captured: set[str], status=RunStatus.OK, mistakes=None) -> Grade:
    """A chapter-1 grade of the file ``entry`` with the flags ``captured``."""
    submission = Submission(Path(entry).stem, Path("/download") / entry, None, chapter=1)
    flags = [
        FlagGrade(
            flag,
            Verdict.CAPTURED if flag.id in captured else Verdict.WRONG,
            (mistakes or {}).get(flag.id),
        )
        for flag in CHAPTER_1
    ]
    return Grade(submission, status, flags, seconds=12.0)


ALL = {flag.id for flag in CHAPTER_1}
GRADES = [
    grade("doejane_1001_9001_01_mnist_binary.ipynb", ALL),
    grade("roebob_1002_9002_01_mnist_binary.ipynb", {"1.1"}),
    grade("roebob_1002_9003_01_mnist_binary-1.ipynb", {"1.1", "1.2"}),
    grade(
        "kimcarl_LATE_1003_9004_01_mnist_binary.ipynb", {"1.1", "1.2"}, mistakes={"1.3": MISTAKE}
    ),
    grade("leedana_1099_9005_01_mnist_binary.ipynb", {"1.1"}),
]


def graded_class(folder: Path, grades=GRADES, roster: str | None = ROSTER) -> Path:
    """A gradebook and its submissions file, as ``grade download.zip --roster`` writes them."""
    gradebook = folder / "gradebook.csv"
    matching = match_submissions(
        [g.submission for g in grades], parse_roster(roster, "roster.csv") if roster else None
    )
    relabelled = {m.submission.path: m.submission for m in matching.submissions}
    grades = [
        Grade(relabelled[g.submission.path], g.status, g.flags, seconds=g.seconds) for g in grades
    ]
    write_gradebook(gradebook, grades)
    write_submissions_file(folder / "gradebook-submissions.csv", matching)
    return gradebook


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def check_canvas_rules(rows: list[list[str]], possible: list[int]) -> None:
    """Canvas's gradebook import: the five student columns first, then one per assignment; a
    'Points Possible' row under the header; every student identified; grades numbers or blank."""
    header, points, *students = rows
    assert tuple(header[:5]) == CANVAS_COLUMNS and len(header) == 5 + len(possible)
    assert points == ["Points Possible", "", "", "", "", *map(str, possible)]
    for row in students:
        assert len(row) == len(header)
        assert row[1] or row[2] or row[3]  # ID, SIS User ID or SIS Login ID
        for cell, most in zip(row[5:], possible, strict=True):
            assert cell == "" or 0 <= float(cell) <= most


def test_canvas_points(tmp_path):
    export = export_gradebook(graded_class(tmp_path), "canvas")
    assert export.paths == [tmp_path / "gradebook-canvas.csv"]
    rows = read_csv(export.paths[0])
    check_canvas_rules(rows, [POSSIBLE_1])
    assert rows[0][5] == "Chapter 1"
    assert rows[2:] == [
        ["Carl Kim", "1003", "S-3", "ckim", "B", "20"],
        ["Jane Doe", "1001", "S-1", "jdoe", "A", str(POSSIBLE_1)],
    ]
    warnings = "\n".join(export.warnings)
    assert "Bob Roe (1002): 2 notebooks of chapter 1" in warnings
    assert "roebob_1002_9002_01_mnist_binary.ipynb, roebob_1002_9003_01_mnist_binary-1.ipynb" in (
        warnings
    )
    assert "no roster entry for leedana_1099: not in the Canvas file" in warnings


def test_canvas_percent_and_a_canvas_assignment_id(tmp_path):
    export = export_gradebook(
        graded_class(tmp_path), "canvas", percent=True, assignments=["Chapter 1 (12345)=1"]
    )
    rows = read_csv(export.paths[0])
    check_canvas_rules(rows, [100])
    assert rows[0][5] == "Chapter 1 (12345)"
    assert {row[0]: row[5] for row in rows[2:]} == {
        "Carl Kim": str(round(100 * 20 / POSSIBLE_1, 2)).removesuffix(".0"),
        "Jane Doe": "100",
    }


def test_moodle_matches_on_email_or_id_number(tmp_path):
    export = export_gradebook(graded_class(tmp_path), "moodle", out=tmp_path / "m.csv")
    rows = read_csv(tmp_path / "m.csv")
    assert rows[0] == ["Full name", "ID number", "Email address", "Chapter 1"]
    assert rows[1:] == [
        ["Carl Kim", "S-3", "ckim@uni.edu", "20"],
        ["Jane Doe", "S-1", "jdoe@uni.edu", str(POSSIBLE_1)],
    ]
    assert export.paths == [tmp_path / "m.csv"]


def check_gradescope_rules(result: dict) -> None:
    """Gradescope's results.json: a top-level score, tests with name, score, max_score, output
    and a known visibility; the score is the tests' sum and none passes its max."""
    assert set(result) >= {"score", "tests", "visibility", "output"}
    assert result["visibility"] in VISIBILITIES
    total = 0.0
    for test in result["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["output"], str) and test["output"]
        assert test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        total += test["score"]
    assert result["score"] == total
    json.dumps(result, allow_nan=False)  # strict JSON


def test_gradescope_one_results_json_per_student(tmp_path):
    export = export_gradebook(graded_class(tmp_path), "gradescope", visibility="after_published")
    folder = tmp_path / "gradebook-gradescope" / "Chapter_1"
    assert sorted(export.paths) == [
        folder / "1001" / "results.json",
        folder / "1003" / "results.json",
    ]
    carl = json.loads((folder / "1003" / "results.json").read_text())
    check_gradescope_rules(carl)
    assert carl["score"] == 20 and carl["visibility"] == "after_published"
    tests = {test["number"]: test for test in carl["tests"]}
    assert [t["number"] for t in carl["tests"]] == [flag.id for flag in CHAPTER_1]
    assert (tests["1.1"]["score"], tests["1.1"]["max_score"], tests["1.1"]["output"]) == (
        10,
        10,
        "Captured.",
    )
    assert tests["1.3"]["output"] == f"Not captured. Not quite: {MISTAKE}"
    assert tests["1.4"]["output"].startswith("Not captured. Hint: ")
    assert tests["1.4"]["name"].startswith("Flag 1.4 \N{EN DASH} ")
    assert "Handed in late." in carl["output"]
    jane = json.loads((folder / "1001" / "results.json").read_text())
    check_gradescope_rules(jane)
    assert jane["score"] == POSSIBLE_1 and "late" not in jane["output"]


def test_gradescope_folders_never_overwrite_one_another(tmp_path):
    twins = [grade("a b.ipynb", {"1.1"}), grade("a_b.ipynb", {"1.1", "1.2"})]
    export = export_gradebook(graded_class(tmp_path, twins, roster=None), "gradescope")
    folder = tmp_path / "gradebook-gradescope" / "Chapter_1"
    assert sorted(export.paths) == [
        folder / "a_b" / "results.json",
        folder / "a_b_2" / "results.json",
    ]
    scores = sorted(json.loads(path.read_text())["score"] for path in export.paths)
    assert scores == [10, 20]


def test_gradescope_to_one_file_needs_exactly_one_result(tmp_path):
    one = graded_class(tmp_path, GRADES[:1], roster=None)
    export = export_gradebook(one, "gradescope", out=tmp_path / "results.json")
    assert export.paths == [tmp_path / "results.json"]
    check_gradescope_rules(json.loads((tmp_path / "results.json").read_text()))
    (tmp_path / "all").mkdir()
    every = graded_class(tmp_path / "all")
    with pytest.raises(ExportError, match="there are 2 results: give a folder"):
        export_gradebook(every, "gradescope", out=tmp_path / "all" / "results.json")


def test_plain_csv_names_every_blank_and_every_unmatched_submission(tmp_path):
    export = export_gradebook(graded_class(tmp_path), "csv")
    assert export.paths == [tmp_path / "gradebook-grades.csv"]
    rows = list(csv.DictReader(export.paths[0].open(encoding="utf-8")))
    by_name = {row["name"]: row for row in rows}
    assert list(by_name) == ["Bob Roe", "Carl Kim", "Eve Park", "Jane Doe", "leedana_1099"]
    assert {row["assignment"] for row in rows} == {"Chapter 1"}
    assert (by_name["Bob Roe"]["score"], by_name["Bob Roe"]["out_of"]) == ("", str(POSSIBLE_1))
    assert "2 notebooks of chapter 1" in by_name["Bob Roe"]["note"]
    carl = by_name["Carl Kim"]
    assert (carl["student_id"], carl["sis_id"], carl["score"], carl["late"]) == (
        "1003",
        "S-3",
        "20",
        "late",
    )
    assert (by_name["Eve Park"]["score"], by_name["Eve Park"]["note"]) == ("", "no submission")
    dana = by_name["leedana_1099"]
    assert (dana["student_id"], dana["score"]) == ("", "10")
    assert dana["note"] == "no roster entry for leedana_1099"


def test_a_roster_given_at_export_replaces_the_one_matched_when_grading(tmp_path):
    gradebook = graded_class(tmp_path)
    (tmp_path / "fixed.csv").write_text(ROSTER + "1099,Dana Lee,S-5,dlee,dlee@uni.edu,B\n")
    export = export_gradebook(gradebook, "canvas", roster=tmp_path / "fixed.csv")
    names = [row[0] for row in read_csv(export.paths[0])[2:]]
    assert names == ["Carl Kim", "Dana Lee", "Jane Doe"]


def test_without_any_roster_canvas_ids_come_from_the_download(tmp_path):
    export = export_gradebook(graded_class(tmp_path, roster=None), "canvas")
    rows = read_csv(export.paths[0])
    check_canvas_rules(rows, [POSSIBLE_1])
    assert [(row[0], row[1]) for row in rows[2:]] == [
        ("doejane", "1001"),
        ("kimcarl", "1003"),
        ("leedana", "1099"),
    ]


def test_assignments_group_chapters(tmp_path):
    export = export_gradebook(
        graded_class(tmp_path), "csv", assignments=["Homework 1=1, 2"], percent=True
    )
    jane = next(line for line in export.lines if line.key == "1001")
    assert jane.assignment.possible == POSSIBLE_1 + POSSIBLE_2
    assert jane.points == POSSIBLE_1 and jane.notes == ["chapter 2 not handed in"]
    row = next(csv.DictReader(export.paths[0].open(encoding="utf-8")))
    assert row["out_of"] == "100"


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["Homework"], "expected NAME=CHAPTERS"),
        (["=1"], "expected NAME=CHAPTERS"),
        (["A=1,"], "expected NAME=CHAPTERS"),
        (["A=99"], "the course has no chapter 99"),
        (["A=1", "B=1,2"], "chapter 1 is in two assignments"),
        (["A=1", "A=2"], "two assignments are named 'A'"),
    ],
)
def test_bad_assignments_are_one_line(specs, message):
    with pytest.raises(ExportError, match=message):
        parse_assignments(specs, {1})


def test_a_grader_error_leaves_the_grade_blank(tmp_path):
    failed = [grade("doejane_1001_9001_01_mnist_binary.ipynb", set(), RunStatus.GRADER_ERROR)]
    export = export_gradebook(graded_class(tmp_path, failed), "csv")
    jane = next(line for line in export.lines if line.key == "1001")
    assert jane.points is None and "grader error: grade it again" in jane.notes[0]


def test_a_file_that_is_not_a_notebook_earns_zero_and_is_named(tmp_path):
    pdf = Submission("doejane_1001_9001_notes", Path("/download/doejane_1001_9001_notes.pdf"), None)
    gradebook = graded_class(tmp_path, [Grade(pdf, RunStatus.NOT_A_NOTEBOOK)])
    export = export_gradebook(gradebook, "csv", assignments=["Chapter 1=1"])
    jane = next(line for line in export.lines if line.key == "1001")
    assert jane.points == 0 and jane.notes == ["doejane_1001_9001_notes.pdf: not a notebook"]
    rows = read_csv(export_gradebook(gradebook, "canvas", assignments=["Chapter 1=1"]).paths[0])
    assert rows[2] == ["Jane Doe", "1001", "S-1", "jdoe", "A", "0"]
    export_gradebook(gradebook, "gradescope", assignments=["Chapter 1=1"])
    result = json.loads(
        (tmp_path / "gradebook-gradescope" / "Chapter_1" / "1001" / "results.json").read_text()
    )
    check_gradescope_rules(result)
    assert result["score"] == 0 and "not a notebook" in result["output"]
    assert {test["output"] for test in result["tests"]} == {"Chapter 1 was not handed in."}


def test_formula_names_are_neutralised(tmp_path):
    roster = 'id,name,login\n1001,=HYPERLINK("http://x"),@jdoe\n'
    export = export_gradebook(graded_class(tmp_path, GRADES[:1], roster), "canvas")
    assert read_csv(export.paths[0])[2][:4] == ['\'=HYPERLINK("http://x")', "1001", "", "'@jdoe"]


def test_bad_gradebooks_are_one_line(tmp_path):
    def refused(text: str | bytes, message: str) -> None:
        path = tmp_path / "gb.csv"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(ExportError, match=message) as caught:
            export_gradebook(path, "csv")
        assert "\n" not in str(caught.value)

    refused("name,points\nJane,3\n", "not a gradebook: no student, notebook, chapter, status")
    header = "student,notebook,chapter,status,total\n"
    refused(header + "jane,a.ipynb,1,ok,lots\n", "line 2, total is 'lots', not a number")
    refused(header + "jane,a.ipynb,1,ok,-5\n", "not a number of points")
    refused(header + "jane,a.ipynb,one,ok,5\n", "chapter 'one' is not a number")
    refused(header + "jane,a.ipynb,\u00b2,ok,5\n", "chapter '\u00b2' is not a number")
    refused(header + "jane,a.ipynb,\u0661,ok,5\n", "chapter '\u0661' is not a number")
    # A chapter the course lacks has no points possible: one line, not a division by zero.
    refused(header + "jane,a.ipynb,99,ok,5\n", "line 2: the course has no chapter 99")
    refused(header + "jane,a.ipynb,0,ok,5\n", "line 2: the course has no chapter 0")
    # An empty total is not a grade of 0.
    refused(header + "jane,a.ipynb,1,ok,\n", "line 2: the total is empty")
    refused(header + "jane,a.ipynb,1,ok,5,extra\n", "line 2: more fields than the header")
    refused("student,total\n\xe9".encode("latin-1"), "not UTF-8")
    refused(header, "no graded notebook of any chapter")
    with pytest.raises(ExportError, match="not a gradebook file"):
        export_gradebook(tmp_path / "missing.csv", "csv")
    # A byte-order mark (a gradebook saved again by a spreadsheet) is fine.
    (tmp_path / "bom.csv").write_bytes(
        b"\xef\xbb\xbf" + (header + "jane,a.ipynb,1,ok,5\n").encode()
    )
    assert [row.total for row in read_gradebook(tmp_path / "bom.csv")] == [5.0]


def test_bad_options_are_one_line(tmp_path):
    gradebook = graded_class(tmp_path)
    with pytest.raises(ExportError, match="--percent does not apply to gradescope"):
        export_gradebook(gradebook, "gradescope", percent=True)
    with pytest.raises(ExportError, match="unknown format"):
        export_gradebook(gradebook, "blackboard")
    (tmp_path / "gradebook-submissions.csv").write_text("who,what\n")
    with pytest.raises(ExportError, match="lacks the column"):
        export_gradebook(gradebook, "csv")


def run_export(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "checks", "export", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_the_command_line_exports_and_warns(tmp_path):
    gradebook = graded_class(tmp_path)
    completed = run_export(str(gradebook), "--format", "canvas", "--percent")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"canvas: {tmp_path / 'gradebook-canvas.csv'} (2 grade(s)")
    scope = run_export(str(gradebook), "--format", "gradescope")
    assert (
        f"gradescope: 2 files in {tmp_path / 'gradebook-gradescope' / 'Chapter_1'}" in scope.stdout
    )
    assert "in percent; Chapter 1 (50 points))" in completed.stdout
    assert completed.stderr.count("warning: ") == 2
    bad = run_export(str(gradebook), "--format", "canvas", "--assignment", "A=42")
    assert (bad.returncode, bad.stderr) == (
        2,
        "error: --assignment 'A=42': the course has no chapter 42\n",
    )
    both = run_export(str(gradebook), "--format", "csv", "--points", "--percent")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    helped = run_export("--help")
    assert helped.returncode == 0 and "--assignment NAME=CHAPTERS" in helped.stdout


@pytest.mark.parametrize("format", ["csv", "canvas", "moodle"])
def test_the_export_never_replaces_a_file_it_reads(tmp_path, format):
    gradebook = graded_class(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER)
    kept = [gradebook, tmp_path / "gradebook-submissions.csv", tmp_path / "roster.csv"]
    before = [path.read_bytes() for path in kept]
    for out in [*kept, tmp_path / "." / "gradebook.csv"]:
        with pytest.raises(ExportError, match="which the export reads") as caught:
            export_gradebook(gradebook, format, out=out, roster=tmp_path / "roster.csv")
        assert "\n" not in str(caught.value)
    assert [path.read_bytes() for path in kept] == before


def test_a_gradescope_result_never_replaces_the_roster(tmp_path):
    gradebook = graded_class(tmp_path, GRADES[:1])
    roster = tmp_path / "roster.json"
    roster.write_text(ROSTER)
    with pytest.raises(ExportError, match="which the export reads"):
        export_gradebook(gradebook, "gradescope", out=roster, roster=roster)
    assert roster.read_text() == ROSTER


def test_an_out_that_cannot_be_written_is_one_line(tmp_path):
    gradebook = graded_class(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    for format, out in [
        ("csv", tmp_path / "folder"),  # a folder, not a file
        ("csv", gradebook / "inside.csv"),  # inside a file
        ("gradescope", tmp_path / "notes.txt"),  # a folder of results where a file is
    ]:
        with pytest.raises(ExportError, match="cannot write") as caught:
            export_gradebook(gradebook, format, out=out)
        assert "\n" not in str(caught.value)
    assert (tmp_path / "notes.txt").read_text() == "x"


def test_the_command_line_says_when_nothing_was_written(tmp_path):
    only = [grade("doejane_1001_9001_01_mnist_binary.ipynb", ALL, status=RunStatus.GRADER_ERROR)]
    completed = run_export(str(graded_class(tmp_path, only)), "--format", "gradescope")
    assert completed.returncode == 0 and "Traceback" not in completed.stderr
    assert completed.stdout.startswith("gradescope: nothing written (0 grade(s)")


def test_a_warning_is_one_line_whatever_the_names_hold(tmp_path):
    """A roster name with a newline or a terminal escape (quoted in the CSV) is shown escaped."""
    roster = ROSTER.replace("Bob Roe", '"Bob\nRoe\x1b[2J"')
    export = export_gradebook(graded_class(tmp_path, roster=roster), "canvas")
    (bob,) = [warning for warning in export.warnings if "(1002)" in warning]
    assert bob.startswith("Chapter 1, Bob\\nRoe\\x1b[2J (1002): 2 notebooks of chapter 1")
    assert all("\n" not in warning and "\x1b" not in warning for warning in export.warnings)
