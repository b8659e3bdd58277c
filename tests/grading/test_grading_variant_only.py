"""``grade --variant ... --variant-only``: one run, under the variant, judged against the solution.

The parts with a stand-in for the run (fast: a typed-in answer earns nothing, the default keys
are not consulted), then real chapter-1 submissions: the correct one earns every flag from one
run, the blank one nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, grade
from test_grading import CHAPTER, SOLUTION, STUDENT

from checks.answer_keys import make_key
from checks.canonical import canonical
from checks.catalogue import chapter_flags
from checks.grading import Limits, step
from checks.grading.cluster import Packed, pack, unpack
from checks.grading.contained_run import Run
from checks.grading.feedback import feedback_page
from checks.grading.gradebook import gradebook_rows
from checks.grading.settings import Settings
from checks.grading.status import RunStatus, Verdict
from checks.grading.submissions import Submission
from checks.grading.variant_keys import VariantKeys
from checks.running.isolation import Isolation
from checks.running.limits import GIB

PARAMETERS = {"target_digit": 3}


#: Default keys that say 1234 for every flag of chapter 1.
BENCH = step.Bench(
    "tests",
    Isolation("none"),
    {f.id: make_key(f.id, canonical(f, 1234), "tests") for f in chapter_flags(1)},
    {},
    Path("mnist"),
)


def settings_with_variant(variant_only: bool) -> Settings:
    """A variant whose keys say 4321 for every flag of chapter 1."""
    variant_keys = {f.id: make_key(f.id, canonical(f, 4321), "tests") for f in chapter_flags(1)}
    variant = VariantKeys(PARAMETERS, variant_keys, [])
    return Settings(variants={1: variant}, variant_only=variant_only)


@pytest.fixture
def runs(monkeypatch):
    """Stand in for the runs: the parameters of each, and answers 1234 or 4321 (the variant)."""
    calls: list[dict | None] = []

    def run(submission, mnist_dir, limits, parameters=None, isolation=None) -> Run:
        calls.append(parameters)
        value = 4321 if parameters else 1234
        answers = {flag.id: [value] for flag in chapter_flags(1)}
        return Run(RunStatus.OK, None, answers, 10.0)

    monkeypatch.setattr(step, "run_submission", run)
    return calls


def test_variant_only_runs_once_under_the_variant_and_judges_against_its_keys(runs, tmp_path):
    submission = Submission("zoe", tmp_path / "z.ipynb", None, chapter=1)
    grade = step.grade_submission(submission, settings_with_variant(variant_only=True), BENCH)
    assert runs == [PARAMETERS]
    assert {f.verdict for f in grade.flags} == {Verdict.CAPTURED}
    assert grade.seconds == 10.0 and grade.variant_only
    row = gradebook_rows([grade])[0]
    assert (row["status"], row["variant_status"]) == ("ok", "judged under the variant only")
    assert "judged under the variant only" in feedback_page("zoe", [grade])


def test_the_default_answer_keys_are_not_consulted_under_variant_only(monkeypatch, tmp_path):
    """A run answering the default keys' values under the variant (typed in) earns nothing."""

    def typed_in(submission, mnist_dir, limits, parameters=None, isolation=None) -> Run:
        return Run(RunStatus.OK, None, {f.id: [1234] for f in chapter_flags(1)}, 1.0)

    monkeypatch.setattr(step, "run_submission", typed_in)
    submission = Submission("zoe", tmp_path / "z.ipynb", None, chapter=1)
    grade = step.grade_submission(submission, settings_with_variant(variant_only=True), BENCH)
    assert {f.verdict for f in grade.flags} == {Verdict.WRONG} and grade.total == 0


def test_without_variant_only_a_submission_runs_twice(runs, tmp_path):
    submission = Submission("zoe", tmp_path / "z.ipynb", None, chapter=1)
    grade = step.grade_submission(submission, settings_with_variant(variant_only=False), BENCH)
    assert runs == [None, PARAMETERS] and grade.seconds == 20.0
    assert grade.total == grade.possible


def test_variant_only_without_a_variant_is_a_clear_error(tmp_path):
    shutil.copy(STUDENT, tmp_path / "a.ipynb")
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "grade", str(tmp_path), "--variant-only"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "--variant-only needs a --variant" in completed.stderr


def test_a_submission_travels_to_a_worker_as_bytes_without_links(tmp_path):
    student = tmp_path / "in" / "amy"
    (student / "data").mkdir(parents=True)
    (student / "01.ipynb").write_text("{}")
    (student / "data" / "x.txt").write_text("x")
    (student / "secret").symlink_to("/etc/hostname")
    submission = Submission("amy", student / "01.ipynb", student, chapter=1)
    packed = pack(submission)
    assert sorted(packed.files) == ["01.ipynb", "data/x.txt"]
    here = unpack(packed, tmp_path / "out")
    assert here.path == tmp_path / "out" / "01.ipynb" and here.folder == tmp_path / "out"
    assert (tmp_path / "out" / "data" / "x.txt").read_text() == "x"
    with pytest.raises(ValueError, match="refusing"):
        unpack(Packed(submission, {"../escape.txt": b""}), tmp_path / "again")


@pytest.mark.slow  # grades real notebooks: each run executes one
def test_real_submissions_under_variant_only(tmp_path, mnist_dir):
    """The correct notebook earns every flag from one run under the variant; a blank one none."""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(SOLUTION, submissions / f"alice_{CHAPTER}.ipynb")
    shutil.copy(STUDENT, submissions / f"bob_{CHAPTER}.ipynb")
    graded = grade(
        submissions,
        tmp_path,
        variant={"target_digit": "3"},
        variant_only=True,
        limits=Limits(cell_timeout=120, timeout=300, memory=3 * GIB),
        report_html=tmp_path / "report.html",
    )
    result, rows, messages = graded.result, graded.rows, graded.messages
    alice, bob = rows[f"alice_{CHAPTER}"], rows[f"bob_{CHAPTER}"]
    assert alice["status"] == "ok" and alice["total"] == alice["possible"] != "0"
    assert bob["status"] == "ok" and bob["total"] == "0"
    assert alice["variant_status"] == "judged under the variant only"
    assert all(grade.variant_status is None for grade in result.grades)  # one run each
    assert any("each once with target_digit=3" in message for message in messages)
    assert '<section id="flags">' in (tmp_path / "report.html").read_text(encoding="utf-8")
