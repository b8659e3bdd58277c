"""Execute a notebook with papermill in a child process, with its own environment variables."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Execution:
    """How one notebook run went."""

    notebook: Path
    output: Path
    returncode: int
    log: str

    @property
    def ok(self) -> bool:
        """Whether every cell ran without raising."""
        return self.returncode == 0

    def error_summary(self) -> str:
        """The last lines of papermill's log, where the error is."""
        lines = [line for line in self.log.strip().splitlines() if line.strip()]
        return "\n".join(lines[-25:])


def run_notebook(
    notebook: Path,
    output: Path,
    *,
    parameters: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    cell_timeout: int = 600,
    progress_bar: bool = False,
) -> Execution:
    """Execute ``notebook`` into ``output`` with papermill, in the notebook's own folder.

    ``env`` is added to this process's environment for the kernel (for example
    ``CHECKS_STRICT=1``); ``parameters`` overrides the notebook's ``parameters`` cell.
    """
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(notebook),
        str(output),
        "--cwd",
        str(notebook.parent),
        "--kernel",
        "python3",
        "--execution-timeout",
        str(cell_timeout),
        "--log-level",
        "WARNING",
        "--progress-bar" if progress_bar else "--no-progress-bar",
    ]
    with tempfile.TemporaryDirectory() as scratch:
        if parameters:
            parameter_file = Path(scratch) / "parameters.yaml"
            parameter_file.write_text(yaml.safe_dump(parameters), encoding="utf-8")
            command += ["--parameters_file", str(parameter_file)]
        completed = subprocess.run(
            command,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=None if progress_bar else subprocess.STDOUT,
            text=True,
            check=False,
        )
    return Execution(notebook, output, completed.returncode, completed.stdout or "")
