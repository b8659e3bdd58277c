"""Grading: how a contained run ended, and what it leaves read safely."""

from __future__ import annotations

import json
import os

import nbformat
from conftest import ROOT

from checks.grading.contained_run import first_error
from checks.grading.status import RunStatus, describe_status
from checks.recording import MAX_RECORD_BYTES, RECORD_FILE, read_records
from checks.running.execute import Execution

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


def test_a_huge_record_file_is_read_only_up_to_its_cap(tmp_path):
    record = tmp_path / RECORD_FILE
    line = json.dumps({"flag": "1.1", "value": 1}) + "\n"
    with record.open("w") as stream:
        stream.write(line)
        stream.write("[" * 100_000 + "\n")  # too deep for the JSON parser
        stream.write("x" * (MAX_RECORD_BYTES + 10) + "\n")
        stream.write(line)  # past the cap: not read
    assert [(r.flag, r.value) for r in read_records(record)] == [("1.1", 1)]


def test_files_a_run_leaves_are_read_only_when_regular(tmp_path):
    record = tmp_path / RECORD_FILE
    record.symlink_to(ROOT / "checks" / "answer_keys.json")
    assert read_records(record) == []
    pipe = tmp_path / "executed.ipynb"
    os.mkfifo(pipe)  # reading it would block forever
    execution = Execution(pipe, pipe, 0, "", False)
    assert first_error(execution) == (RunStatus.OK, None)
