"""Limits for notebook runs: what a run may use, a memory ceiling, and killing what a run left.

:class:`Limits` says what one run may use: seconds per cell and per notebook, bytes of memory
per process, and threads.

``python -m checks.running.limits BYTES -- COMMAND ...`` sets the address-space limit
(``RLIMIT_AS``) to ``BYTES`` and then *becomes* ``COMMAND`` (``exec``), so the limit holds for it
and for every process it starts (the kernel, its joblib workers): an allocation past the limit
raises ``MemoryError`` in the notebook instead of exhausting the machine. The limit is per
process.

Every process of a run carries a marker in its environment (:data:`MARKER_VARIABLE`);
:func:`kill_marked` ends those still alive afterwards, including kernels, which Jupyter starts in
a session of their own, and background processes a notebook started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from dataclasses import dataclass

import psutil

MARKER_VARIABLE = "CHECKS_GRADING_RUN"
GIB = 1024**3


@dataclass(frozen=True)
class Limits:
    """What one run of a notebook may use."""

    cell_timeout: int = 300
    timeout: int = 1800
    memory: int | None = 4 * GIB
    threads: int = 1


def new_marker() -> str:
    """A fresh random marker for one run."""
    return secrets.token_hex(8)


def limited_command(command: list[str], memory_bytes: int | None) -> list[str]:
    """``command``, run under a memory limit of ``memory_bytes`` per process (None: no limit)."""
    if memory_bytes is None:
        return command
    return [sys.executable, "-m", "checks.running.limits", str(memory_bytes), "--", *command]


def kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (collected first, so none is orphaned unseen)."""
    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    _kill(family)


def kill_marked(marker: str) -> int:
    """Kill every process whose environment carries ``marker``; return how many there were."""
    marked = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.environ().get(MARKER_VARIABLE) == marker:
                marked.append(process)
        except (psutil.Error, OSError):
            continue  # gone, a zombie, or another user's
    _kill(marked)
    return len(marked)


def _kill(processes: list[psutil.Process]) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(processes, timeout=10)


def _set_memory_limit(memory_bytes: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ImportError, ValueError, OSError) as error:  # Windows, or macOS refusing RLIMIT_AS
        print(f"checks.running.limits: memory limit not enforced here ({error})", file=sys.stderr)


def main(argv: list[str]) -> None:
    """``BYTES -- COMMAND ...``: limit memory, then replace this process by ``COMMAND``."""
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        sys.exit("usage: python -m checks.running.limits BYTES -- COMMAND [ARGUMENT ...]")
    _set_memory_limit(int(argv[0]))
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
