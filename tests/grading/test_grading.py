"""Grading a folder of real chapter-1 submissions with ``grade_folder``, with a variant.

The folder holds a correct notebook (in a student folder), an empty one, one that raises, one
that loops, one that exhausts memory, one that hard-codes every answer, one that is not JSON, and
a hostile one (forged output and record, deleted files, ``sys.exit``). Expected points come from
what the solution computes, never from typed values.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, answer_leaks, grade

from checks.catalogue import flags
from checks.grading import Limits
from checks.running.limits import GIB

CHAPTER = "01_mnist_binary"
SOLUTION = ROOT / "solutions" / f"{CHAPTER}.ipynb"
STUDENT = ROOT / "notebooks" / f"{CHAPTER}.ipynb"
CHAPTER_FLAGS = [flag for flag in flags().values() if flag.chapter == 1]
VARIANT = "target_digit=3"


def code_cell_number(notebook: nbformat.NotebookNode, cell: nbformat.NotebookNode) -> int:
    """The 1-based position of ``cell`` among the code cells, as the gradebook counts."""
    return [c for c in notebook.cells if c.cell_type == "code"].index(cell) + 1


def flag_cell_index(notebook: nbformat.NotebookNode, flag_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if f'checks.check("{flag_id}"' in c.source)


def solution_with_cell_after(flag_id: str, source: str) -> tuple[nbformat.NotebookNode, int]:
    """The solution with ``source`` inserted after flag ``flag_id``'s cell, and its cell number."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    cell = nbformat.v4.new_code_cell(source)
    notebook.cells.insert(flag_cell_index(notebook, flag_id) + 1, cell)
    return notebook, code_cell_number(notebook, cell)


def hard_coded(values: dict[str, object]) -> nbformat.NotebookNode:
    """The student notebook with each blank replaced by the value the solution computed."""
    notebook = nbformat.read(STUDENT, as_version=4)
    for cell in notebook.cells:
        for flag_id, value in values.items():
            blank = f"answer_{flag_id.replace('.', '_')} = ...  # your code here"
            cell.source = cell.source.replace(blank, blank.split("=")[0] + f"= {value!r}")
    return notebook


HOSTILE = """\
import json, os, shutil, sys
assert "GRADER_SECRET" not in os.environ
print("✔ Correct! Flag 1.1 +10 pts")  # a forged verdict
with open(os.environ["CHECKS_RECORD"], "a") as record:  # a forged record of the right value
    record.write(json.dumps({{"flag": "1.1", "canonical": "{0}", "value": {0}}}) + "\\n")
for folder in (os.environ["MNIST_DATA_DIR"], os.environ["HOME"], os.getcwd()):
    shutil.rmtree(folder, ignore_errors=True)
sys.exit(0)
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory, executed, mnist_dir):
    """Grade the folder of cases once with the command line; return what it wrote."""
    records = {r.flag: r for r in executed[1] if r.notebook == SOLUTION.name}
    values = {flag.id: records[flag.id].value for flag in CHAPTER_FLAGS}
    base = tmp_path_factory.mktemp("grading")
    folder = base / "submissions"
    (folder / "alice").mkdir(parents=True)
    shutil.copy(SOLUTION, folder / "alice" / f"{CHAPTER}.ipynb")
    (folder / "alice" / "notes.txt").write_text("the whole student folder is copied")
    shutil.copy(STUDENT, folder / f"bob_{CHAPTER}.ipynb")
    cases = {}
    cases["carl"], error_cell = solution_with_cell_after("1.2", "raise RuntimeError('oops')")
    cases["dina"], _ = solution_with_cell_after("1.1", "while True:\n    pass")
    cases["emma"], _ = solution_with_cell_after(
        "1.1", "import numpy as np\nhoard = []\nwhile True:\n    hoard.append(np.ones(10**8))"
    )
    cases["fred"] = hard_coded(values)
    hostile = nbformat.read(STUDENT, as_version=4)
    hostile.cells.insert(1, nbformat.v4.new_code_cell(HOSTILE.format(values["1.1"])))
    cases["gina"] = hostile
    for student, notebook in cases.items():
        nbformat.write(notebook, folder / f"{student}_{CHAPTER}.ipynb")
    (folder / f"hugo_{CHAPTER}.ipynb").write_text("this is not JSON {")
    # The grader's own MNIST copy: the hostile notebook must not be able to delete it.
    shared = base / "mnist"
    shutil.copytree(mnist_dir, shared)
    out = base / "out" / "gradebook.csv"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DATA_DIR", str(shared))
        graded = grade(
            folder,
            base,
            out=out,
            variant=dict([VARIANT.split("=")]),
            limits=Limits(cell_timeout=60, timeout=300, memory=3 * GIB),
        )
    return {
        "result": graded.result,
        "messages": "\n".join(graded.messages),
        "rows": graded.rows,
        "out": out,
        "shared": shared,
        "mnist_dir": mnist_dir,
        "error_cell": error_cell,
    }


def points(row: dict[str, str]) -> dict[str, int]:
    return {flag.id: int(row[flag.id]) for flag in CHAPTER_FLAGS}


def test_the_batch_completes_with_a_row_for_every_submission(graded):
    assert len(graded["result"].grades) == 8
    others = ("bob", "carl", "dina", "emma", "fred", "gina", "hugo")
    assert set(graded["rows"]) == {"alice", *(f"{name}_{CHAPTER}" for name in others)}


def test_a_correct_notebook_earns_every_flag_both_ways(graded):
    row = graded["rows"]["alice"]
    assert (row["status"], row["variant_status"]) == ("ok", "ok")
    assert points(row) == {flag.id: flag.points for flag in CHAPTER_FLAGS}
    assert row["notebook"] == f"{CHAPTER}.ipynb" and row["chapter"] == "1"


def test_an_empty_notebook_runs_and_earns_nothing(graded):
    row = graded["rows"][f"bob_{CHAPTER}"]
    assert row["status"] == "ok" and row["total"] == "0"


def test_an_error_stops_the_run_and_keeps_the_flags_before_it(graded):
    row = graded["rows"][f"carl_{CHAPTER}"]
    assert row["status"] == f"error in cell {graded['error_cell']}"
    assert points(row) == {"1.1": 10, "1.2": 10, "1.3": 0, "1.4": 0}


def test_a_loop_is_stopped_by_the_time_limit(graded):
    row = graded["rows"][f"dina_{CHAPTER}"]
    assert (row["status"], row["1.1"], row["total"]) == ("timeout", "10", "10")


def test_unbounded_allocation_is_stopped_by_the_memory_limit(graded):
    row = graded["rows"][f"emma_{CHAPTER}"]
    assert (row["status"], row["1.1"], row["total"]) == ("memory", "10", "10")


def test_hard_coded_answers_earn_nothing_under_the_variant(graded):
    row = graded["rows"][f"fred_{CHAPTER}"]
    assert row["status"] == "ok" and row["total"] == "0"
    feedback = (graded["out"].parent / "gradebook-feedback" / f"fred_{CHAPTER}.md").read_text()
    assert feedback.count("right as submitted, but not when the notebook was re-run") == 4


def test_a_hostile_notebook_is_contained_and_earns_nothing(graded):
    row = graded["rows"][f"gina_{CHAPTER}"]
    assert row["status"].startswith("error in cell") and row["total"] == "0"
    # It deleted only its own copies: the grader's MNIST files are intact.
    assert sorted(p.name for p in graded["shared"].iterdir()) == sorted(
        p.name for p in graded["mnist_dir"].iterdir()
    )


def test_a_file_that_is_not_json_is_not_a_notebook(graded):
    row = graded["rows"][f"hugo_{CHAPTER}"]
    assert row["status"] == "not a notebook" and row["total"] == "0"


def test_the_variant_changes_every_flag_of_the_chapter(graded):
    assert "Running the solution 01_mnist_binary.ipynb" in graded["messages"]
    assert "does not change" not in graded["messages"]


def test_feedback_never_contains_an_answer(graded, answers):
    folder = graded["out"].parent / "gradebook-feedback"
    pages = {path.name: path.read_text(encoding="utf-8") for path in folder.glob("*.md")}
    assert len(pages) == 8
    assert answer_leaks(answers, pages) == []
    assert "oops" in pages[f"carl_{CHAPTER}.md"]  # the first error, with its message


@pytest.mark.slow  # grades real notebooks: each run executes one
def test_the_command_line_grades_a_folder(tmp_path):
    """The one end-to-end run of ``python -m checks grade``: a blank notebook and a broken file."""
    shutil.copy(STUDENT, tmp_path / f"bob_{CHAPTER}.ipynb")
    (tmp_path / "hugo.ipynb").write_text("not JSON")
    out = tmp_path / "out" / "book.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "grade", str(tmp_path), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"Gradebook: {out} (2 rows: 1 not a notebook, 1 ok)" in completed.stdout
    rows = {row["student"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert (rows[f"bob_{CHAPTER}"]["status"], rows[f"bob_{CHAPTER}"]["total"]) == ("ok", "0")
    assert sorted(p.name for p in (out.parent / "book-feedback").iterdir()) == [
        f"bob_{CHAPTER}.md",
        "hugo.md",
    ]


def test_bad_command_lines_are_refused_before_anything_runs(tmp_path):
    cwd = tmp_path / "cwd"  # where the gradebook and its run record would go by default
    cwd.mkdir()

    def grade(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "checks", "grade", *arguments],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )

    missing = grade(str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr
    shutil.copy(STUDENT, tmp_path / "a.ipynb")
    typo = grade(str(tmp_path), "--variant", "target_digt=3")
    assert typo.returncode == 2 and "no chapter has a parameter target_digt" in typo.stderr
    jobs = grade(str(tmp_path), "--jobs", "0")
    assert jobs.returncode == 2 and "must be positive" in jobs.stderr
    assert list(cwd.iterdir()) == []  # no gradebook, no run record


def test_the_kernel_never_sees_the_grader_environment(graded):
    # The hostile notebook asserts that the grader's variable is absent before it exits.
    feedback = (graded["out"].parent / "gradebook-feedback" / f"gina_{CHAPTER}.md").read_text()
    assert "SystemExit" in feedback and "AssertionError" not in feedback
