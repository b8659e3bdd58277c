"""Benchmark the course: MNIST load times; per solution notebook, time, slowest cell, peak RSS.

Not a test: it prints figures for the README and the release notes. Run from the repository root:

    .venv/bin/python benchmarks/run_notebooks.py            # every solution notebook
    .venv/bin/python benchmarks/run_notebooks.py 01_mnist   # those whose name contains "01_mnist"

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


def main() -> int:
    """Run the benchmarks and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "filters", nargs="*", help="only notebooks whose name contains one of these"
    )
    parser.add_argument(
        "--one", help=argparse.SUPPRESS
    )  # internal: measure one notebook, print JSON
    parser.add_argument("--json", help="also write the figures to this JSON file")
    arguments = parser.parse_args()
    if arguments.one:
        with tempfile.TemporaryDirectory() as scratch:
            notebook = Path(arguments.one)
            print(json.dumps(measure_one(notebook, Path(scratch) / notebook.name)))
        return 0

    if not os.environ.get("MNIST_DATA_DIR"):
        print("Set MNIST_DATA_DIR to the folder of the MNIST IDX files first.", file=sys.stderr)
        return 2
    notebooks = [
        path
        for path in sorted((ROOT / "solutions").glob("*.ipynb"))
        if not arguments.filters or any(text in path.name for text in arguments.filters)
    ]
    print(
        f"Benchmarking on {os.cpu_count()} cores: MNIST loads, then {len(notebooks)} notebook(s).",
        flush=True,
    )
    loads = measure_mnist_loads()
    print(
        f"MNIST first load (IDX files, writes the cache): {loads['first_load_s']} s; "
        f"cached: {loads['cached_load_s']} s"
    )
    rows = []
    for notebook in notebooks:
        print(f"  running {notebook.name} ...", flush=True)
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
    print("\n| notebook | wall time (s) | slowest cell (s) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['notebook']} | {row['wall_s']} "
            f"| {row['slowest_cell_s']} (cell {row['slowest_cell']}) | {row['peak_rss_mib']} |"
        )
    if arguments.json:
        Path(arguments.json).write_text(json.dumps({"mnist": loads, "notebooks": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
