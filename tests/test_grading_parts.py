"""The grader's parts: finding submissions, variants, judging, status of a run, the gradebook."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess

import nbformat
import pytest
from conftest import ROOT

from checks.answer_keys import keys_to_json, make_key
from checks.catalogue import get_flag
from checks.grading import GradingInputError, grade_folder, trust, variants
from checks.grading.contained_run import copy_submission, first_error
from checks.grading.feedback import feedback_page
from checks.grading.gradebook import neutralised, write_gradebook
from checks.grading.judging import FlagGrade, Grade, judge_flag
from checks.grading.parameters import (
    VariantError,
    assigned_values,
    chapter_parameters,
    notebook_parameters,
    parse_assignments,
)
from checks.grading.status import CellError, RunStatus, Verdict, describe_status
from checks.grading.submissions import Submission, SubmissionsError, chapter_of, find_submissions
from checks.grading.trust import UntrustedInstallation, config_dir, verify_installation
from checks.grading.variant_keys import VariantKeys
from checks.grading.variants import variant_keys
from checks.judge import Standard
from checks.recording import MAX_RECORD_BYTES, RECORD_FILE, read_records
from checks.running import isolation
from checks.running.execute import Execution
from checks.running.isolation import NONE_WARNING

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


# --- Variants --------------------------------------------------------------------------------


def test_variant_assignments_are_parsed_and_typed_like_the_defaults():
    requested = parse_assignments(["target_digit=3", "random_state=7", "target_precision=0.8"])
    parameters = {
        1: notebook_parameters(ROOT / "solutions" / "01_mnist_binary.ipynb"),
        2: notebook_parameters(ROOT / "solutions" / "02_performance_measures.ipynb"),
        3: notebook_parameters(ROOT / "solutions" / "03_multiclass.ipynb"),
    }
    assert chapter_parameters(requested, parameters) == {
        1: {"random_state": 7, "target_digit": "3"},
        2: {"random_state": 7, "target_digit": "3", "target_precision": 0.8},
        3: {"random_state": 7},
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["target_digit"], "KEY=VALUE"),
        (["=3"], "KEY=VALUE"),
        (["random_state=1", "random_state=2"], "twice"),
        (["random_stat=1"], "no chapter has a parameter random_stat"),
        (["random_state=seven"], "expected int"),
    ],
)
def test_bad_variants_are_refused_with_the_reason(items, message):
    parameters = {1: {"random_state": 42, "target_digit": "5"}}
    with pytest.raises(VariantError, match=message):
        chapter_parameters(parse_assignments(items), parameters)


def test_the_parameters_cell_is_read_with_tuple_assignments():
    assert assigned_values('a = 1  # one\ncl_a, cl_b = "3", "5"\nb = f(2)') == {
        "a": 1,
        "cl_a": "3",
        "cl_b": "5",
    }
    assert "cl_b" in notebook_parameters(ROOT / "solutions" / "04_error_analysis.ipynb")


# --- Judging ---------------------------------------------------------------------------------

FLAG = get_flag("1.1")
KEY = make_key("1.1", "1234", "tests")
VARIANT_KEY = make_key("1.1", "4321", "tests")
RIGHT, RIGHT_UNDER_VARIANT = Standard(key=KEY), Standard(key=VARIANT_KEY)


@pytest.mark.parametrize(
    ("submitted", "under_variant", "verdict"),
    [
        ([1234], [4321], Verdict.CAPTURED),
        ([1234.0, 1234], [4321], Verdict.CAPTURED),
        ([], [4321], Verdict.NOT_ANSWERED),
        ([1233], [4321], Verdict.WRONG),
        (["1234"], [4321], Verdict.WRONG),
        ([1233, 1234], [4321], Verdict.SEVERAL),
        ([1234], [1234], Verdict.NOT_UNDER_VARIANT),  # the same value both ways: typed in
        ([1234], [], Verdict.NOT_UNDER_VARIANT),
        ([1234], [4321, 4320], Verdict.NOT_UNDER_VARIANT),
    ],
)
def test_a_flag_pays_only_when_right_as_submitted_and_under_the_variant(
    submitted, under_variant, verdict
):
    grade = judge_flag(FLAG, submitted, RIGHT, under_variant, RIGHT_UNDER_VARIANT)
    assert grade.verdict == verdict
    assert grade.points == (FLAG.points if verdict == Verdict.CAPTURED else 0)


def test_without_a_variant_the_submitted_answer_decides():
    assert judge_flag(FLAG, [1234], RIGHT).verdict == Verdict.CAPTURED
    assert judge_flag(FLAG, [1234], None).verdict == Verdict.WRONG  # no key: nothing to earn


# --- How a run ended -------------------------------------------------------------------------


def executed(tmp_path, notebook, log="", returncode=0, timed_out=False) -> Execution:
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    return Execution(path, path, returncode, log, timed_out)


def failed_cell(source, ename, evalue):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["papermill"] = {"exception": True, "start_time": "t"}
    cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])]
    return cell


def started_cell(source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["papermill"] = {"exception": False, "start_time": "t"}
    return cell


def test_the_first_failing_cell_is_numbered_among_the_submission_code_cells(tmp_path):
    injected = started_cell("target_digit = '3'")
    injected.metadata["tags"] = ["injected-parameters"]
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title"),
            started_cell("import numpy"),
            injected,
            failed_cell("x = undefined\ny = 2", "NameError", "name 'undefined' is not defined"),
        ]
    )
    status, error = first_error(executed(tmp_path, notebook, returncode=1))
    assert describe_status(status, error) == "error in cell 2"
    assert (error.cell, error.name, error.source) == (2, "NameError", "x = undefined")


def test_memory_errors_timeouts_and_dead_kernels_have_their_own_status(tmp_path):
    memory = nbformat.v4.new_notebook(cells=[failed_cell("a = []", "MemoryError", "")])
    assert first_error(executed(tmp_path, memory, returncode=1))[0] == RunStatus.MEMORY
    looping = nbformat.v4.new_notebook(cells=[started_cell("x = 1"), started_cell("while 1: 1")])
    assert first_error(executed(tmp_path, looping, timed_out=True))[0] == RunStatus.TIMEOUT
    assert first_error(executed(tmp_path, looping, "CellTimeoutError", 1))[1].cell == 2
    died = first_error(executed(tmp_path, looping, "DeadKernelError: Kernel died", 1))
    assert describe_status(*died) == "error in cell 2" and "kernel died" in died[1].message
    assert first_error(executed(tmp_path, looping))[0] == RunStatus.OK


def test_a_run_killed_before_any_output_is_a_timeout(tmp_path):
    execution = Execution(tmp_path / "x.ipynb", tmp_path / "none.ipynb", -9, "", True)
    assert first_error(execution) == (RunStatus.TIMEOUT, None)


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


# --- Refusals, neutralised cells, values that cannot be judged ---------------------------------


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


@pytest.mark.parametrize("name", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_neutralised(tmp_path, name):
    grade = Grade(Submission(name, tmp_path / f"{name}.ipynb", None), RunStatus.NOT_A_NOTEBOOK)
    path = tmp_path / "gradebook.csv"
    write_gradebook(path, [grade])
    row = next(csv.DictReader(path.open(newline="")))
    assert row["student"] == "'" + name
    assert neutralised("jane doe") == "jane doe"


def test_a_value_that_breaks_judging_costs_that_flag_only():
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("boom")

        def __float__(self):
            raise RuntimeError("boom")

        def __index__(self):
            raise RuntimeError("boom")

    assert judge_flag(FLAG, [Hostile()], RIGHT).verdict in (Verdict.WRONG, Verdict.UNJUDGEABLE)
    assert judge_flag(FLAG, [[[[1]]]], RIGHT).points == 0
    assert judge_flag(FLAG, [1234], RIGHT).verdict is Verdict.CAPTURED


def test_a_huge_record_file_is_read_only_up_to_its_cap(tmp_path):
    record = tmp_path / RECORD_FILE
    line = json.dumps({"flag": "1.1", "value": 1}) + "\n"
    with record.open("w") as stream:
        stream.write(line)
        stream.write("[" * 100_000 + "\n")  # too deep for the JSON parser
        stream.write("x" * (MAX_RECORD_BYTES + 10) + "\n")
        stream.write(line)  # past the cap: not read
    assert [(r.flag, r.value) for r in read_records(record)] == [("1.1", 1)]


# --- Trust anchors ---------------------------------------------------------------------------


def git(folder, *arguments):
    subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True)


@pytest.fixture
def committed_package(tmp_path, monkeypatch):
    """A copy of the package in a git repository of its own, as the grader would verify it."""
    repository = tmp_path / "course"
    shutil.copytree(
        ROOT / "checks", repository / "checks", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course")
    monkeypatch.setattr(trust, "package_folder", lambda: repository / "checks")
    monkeypatch.setattr(trust.metadata, "distribution", _no_distribution)
    return repository / "checks"


def _no_distribution(name):
    raise trust.metadata.PackageNotFoundError(name)


def test_the_package_as_committed_is_trusted(committed_package):
    assert verify_installation().startswith("git commit ")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda p: (p / "answer_keys.json").write_text("{}"), "answer_keys.json"),
        (lambda p: (p / "checker.py").open("a").write("\n# changed\n"), "checker.py"),
        (lambda p: (p / "grading" / "planted.py").write_text(""), "planted.py"),
        (lambda p: (p / "flags.toml").unlink(), "flags.toml"),
    ],
)
def test_a_changed_added_or_missing_file_stops_grading_and_is_named(
    committed_package, change, named
):
    change(committed_package)
    with pytest.raises(UntrustedInstallation, match=named):
        verify_installation()


def test_a_variant_cache_entry_changed_by_anyone_else_is_recomputed(tmp_path, monkeypatch):
    solution = tmp_path / "01_x.ipynb"
    solution.write_text("{}")
    computed = VariantKeys({"target_digit": "3"}, {"1.1": KEY}, [])
    runs = []

    def run_once(*arguments):
        runs.append(arguments)
        return computed

    monkeypatch.setattr(variants, "execute_solution", run_once)
    cache = tmp_path / "cache"
    assert variant_keys(solution, 1, {"target_digit": "3"}, cache, report=print) == computed
    assert variant_keys(solution, 1, {"target_digit": "3"}, cache, report=print) == computed
    assert len(runs) == 1  # the second time, from the signed cache
    entry = next(cache.iterdir())
    forged = json.loads(entry.read_text())
    document = json.loads(forged["document"])
    document["flags"]["1.1"] = keys_to_json({"1.1": make_key("1.1", "0", "forged")})["1.1"]
    forged["document"] = json.dumps(document, sort_keys=True)
    entry.write_text(json.dumps(forged))
    messages = []
    assert variant_keys(solution, 1, {"target_digit": "3"}, cache, report=messages.append) == (
        computed
    )
    assert len(runs) == 2 and "recomputing" in messages[0]
    assert (config_dir() / "grader-secret").stat().st_mode & 0o077 == 0


def test_files_a_run_leaves_are_read_only_when_regular(tmp_path):
    record = tmp_path / RECORD_FILE
    record.symlink_to(ROOT / "checks" / "answer_keys.json")
    assert read_records(record) == []
    pipe = tmp_path / "executed.ipynb"
    os.mkfifo(pipe)  # reading it would block forever
    execution = Execution(pipe, pipe, 0, "", False)
    assert first_error(execution) == (RunStatus.OK, None)


# --- Isolation modes -------------------------------------------------------------------------


def test_without_isolation_the_grader_warns_loudly_and_says_so(tmp_path):
    (tmp_path / "dee.pdf").write_text("%PDF")
    messages = []
    result = grade_folder(
        tmp_path,
        out=tmp_path / "out.csv",
        isolation="none",
        report=messages.append,
        progress_bar=False,
    )
    assert result.isolation == "none"
    assert NONE_WARNING in messages and "isolation: none" in "\n".join(messages)
    assert "The grader's files match" in messages[0]


def test_namespaces_asked_for_but_refused_stop_grading_with_what_to_do(tmp_path, monkeypatch):
    (tmp_path / "dee.pdf").write_text("%PDF")
    monkeypatch.setattr(isolation, "probe", lambda: None)
    monkeypatch.setattr(isolation, "_probe_results", lambda: {"bubblewrap": "not installed"})
    with pytest.raises(GradingInputError, match="cannot run in Linux namespaces"):
        grade_folder(tmp_path, out=tmp_path / "out.csv", isolation="namespaces")
    assert not (tmp_path / "out.csv").exists()
