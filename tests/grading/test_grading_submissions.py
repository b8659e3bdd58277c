"""Grading: finding the submissions, each classified once; links and special files refused."""

from __future__ import annotations

import os

import nbformat
import pytest
from conftest import ROOT

from checks.grading.contained_run import copy_submission
from checks.grading.status import RunStatus
from checks.grading.submissions import Submission, SubmissionsError, chapter_of, find_submissions

STEMS = {1: "01_mnist_binary", 2: "02_performance_measures"}


def notebook_with(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


# --- Submissions -----------------------------------------------------------------------------


def test_a_folder_of_files_and_student_folders(tmp_path):
    (tmp_path / "ann_01.ipynb").write_text("{}")
    (tmp_path / "ben").mkdir()
    (tmp_path / "ben" / "01_mnist_binary.ipynb").write_text("{}")
    (tmp_path / "ben" / "helper.csv").write_text("1,2")
    (tmp_path / "ben" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "ben" / ".ipynb_checkpoints" / "01_mnist_binary-checkpoint.ipynb").write_text("{}")
    (tmp_path / "cy").mkdir()  # handed in nothing usable
    (tmp_path / "cy" / "report.pdf").write_text("%PDF")
    (tmp_path / "dee.pdf").write_text("%PDF")
    (tmp_path / ".DS_Store").write_text("")
    found = find_submissions(tmp_path, STEMS)
    assert [(s.student, s.name, s.is_notebook_file) for s in found] == [
        ("ann_01", "ann_01.ipynb", True),
        ("ben", "01_mnist_binary.ipynb", True),
        ("cy", "", False),
        ("dee", "dee.pdf", False),
    ]
    # Each is classified once, when found: "{}" is not a valid notebook.
    assert {s.problem for s in found} == {RunStatus.NOT_A_NOTEBOOK}


def test_submissions_are_classified_by_chapter_when_found(tmp_path):
    nbformat.write(notebook_with('checks.check("2.1", a)'), tmp_path / "ann.ipynb")
    nbformat.write(notebook_with("x = 1"), tmp_path / "ben_01_mnist_binary.ipynb")
    nbformat.write(notebook_with("x = 1"), tmp_path / "cy.ipynb")
    found = {s.student: s for s in find_submissions(tmp_path, STEMS)}
    assert (found["ann"].chapter, found["ann"].problem) == (2, None)
    assert (found["ben_01_mnist_binary"].chapter, found["ben_01_mnist_binary"].problem) == (1, None)
    assert (found["cy"].chapter, found["cy"].problem) == (None, RunStatus.NOT_A_COURSE_NOTEBOOK)


def test_no_submissions_is_an_error(tmp_path):
    with pytest.raises(SubmissionsError, match="empty"):
        find_submissions(tmp_path, STEMS)
    with pytest.raises(SubmissionsError, match="not a folder"):
        find_submissions(tmp_path / "missing", STEMS)


def test_the_chapter_comes_from_the_flag_cells_then_the_name():
    checked = notebook_with('checks.check("2.1", a)', "checks.check('2.3', b)")
    assert chapter_of(checked, "Copy of 01_mnist_binary.ipynb", STEMS) == 2
    assert chapter_of(notebook_with("x = 1"), "jdoe_01_mnist_binary.ipynb", STEMS) == 1
    assert chapter_of(notebook_with('checks.check("9.9", a)'), "mine.ipynb", STEMS) is None


def test_links_outside_files_and_special_files_are_refused_hidden_files_kept(tmp_path):
    root = tmp_path / "submissions"
    (root / "ben").mkdir(parents=True)
    outside = tmp_path / "solution.ipynb"
    nbformat.write(notebook_with('checks.check("1.1", a)'), outside)
    (root / "ann.ipynb").symlink_to(outside)
    (root / "ben" / "01_mnist_binary.ipynb").symlink_to(outside)
    (root / "cy").symlink_to(tmp_path)
    os.mkfifo(root / "dee.ipynb")
    nbformat.write(notebook_with('checks.check("1.1", a)'), root / ".eve.ipynb")
    (root / ".DS_Store").write_text("")
    found = {(s.student, s.name): s.problem for s in find_submissions(root, STEMS)}
    assert found == {
        (".eve", ".eve.ipynb"): None,
        ("ann", "ann.ipynb"): RunStatus.REFUSED_SYMLINK,
        ("ben", "01_mnist_binary.ipynb"): RunStatus.REFUSED_SYMLINK,
        ("cy", "cy"): RunStatus.REFUSED_SYMLINK,
        ("dee", "dee.ipynb"): RunStatus.REFUSED_SPECIAL,
    }


def test_a_student_folder_is_copied_without_its_links(tmp_path):
    folder = tmp_path / "ben"
    folder.mkdir()
    nbformat.write(notebook_with("x = 1"), folder / "01_mnist_binary.ipynb")
    (folder / "data.csv").write_text("1,2")
    (folder / "answers.json").symlink_to(ROOT / "checks" / "answer_keys.json")
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    submission = Submission("ben", folder / "01_mnist_binary.ipynb", folder, chapter=1)
    work = tmp_path / "work"
    work.mkdir()
    copy_submission(submission, work, mnist)
    assert sorted(p.name for p in (work / "submission").iterdir()) == [
        "01_mnist_binary.ipynb",
        "data.csv",
    ]
