"""One assignment end to end, as the instructor guide walks it: a Canvas zip of five chapter-1
submissions (one matching no roster entry, one student twice, one late) and a roster are graded
with ``python -m checks grade``, then exported to Canvas, Moodle, Gradescope and a plain CSV
with ``python -m checks export``; each file's columns and values are checked.

Jane hands in the solution (every flag); Bob hands in two small notebooks (a duplicate: his
grade is left blank, never picked); Carl's small notebook is late and computes flags 1.1 and
1.2; Dana is on no roster; Eve hands in nothing. The zip is graded once (about a minute).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from checks.catalogue import chapter_flags

pytestmark = pytest.mark.slow

POSSIBLE = sum(flag.points for flag in chapter_flags(1))
POINTS = {flag.id: flag.points for flag in chapter_flags(1)}
ROSTER = (
    "Student ID,Name,Login,Email,Section\n"
    "1001,Jane Doe,jdoe,jdoe@uni.edu,Monday\n"
    "1002,Bob Roe,broe,broe@uni.edu,Monday\n"
    "1003,Carl Kim,ckim,ckim@uni.edu,Tuesday\n"
    "1004,Eve Park,epark,epark@uni.edu,Tuesday\n"
)
SMALL = """\
import checks
target_digit = "5"
mnist = checks.fetch_mnist()
X, y = mnist.data[:60_000], mnist.target[:60_000]
checks.check("1.1", (y == target_digit).sum())
"""
SECOND_FLAG = 'checks.check("1.2", (X[y == target_digit][0] > 0).sum())\n'


def small_notebook(*flags: str) -> str:
    source = SMALL + (SECOND_FLAG if "1.2" in flags else "")
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]))


def checks_command(*arguments: str, timeout: int = 900) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, "-m", "checks", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


@pytest.fixture(scope="module")
def graded(tmp_path_factory, mnist_dir):
    """The Canvas zip and roster, graded once by the command line."""
    base = tmp_path_factory.mktemp("lms")
    archive = base / "submissions.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(
            ROOT / "solutions" / "01_mnist_binary.ipynb", "doejane_1001_9001_01_mnist_binary.ipynb"
        )
        zipped.writestr("roebob_1002_9002_01_mnist_binary.ipynb", small_notebook("1.1"))
        zipped.writestr("roebob_1002_9003_01_mnist_binary-1.ipynb", small_notebook("1.1", "1.2"))
        zipped.writestr(
            "kimcarl_LATE_1003_9004_01_mnist_binary.ipynb", small_notebook("1.1", "1.2")
        )
        zipped.writestr("leedana_1099_9005_01_mnist_binary.ipynb", small_notebook("1.1"))
    (base / "roster.csv").write_text(ROSTER, encoding="utf-8")
    out = base / "grades" / "gradebook.csv"
    completed = checks_command(
        "grade", str(archive), "--roster", str(base / "roster.csv"), "--out", str(out),
        "--jobs", "2", "--cell-timeout", "120", "--timeout", "600", "--memory", "3",
    )  # fmt: skip
    return {"base": base, "out": out, "stdout": completed.stdout}


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8", newline="")))


def test_every_submission_is_graded_under_its_lms_name(graded):
    rows = {(row["student"], row["notebook"]): row for row in rows_of(graded["out"])}
    expected = {
        ("doejane_1001", "doejane_1001_9001_01_mnist_binary.ipynb"): POSSIBLE,
        ("roebob_1002", "roebob_1002_9002_01_mnist_binary.ipynb"): 10,
        ("roebob_1002", "roebob_1002_9003_01_mnist_binary-1.ipynb"): 20,
        ("kimcarl_1003", "kimcarl_LATE_1003_9004_01_mnist_binary.ipynb"): 20,
        ("leedana_1099", "leedana_1099_9005_01_mnist_binary.ipynb"): 10,
    }
    assert {key: int(row["total"]) for key, row in rows.items()} == expected
    assert {row["status"] for row in rows.values()} == {"ok"}
    said = graded["stdout"]
    assert "Canvas download: 5 submission(s) from 4 student(s), 1 late." in said
    assert "no roster entry: leedana_1099_9005_01_mnist_binary.ipynb" in said
    assert "2 notebooks of chapter 1 for Bob Roe (1002)" in said
    assert f"Submissions: {graded['out'].with_name('gradebook-submissions.csv')}" in said


def test_the_submissions_file_says_who_handed_in_what(graded):
    rows = rows_of(graded["out"].with_name("gradebook-submissions.csv"))
    assert [(row["roster_id"], row["match"]) for row in rows] == [
        ("1001", "matched"),
        ("1003", "matched"),
        ("", "no roster entry"),
        ("1002", "matched"),
        ("1002", "matched"),
        ("1004", "no submission"),
    ]
    assert [row["late"] for row in rows] == ["", "late", "", "", "", ""]


def test_canvas_export(graded):
    checks_command("export", str(graded["out"]), "--format", "canvas", timeout=120)
    with graded["out"].with_name("gradebook-canvas.csv").open(encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Chapter 1"],
        ["Points Possible", "", "", "", "", str(POSSIBLE)],
        ["Carl Kim", "1003", "", "ckim", "Tuesday", "20"],
        ["Jane Doe", "1001", "", "jdoe", "Monday", str(POSSIBLE)],
    ]


def test_canvas_export_in_percent(graded):
    out = graded["base"] / "percent.csv"
    completed = checks_command(
        "export", str(graded["out"]), "--format", "canvas", "--percent", "--out", str(out),
        "--assignment", "Chapter 1 (12345)=1",
    )  # fmt: skip
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0][5] == "Chapter 1 (12345)" and rows[1][5] == "100"
    assert {row[1]: row[5] for row in rows[2:]} == {"1003": "40", "1001": "100"}
    assert "Bob Roe (1002): 2 notebooks of chapter 1" in completed.stderr
    assert "no roster entry for leedana_1099" in completed.stderr


def test_moodle_export(graded):
    checks_command("export", str(graded["out"]), "--format", "moodle", timeout=120)
    rows = rows_of(graded["out"].with_name("gradebook-moodle.csv"))
    assert [list(row.values()) for row in rows] == [
        ["Carl Kim", "", "ckim@uni.edu", "20"],
        ["Jane Doe", "", "jdoe@uni.edu", str(POSSIBLE)],
    ]
    assert list(rows[0]) == ["Full name", "ID number", "Email address", "Chapter 1"]


def test_gradescope_export(graded):
    checks_command("export", str(graded["out"]), "--format", "gradescope", timeout=120)
    folder = graded["out"].with_name("gradebook-gradescope") / "Chapter_1"
    assert sorted(path.name for path in folder.iterdir()) == ["1001", "1003"]
    for student, captured in (("1001", set(POINTS)), ("1003", {"1.1", "1.2"})):
        result = json.loads((folder / student / "results.json").read_text(encoding="utf-8"))
        assert result["score"] == sum(POINTS[flag] for flag in captured)
        assert result["visibility"] == "visible"
        assert [test["number"] for test in result["tests"]] == list(POINTS)
        for test in result["tests"]:
            assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
            assert test["max_score"] == POINTS[test["number"]]
            assert test["score"] == (test["max_score"] if test["number"] in captured else 0)
            assert (test["output"] == "Captured.") == (test["number"] in captured)
    carl = json.loads((folder / "1003" / "results.json").read_text(encoding="utf-8"))
    assert "Handed in late." in carl["output"]


def test_plain_csv_export(graded):
    checks_command("export", str(graded["out"]), "--format", "csv", timeout=120)
    rows = {row["name"]: row for row in rows_of(graded["out"].with_name("gradebook-grades.csv"))}
    assert {name: (row["student_id"], row["score"]) for name, row in rows.items()} == {
        "Bob Roe": ("1002", ""),
        "Carl Kim": ("1003", "20"),
        "Eve Park": ("1004", ""),
        "Jane Doe": ("1001", str(POSSIBLE)),
        "leedana_1099": ("", "10"),
    }
    assert rows["Carl Kim"]["late"] == "late"
    assert rows["Bob Roe"]["note"].startswith("2 notebooks of chapter 1")
    assert rows["Eve Park"]["note"] == "no submission"
    assert rows["leedana_1099"]["note"] == "no roster entry for leedana_1099"


def test_a_fixed_roster_needs_no_regrading(graded):
    fixed = graded["base"] / "fixed-roster.csv"
    fixed.write_text(ROSTER + "1099,Dana Lee,dlee,dlee@uni.edu,Tuesday\n", encoding="utf-8")
    out = graded["base"] / "fixed.csv"
    checks_command(
        "export",
        str(graded["out"]),
        "--format",
        "canvas",
        "--roster",
        str(fixed),
        "--out",
        str(out),
    )
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert ["Dana Lee", "1099", "", "dlee", "Tuesday", "10"] in rows
