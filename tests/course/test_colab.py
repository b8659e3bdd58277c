"""Colab, emulated: Colab-like preinstalls, the install cell, then every solution in strict mode.

Slow (a fresh virtual environment, pip, about ten minutes of notebooks) and needs PyPI, so it is
left out of the default run: ``pytest -m colab tests/course/test_colab.py``. The install cell is the
solutions' own, run as Colab runs it (``google.colab`` imported, NumPy already loaded), with the
repository URL pointing at this checkout's committed HEAD: what a fresh clone gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import nbformat
import pytest
from conftest import ROOT, SOLUTIONS

from checks.authoring.compatibility.runs import kernel_environment
from checks.authoring.install_cell import with_repository
from checks.authoring.release import pinned_scikit_learn
from checks.checker import STRICT_VARIABLE
from checks.running.execute import run_notebook

pytestmark = pytest.mark.colab

# What Colab had preinstalled when the issue was measured (and the kernel's tools). Colab's pip
# is recent: the venv's bundled pip 23.2 refuses the cell's ``name @ git+file:///...`` requirement.
COLAB_PIP = "pip==24.1.2"
COLAB = {"scikit-learn": "1.6.1", "numpy": "2.0.2", "scipy": "1.14.1", "matplotlib": "3.10.0"}
KERNEL_TOOLS = ["ipykernel", "papermill"]
LIBRARIES = ("scikit-learn", "numpy", "scipy", "matplotlib")

# Runs the install cell as Colab's kernel would, then reports what the same process imports.
PROBE = """
import json, sys, types
import numpy  # Colab's kernel has NumPy loaded before any cell runs
sys.modules["google.colab"] = types.ModuleType("google.colab")
exec(compile(sys.argv[1], "install cell", "exec"))
import numpy, scipy, sklearn, matplotlib
from importlib import metadata
print(json.dumps({
    "imported": {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
                 "scipy": scipy.__version__, "matplotlib": matplotlib.__version__},
    "installed": {name: metadata.version(name) for name in sys.argv[2:]},
}))
"""


def colab_install_cell() -> str:
    """The first solution's install cell, installing from this checkout instead of GitHub."""
    notebook = with_repository(
        nbformat.read(SOLUTIONS[0], as_version=4), f"file://{ROOT}", pinned_scikit_learn(ROOT)
    )
    cell = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "google.colab" in cell.source
    return cell.source


def pip_install(python, *requirements: str) -> None:
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )


def test_every_solution_passes_in_strict_mode_in_emulated_colab(tmp_path):
    started = time.perf_counter()
    venv = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip_install(python, COLAB_PIP)
    pip_install(python, *(f"{name}=={version}" for name, version in COLAB.items()), *KERNEL_TOOLS)

    probe = subprocess.run(
        [str(python), "-c", PROBE, colab_install_cell(), *LIBRARIES],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    pin = pinned_scikit_learn(ROOT)
    expected = {**COLAB, "scikit-learn": pin}
    assert found["installed"] == expected, "the cell changed more than scikit-learn"
    assert found["imported"] == expected, "the cell's scikit-learn needs a restart"
    print(f"\nColab emulation: installed in {time.perf_counter() - started:.0f} s: {expected}")

    for solution in SOLUTIONS:
        began = time.perf_counter()
        workdir = tmp_path / solution.stem
        workdir.mkdir()
        env = {**kernel_environment(workdir, solution.name), STRICT_VARIABLE: "1"}
        execution = run_notebook(
            solution, workdir / solution.name, env=env, inherit_env=False, python=python
        )
        assert execution.ok, f"{solution.name}:\n{execution.error_summary()}"
        print(f"  {solution.name}: ok in {time.perf_counter() - began:.0f} s")
    print(f"Colab emulation: {time.perf_counter() - started:.0f} s in all")
