"""The speed budget: measurements kept as data, chapters compared in reference units, a release
refused when a chapter grew by more than 20 % against the recorded table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from checks.authoring.speed_budget import (
    BUDGET,
    Measurement,
    Timing,
    over_budget,
    read_measurement,
    release_verdict,
    slower_chapters,
    solutions_digest,
    write_measurement,
)
from checks.layout import BENCH_LATEST, BENCH_RECORD


def timing(name: str, wall: float, cell: float = 5.0, rss: float = 800.0) -> Timing:
    return Timing(notebook=name, wall_s=wall, slowest_cell_s=cell, slowest_cell=3, peak_rss_mib=rss)


def measurement(reference: float, walls: dict[str, float], digest: str = "d") -> Measurement:
    return Measurement(
        reference_s=reference,
        cores=2,
        solutions_digest=digest,
        notebooks=[timing(name, wall) for name, wall in walls.items()],
    )


def a_course(root: Path, code: str = "x = 1") -> Path:
    """A course folder with one solution chapter running ``code``."""
    (root / "solutions").mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbformat.write(notebook, root / "solutions" / "01_first.ipynb")
    return root


def test_a_measurement_is_written_and_read_back_with_its_relative_times(tmp_path):
    written = measurement(10.0, {"01_a.ipynb": 35.0, "02_b.ipynb": 120.0})
    write_measurement(tmp_path / "bench.json", written)
    data = json.loads((tmp_path / "bench.json").read_text())
    assert [row["relative"] for row in data["notebooks"]] == [3.5, 12.0]
    assert read_measurement(tmp_path / "bench.json") == written
    assert read_measurement(tmp_path / "missing.json") is None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "{}",
        '{"reference_s": 0, "cores": 2, "solutions_digest": "d", "notebooks": []}',
        '{"reference_s": "nan", "cores": 2, "solutions_digest": "d", "notebooks": []}',
        '{"reference_s": 1, "cores": 2, "solutions_digest": "d", "notebooks": [{"x": 1}]}',
    ],
)
def test_a_file_that_is_not_a_measurement_is_one_line(tmp_path, content):
    path = tmp_path / "bench.json"
    path.write_text(content)
    with pytest.raises(ValueError) as raised:
        read_measurement(path)
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)


def test_a_chapter_is_slower_only_in_reference_units():
    recorded = measurement(10.0, {"01_a.ipynb": 30.0, "02_b.ipynb": 60.0})
    # A machine twice as slow: every second doubles, the reference too: nothing grew.
    assert (
        slower_chapters(measurement(20.0, {"01_a.ipynb": 60.0, "02_b.ipynb": 120.0}), recorded)
        == []
    )
    # 20 % is allowed; 25 % is not, and the line names the chapter and the growth.
    latest = measurement(10.0, {"01_a.ipynb": 36.0, "02_b.ipynb": 75.0})
    assert slower_chapters(latest, recorded) == [
        "02_b.ipynb: 6.0 -> 7.5 reference workloads (+25 %)"
    ]
    # A chapter the recorded table does not have is not compared.
    assert slower_chapters(measurement(10.0, {"11_new.ipynb": 500.0}), recorded) == []


def test_the_budget_names_each_chapter_cell_memory_and_total_over_it():
    within = measurement(10.0, {f"{chapter:02d}_x.ipynb": 40.0 for chapter in range(1, 11)})
    assert over_budget(within) == []
    broken = Measurement(
        reference_s=10.0,
        cores=2,
        solutions_digest="d",
        notebooks=[
            timing("02_b.ipynb", 130.0),
            timing("07_svm.ipynb", 90.0, cell=61.0),
            timing("05_c.ipynb", 30.0, rss=BUDGET.memory_mib + 1),
            *(timing(f"0{chapter}_x.ipynb", 100.0) for chapter in (1, 3, 4, 6, 8, 9)),
        ],
    )
    lines = over_budget(broken)
    assert "02_b.ipynb: 130 s > 120 s" in lines
    assert any(line.startswith("07_svm.ipynb: cell 3 took 61 s") for line in lines)
    assert any(line.startswith("05_c.ipynb: 3073 MiB") for line in lines)
    assert "the course: 850 s > 600 s" in lines
    assert "chapters 1-5: 460 s > 250 s" in lines


def test_the_digest_follows_the_code_not_the_outputs(tmp_path):
    folder = a_course(tmp_path / "one") / "solutions"
    before = solutions_digest(folder)
    notebook = nbformat.read(folder / "01_first.ipynb", as_version=4)
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nbformat.write(notebook, folder / "01_first.ipynb")
    assert solutions_digest(folder) == before
    notebook.cells[0].source = "x = 2"
    nbformat.write(notebook, folder / "01_first.ipynb")
    assert solutions_digest(folder) != before


def test_release_is_checked_only_against_a_measurement_of_these_solutions(tmp_path):
    root = a_course(tmp_path)
    digest = solutions_digest(root / "solutions")
    assert release_verdict(root).allowed  # nothing measured yet
    assert "not checked" in release_verdict(root).lines[0]
    write_measurement(root / BENCH_RECORD, measurement(10.0, {"01_first.ipynb": 30.0}, digest))
    # The latest run measured other code: the comparison would mean nothing.
    write_measurement(root / BENCH_LATEST, measurement(10.0, {"01_first.ipynb": 60.0}, "old"))
    assert release_verdict(root).allowed
    write_measurement(root / BENCH_LATEST, measurement(10.0, {"01_first.ipynb": 33.0}, digest))
    verdict = release_verdict(root)
    assert verdict.allowed and "within 20 %" in verdict.lines[0]
    write_measurement(root / BENCH_LATEST, measurement(10.0, {"01_first.ipynb": 60.0}, digest))
    verdict = release_verdict(root)
    assert not verdict.allowed
    assert "01_first.ipynb: 3.0 -> 6.0 reference workloads (+100 %)" in "\n".join(verdict.lines)


def test_the_release_command_refuses_a_slower_chapter_and_writes_nothing(tmp_path):
    root = a_course(tmp_path)
    digest = solutions_digest(root / "solutions")
    write_measurement(root / BENCH_RECORD, measurement(10.0, {"01_first.ipynb": 30.0}, digest))
    write_measurement(root / BENCH_LATEST, measurement(10.0, {"01_first.ipynb": 60.0}, digest))
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "release"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "grew by more than 20 %" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (root / "notebooks").exists()
