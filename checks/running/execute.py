"""Execute a notebook with papermill in a child process, with its own environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from checks.running.confinement import RunSpace
from checks.running.isolation import Isolation
from checks.running.limits import (
    Limits,
    inside_limits,
    kill_tree,
    limited_command,
    nproc_counts_per_namespace,
)
from checks.running.tree import scratch_folder

LOG_TAIL_BYTES = 64 * 1024
"""How much of the end of papermill's log is read: the error is there, and a run that floods its
standard output (``os.write(1, ...)``) costs the grader no more memory than this."""


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
    limits: Limits | None = None,
    space: RunSpace | None = None,
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

    ``limits`` (instead of ``memory_limit``) holds every process of the run to all its
    per-process and per-namespace limits (:func:`~checks.running.limits.inside_limits`);
    ``space`` is the run's :class:`~checks.running.confinement.RunSpace`: its first process
    joins the run's control groups and takes its uid before anything else starts. Only the
    last :data:`LOG_TAIL_BYTES` of the log are read.
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
    isolated = isolation is not None and isolation.isolated
    if limits is not None:
        if not (isolated and nproc_counts_per_namespace()):
            # RLIMIT_NPROC would count every process of the uid, the grader's other runs too
            limits = replace(limits, processes=None)
        command = inside_limits(limits, timeout).command(command)
    else:
        command = limited_command(command, memory_limit)
    with scratch_folder("checks-run-") as scratch:
        if isolation is not None and isolated:
            if workdir is None:
                raise ValueError("an isolated run needs its work folder")
            command = isolation.wrap(
                command,
                workdir=workdir,
                env=environment,
                **({"tmpfs_size": limits.tmpfs} if limits is not None else {}),
                uid=space.outside.uid if space is not None else None,
            )
        if space is not None:
            command = space.outside.command(command)
        log_path = scratch / "papermill.log"
        with log_path.open("w+b") as log:
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
            text = _tail(log)
    return Execution(notebook, output, returncode, text, timed_out)


def _tail(log: BinaryIO) -> str:
    """The last :data:`LOG_TAIL_BYTES` of an open binary file, as text."""
    end = log.seek(0, os.SEEK_END)
    log.seek(max(0, end - LOG_TAIL_BYTES))
    return log.read(LOG_TAIL_BYTES).decode("utf-8", errors="replace")
