"""Benchmark the course: per notebook, time, slowest cell, peak RSS, and time in reference units.

Not a test: it prints figures for the README and keeps the course's speed budget
(:mod:`checks.authoring.speed_budget`). Run from the repository root (``make bench``):

    .venv/bin/python benchmarks/run_notebooks.py            # every solution notebook
    .venv/bin/python benchmarks/run_notebooks.py 01_mnist   # those whose name contains "01_mnist"
    .venv/bin/python benchmarks/run_notebooks.py --folder notebooks   # the student versions
    .venv/bin/python benchmarks/run_notebooks.py --record   # and record the table (all chapters)

A reference workload (chapter 1's ``SGDClassifier`` fit on 60,000 MNIST images) is timed twice
before the notebooks and twice after; each notebook's wall time is also given in these units, so a
busy machine does not read as a slower course. The run is written to ``_build/bench.json``, and
compared with the recorded table (``benchmarks/timings.json``) and the budget.

Each notebook runs in its own child process (papermill and its kernel), so the peak resident
memory reported is that notebook's kernel alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checks.authoring.speed_budget import (
    Measurement,
    Timing,
    over_budget,
    read_measurement,
    slower_chapters,
    solutions_digest,
    write_measurement,
)
from checks.layout import BENCH_LATEST, BENCH_RECORD

ROOT = Path(__file__).resolve().parent.parent


def measure_one(notebook: Path, output: Path) -> dict[str, object]:
    """Execute one notebook in this process's child kernel; return its figures."""
    import nbformat
    import papermill

    started = time.perf_counter()
    papermill.execute_notebook(
        str(notebook),
        str(output),
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
    )
    wall = time.perf_counter() - started
    executed = nbformat.read(output, as_version=4)
    durations = [
        (cell.metadata.get("papermill", {}).get("duration") or 0.0, index)
        for index, cell in enumerate(executed.cells)
        if cell.cell_type == "code"
    ]
    slowest, slowest_index = max(durations)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kernels are our children
    return {
        "notebook": notebook.name,
        "wall_s": round(wall, 1),
        "slowest_cell_s": round(slowest, 1),
        "slowest_cell": slowest_index,
        "peak_rss_mib": round(peak_kib / 1024),
    }


def measure_mnist_loads() -> dict[str, float]:
    """Time the first load (from IDX files, writing the cache) and a cached load."""
    code = (
        "import time, checks\n"
        "t = time.perf_counter()\n"
        "checks.fetch_mnist(verbose=False)\n"
        "print(time.perf_counter() - t)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MNIST_CACHE_DIR": cache}
        first = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        cached_env = {key: value for key, value in env.items() if key != "MNIST_DATA_DIR"}
        cached = subprocess.run(
            [sys.executable, "-c", code], env=cached_env, capture_output=True, text=True, check=True
        )
    return {
        "first_load_s": round(float(first.stdout), 2),
        "cached_load_s": round(float(cached.stdout), 2),
    }


REFERENCE_CODE = """
import time
import checks
from sklearn.linear_model import SGDClassifier
mnist = checks.fetch_mnist(verbose=False)
X, y = mnist.data[:60_000], mnist.target[:60_000] == "5"
times = []
for _ in range(2):
    started = time.perf_counter()
    SGDClassifier(random_state=42).fit(X, y)
    times.append(time.perf_counter() - started)
print(" ".join(map(str, times)))
"""


def measure_reference() -> list[float]:
    """Time the reference workload twice in a fresh process: its two fit times in seconds."""
    completed = subprocess.run(
        [sys.executable, "-c", REFERENCE_CODE], capture_output=True, text=True, check=True
    )
    return [float(value) for value in completed.stdout.split()]


def main() -> int:
    """Run the benchmarks, print a Markdown table, write and compare the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "filters", nargs="*", help="only notebooks whose name contains one of these"
    )
    parser.add_argument(
        "--one", help=argparse.SUPPRESS
    )  # internal: measure one notebook, print JSON
    parser.add_argument(
        "--folder",
        choices=("solutions", "notebooks"),
        default="solutions",
        help="the solutions (default) or the student notebooks",
    )
    parser.add_argument("--json", help=f"write the measurement here (default: {BENCH_LATEST})")
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"also write it as the recorded table, {BENCH_RECORD} (every solution notebook)",
    )
    arguments = parser.parse_args()
    if arguments.one:
        with tempfile.TemporaryDirectory() as scratch:
            notebook = Path(arguments.one)
            print(json.dumps(measure_one(notebook, Path(scratch) / notebook.name)))
        return 0

    if not os.environ.get("MNIST_DATA_DIR"):
        print("Set MNIST_DATA_DIR to the folder of the MNIST IDX files first.", file=sys.stderr)
        return 2
    if arguments.record and (arguments.filters or arguments.folder != "solutions"):
        print(
            "--record measures every solution notebook: no filters, no --folder.", file=sys.stderr
        )
        return 2
    folder = ROOT / arguments.folder
    notebooks = [
        path
        for path in sorted(folder.glob("*.ipynb"))
        if not arguments.filters or any(text in path.name for text in arguments.filters)
    ]
    if not notebooks:
        print(f"No notebook in {folder} matches {arguments.filters}.", file=sys.stderr)
        return 2
    print(
        f"Benchmarking on {os.cpu_count()} cores: MNIST loads, the reference workload, "
        f"then {len(notebooks)} notebook(s) of {arguments.folder}/.",
        flush=True,
    )
    loads = measure_mnist_loads()
    print(
        f"MNIST first load (IDX files, writes the cache): {loads['first_load_s']} s; "
        f"cached: {loads['cached_load_s']} s"
    )
    references = measure_reference()
    print(
        f"reference workload (SGDClassifier on 60,000 images): {_seconds(references)}", flush=True
    )
    rows = []
    for index, notebook in enumerate(notebooks, start=1):
        print(f"  [{index}/{len(notebooks)}] running {notebook.name} ...", flush=True)
        completed = subprocess.run(
            [sys.executable, __file__, "--one", str(notebook)],
            capture_output=True,
            text=True,
            env={**os.environ, "CHECKS_HOME": tempfile.mkdtemp(prefix="bench-home-")},
        )
        if completed.returncode != 0:
            print(completed.stderr[-2000:], file=sys.stderr)
            return 1
        rows.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    after = measure_reference()
    print(f"reference workload again, after the notebooks: {_seconds(after)}")
    references += after
    reference = sorted(references)[len(references) // 2 - 1 : len(references) // 2 + 1]
    measurement = Measurement(
        reference_s=round(sum(reference) / len(reference), 3),
        cores=os.cpu_count() or 1,
        solutions_digest=solutions_digest(folder),
        notebooks=[Timing(**row) for row in rows],
        folder=arguments.folder,
    )
    print_table(measurement)
    recorded = read_measurement(ROOT / BENCH_RECORD)
    if recorded is not None and arguments.folder == "solutions":
        slower = slower_chapters(measurement, recorded)
        print(
            "\nAgainst the recorded table: "
            + ("; ".join(slower) if slower else "no chapter grew by more than 20 %.")
        )
    broken = over_budget(measurement)
    print("\nThe budget (2 idle cores): " + ("; ".join(broken) if broken else "met."))
    write_measurement(Path(arguments.json) if arguments.json else ROOT / BENCH_LATEST, measurement)
    if arguments.record:
        write_measurement(ROOT / BENCH_RECORD, measurement)
        print(f"Recorded in {BENCH_RECORD}: copy the table above into the README.")
    return 0


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f} s" for value in values)


def print_table(measurement: Measurement) -> None:
    """Print a measurement as the README's Markdown table, with the total."""
    print(
        "\n| notebook | wall time (s) | reference workloads | slowest cell (s) | peak RSS (MiB) |"
    )
    print("|---|---:|---:|---:|---:|")
    for timing in measurement.notebooks:
        print(
            f"| {timing.notebook} | {timing.wall_s} | {measurement.relative(timing):.1f} "
            f"| {timing.slowest_cell_s} (cell {timing.slowest_cell}) | {timing.peak_rss_mib} |"
        )
    total = sum(timing.wall_s for timing in measurement.notebooks)
    print(
        f"| all | {total:.1f} | {total / measurement.reference_s:.1f} | | |\n"
        f"(reference workload: {measurement.reference_s:.2f} s on {measurement.cores} cores)"
    )


if __name__ == "__main__":
    sys.exit(main())
