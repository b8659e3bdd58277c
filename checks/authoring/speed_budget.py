"""The course's speed budget: what a chapter may cost, and a release that keeps it.

``benchmarks/run_notebooks.py`` (``make bench``) executes every chapter and measures, in the same
run, a **reference workload**: chapter 1's ``SGDClassifier`` fit on MNIST's 60,000 training images.
A chapter's *relative time* is its wall time divided by the reference's, a figure that means
something on a busy or slower machine, where seconds do not. Each measurement is a JSON file:

* ``_build/bench.json``, the latest ``make bench``;
* ``benchmarks/timings.json``, the recorded table, committed (``make bench-record``), from which the
  README's table is copied.

``python -m checks release`` refuses to write the student notebooks when the latest measurement
is of the current solutions and a chapter's relative time grew by more than 20 % against the
recorded table (:func:`release_verdict`). The budget itself (:data:`BUDGET`) is what a chapter
may take on two idle cores; :func:`over_budget` names what a measurement breaks.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from checks.files import atomic_write_text
from checks.layout import BENCH_LATEST, BENCH_RECORD, chapter_notebooks

#: A chapter may grow by this factor of its recorded relative time before a release is refused.
GROWTH_ALLOWED = 1.20
#: The notebooks of Part I (chapters 1-5), by their names' first two characters.
PART_ONE = {f"{chapter:02d}" for chapter in range(1, 6)}


@dataclass(frozen=True)
class Budget:
    """What the course may cost on two idle cores (seconds, MiB)."""

    chapter_s: float = 120.0
    course_s: float = 600.0
    part_one_s: float = 250.0  # chapters 1-5
    cell_s: float = 60.0  # longer only with a progress bar
    memory_mib: float = 3072.0


BUDGET = Budget()


@dataclass(frozen=True)
class Timing:
    """One notebook's figures in a measurement."""

    notebook: str
    wall_s: float
    slowest_cell_s: float
    slowest_cell: int
    peak_rss_mib: float


@dataclass(frozen=True)
class Measurement:
    """One benchmark run: the reference workload's time and every notebook's figures."""

    reference_s: float
    cores: int
    solutions_digest: str
    notebooks: list[Timing] = field(default_factory=list)
    folder: str = "solutions"

    def relative(self, timing: Timing) -> float:
        """A notebook's wall time in reference workloads (the reference's seconds as unit)."""
        return timing.wall_s / self.reference_s


def solutions_digest(folder: Path) -> str:
    """A digest of the code the benchmark ran: each chapter's code cells, not their outputs.

    Parameters
    ----------
    folder : pathlib.Path
        A folder of chapter notebooks (``solutions/`` or ``notebooks/``).

    Returns
    -------
    str
        SHA-256, hexadecimal: equal for two folders whose chapters run the same code.
    """
    digest = hashlib.sha256()
    for chapter, path in chapter_notebooks(folder).items():
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        sources = [
            "".join(cell.get("source", ""))
            for cell in cells
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
        ]
        digest.update(json.dumps([chapter, sources]).encode())
    return digest.hexdigest()


def read_measurement(path: Path) -> Measurement | None:
    """Read a measurement written by :func:`write_measurement`; None if there is none.

    Parameters
    ----------
    path : pathlib.Path
        ``_build/bench.json``, ``benchmarks/timings.json`` or another measurement.

    Returns
    -------
    Measurement or None
        None when the file is missing.

    Raises
    ------
    ValueError
        The file is not a measurement (one line saying why).
    """
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        notebooks = [Timing(**_without_relative(row)) for row in data["notebooks"]]
        reference = float(data["reference_s"])
        measurement = Measurement(
            reference_s=reference,
            cores=int(data["cores"]),
            solutions_digest=str(data["solutions_digest"]),
            notebooks=notebooks,
            folder=str(data.get("folder", "solutions")),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a benchmark measurement ({error})") from None
    if not (math.isfinite(reference) and reference > 0):
        raise ValueError(f"{path}: the reference time must be a positive number")
    return measurement


def write_measurement(path: Path, measurement: Measurement) -> None:
    """Write a measurement as JSON (with each notebook's relative time, for readers).

    Parameters
    ----------
    path : pathlib.Path
        Where to write it; its folder is created.
    measurement : Measurement
        What a benchmark run measured.
    """
    data = asdict(measurement)
    for row, timing in zip(data["notebooks"], measurement.notebooks, strict=True):
        row["relative"] = round(measurement.relative(timing), 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def _without_relative(row: dict) -> dict:
    return {key: value for key, value in row.items() if key != "relative"}


def slower_chapters(latest: Measurement, recorded: Measurement) -> list[str]:
    """The notebooks whose relative time grew by more than :data:`GROWTH_ALLOWED`, one line each.

    Parameters
    ----------
    latest, recorded : Measurement
        The latest benchmark run and the recorded table.

    Returns
    -------
    list of str
        ``"07_support_vector_machines.ipynb: 9.1 -> 11.8 reference workloads (+30 %)"``.
    """
    before = {timing.notebook: recorded.relative(timing) for timing in recorded.notebooks}
    lines = []
    for timing in latest.notebooks:
        now, then = latest.relative(timing), before.get(timing.notebook)
        if then and now > then * GROWTH_ALLOWED * (1 + 1e-9):
            lines.append(
                f"{timing.notebook}: {then:.1f} -> {now:.1f} reference workloads "
                f"(+{(now / then - 1) * 100:.0f} %)"
            )
    return lines


def over_budget(measurement: Measurement, budget: Budget = BUDGET) -> list[str]:
    """What a measurement breaks of the budget, one line each (empty: within it).

    Parameters
    ----------
    measurement : Measurement
        A benchmark run (meaningful on two idle cores).
    budget : Budget, optional
        The limits; :data:`BUDGET` by default.

    Returns
    -------
    list of str
        One line per chapter, cell or total over its limit.
    """
    lines = []
    for timing in measurement.notebooks:
        if timing.wall_s > budget.chapter_s:
            lines.append(f"{timing.notebook}: {timing.wall_s:.0f} s > {budget.chapter_s:.0f} s")
        if timing.slowest_cell_s > budget.cell_s:
            lines.append(
                f"{timing.notebook}: cell {timing.slowest_cell} took {timing.slowest_cell_s:.0f} s"
                f" > {budget.cell_s:.0f} s (allowed only with a progress bar)"
            )
        if timing.peak_rss_mib > budget.memory_mib:
            lines.append(
                f"{timing.notebook}: {timing.peak_rss_mib:.0f} MiB > {budget.memory_mib:.0f} MiB"
            )
    total = sum(timing.wall_s for timing in measurement.notebooks)
    if total > budget.course_s:
        lines.append(f"the course: {total:.0f} s > {budget.course_s:.0f} s")
    part_one = sum(
        timing.wall_s for timing in measurement.notebooks if timing.notebook[:2] in PART_ONE
    )
    if part_one > budget.part_one_s:
        lines.append(f"chapters 1-5: {part_one:.0f} s > {budget.part_one_s:.0f} s")
    return lines


@dataclass(frozen=True)
class Verdict:
    """Whether a release may go ahead on speed, and what to tell the author."""

    allowed: bool
    lines: list[str]


def release_verdict(root: Path) -> Verdict:
    """Compare the latest measurement of these solutions with the recorded table.

    Parameters
    ----------
    root : pathlib.Path
        The course's folder.

    Returns
    -------
    Verdict
        Refused when the latest measurement is of the current solutions and a chapter grew by more
        than 20 %; allowed, with a note, when there is no such measurement or no recorded table.
    """
    try:
        latest = read_measurement(root / BENCH_LATEST)
        recorded = read_measurement(root / BENCH_RECORD)
    except ValueError as error:
        return Verdict(False, [f"speed budget: {error}"])
    digest = solutions_digest(root / "solutions")
    if latest is None or latest.solutions_digest != digest or latest.folder != "solutions":
        return Verdict(True, ["speed budget: no `make bench` of these solutions yet, not checked"])
    if recorded is None:
        return Verdict(True, [f"speed budget: no recorded table ({BENCH_RECORD}), not checked"])
    slower = slower_chapters(latest, recorded)
    if slower:
        return Verdict(
            False,
            [
                f"speed budget: {len(slower)} chapter(s) grew by more than "
                f"{(GROWTH_ALLOWED - 1) * 100:.0f} % against {BENCH_RECORD}:",
                *(f"  {line}" for line in slower),
                "Make them faster, or, if the growth is meant, record the new table "
                "(`make bench-record`) and refresh the README's.",
            ],
        )
    return Verdict(True, [f"speed budget: every chapter within 20 % of {BENCH_RECORD}"])
