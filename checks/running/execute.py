"""Execute a notebook with papermill in a child process, with its own environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from checks.running.isolation import Isolation
from checks.running.limits import kill_tree, limited_command


@dataclass(frozen=True)
class Execution:
    """How one notebook run went."""

    notebook: Path
    output: Path
    returncode: int
    log: str
    timed_out: bool = False

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
    inherit_env: bool = True,
    cell_timeout: int = 600,
    timeout: float | None = None,
    memory_limit: int | None = None,
    progress_bar: bool = False,
    isolation: Isolation | None = None,
    workdir: Path | None = None,
    python: Path | None = None,
) -> Execution:
    """Execute ``notebook`` into ``output`` with papermill; the kernel runs in its folder.

    ``env`` is added to this process's environment for the kernel (for example
    ``CHECKS_STRICT=1``), or is the whole environment when ``inherit_env`` is false;
    ``parameters`` overrides the notebook's ``parameters`` cell. A cell running longer than
    ``cell_timeout`` seconds is interrupted (papermill); after ``timeout`` seconds in all, papermill
    and everything it started are killed. ``memory_limit`` caps each process's address space.

    With an ``isolation`` that isolates, papermill and its kernel run in namespaces of their own
    (:mod:`checks.running.isolation`) where only ``workdir`` (which must hold the notebook and
    ``output``) is writable; ``env`` is then the whole environment. ``python`` is the
    interpreter that runs papermill and the kernel (default: this one); another environment's
    must have ``checks``, papermill and ipykernel installed.
    """
    command = [
        str(python) if python else sys.executable,
        "-m",
        "checks.running.notebook_runner",
        str(notebook.resolve()),
        str(output.resolve()),
        "--kernel-cwd",
        str(notebook.resolve().parent),
        "--parameters-json",
        json.dumps(parameters or {}),
        "--cell-timeout",
        str(cell_timeout),
    ]
    if progress_bar:
        command.append("--progress-bar")
    environment = {**os.environ, **(env or {})} if inherit_env else dict(env or {})
    command = limited_command(command, memory_limit)
    with tempfile.TemporaryDirectory(prefix="checks-run-") as scratch:
        if isolation is not None and isolation.isolated:
            if workdir is None:
                raise ValueError("an isolated run needs its work folder")
            command = isolation.wrap(command, workdir=workdir, env=environment)
        log_path = Path(scratch) / "papermill.log"
        with log_path.open("w+", encoding="utf-8", errors="replace") as log:
            # A file, not a pipe: a process the notebook left behind cannot block the read.
            process = subprocess.Popen(
                command,
                env=environment,
                stdout=log,
                stderr=None if progress_bar else subprocess.STDOUT,
                cwd=scratch,  # papermill's folder: not the notebook's, which it may delete
                start_new_session=True,
            )
            timed_out = False
            try:
                returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                kill_tree(process.pid)
                returncode = process.wait()
            log.seek(0)
            text = log.read()
    return Execution(notebook, output, returncode, text, timed_out)
