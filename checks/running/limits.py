"""Limits for notebook runs: what a run may use, how a process is held to it, and clean-up.

:class:`Limits` says what one run may use: seconds per cell and per notebook; per process,
bytes of address space (``RLIMIT_AS``), bytes per file written (``RLIMIT_FSIZE``) and seconds of
CPU (``RLIMIT_CPU``); for the run as a whole, processes and threads (``RLIMIT_NPROC``, set inside
the run's own user namespace, so it counts that run only), memory with its temporary files and
disk (:mod:`checks.running.confinement`), and the size of its private ``/tmp`` and ``/dev/shm``.

``python -m checks.running.limits JSON -- COMMAND ...`` applies a :class:`ProcessLimits` (as
JSON) to itself and then *becomes* ``COMMAND`` (``exec``), so the limits hold for it and for
every process it starts (the kernel, its joblib workers): an allocation past the limit raises
``MemoryError`` in the notebook, a fork past it fails, instead of exhausting the machine. The same
step runs twice for an isolated run: outside the namespaces (join the run's control groups, give
up root for an unprivileged uid) and inside them (the resource limits).

Every process of a run carries a marker in its environment (:data:`MARKER_VARIABLE`);
:func:`kill_marked` ends those still alive afterwards, including kernels, which Jupyter starts in
a session of their own, and background processes a notebook started.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import secrets
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

MARKER_VARIABLE = "CHECKS_GRADING_RUN"
MIB = 1024**2
GIB = 1024**3
NOBODY = 65534
"""The unprivileged uid (and gid) a run gets when the grader is root: ``RLIMIT_NPROC`` does not
hold for root, and a run of its own uid can signal no process of the grader's."""
OOM_SCORE_ADJ = 800
"""How much likelier the kernel's OOM killer is to pick a run's process than the grader's."""


@dataclass(frozen=True)
class Limits:
    """What one run of a notebook may use.

    ``timeout`` None: the chapter's own, a multiple of its solution's measured run time
    (:func:`checks.grading.step.run_timeout`). ``memory``, ``file_size`` and ``cpu_seconds`` are
    per process; ``processes``, ``run_memory`` and ``disk`` are for the run as a whole, and
    ``tmpfs`` for each of its ``/tmp`` and ``/dev/shm`` (in memory). ``nice`` lowers the run's
    CPU priority below the grader's. None: no limit.
    """

    cell_timeout: int = 300
    timeout: int | None = None
    memory: int | None = 4 * GIB
    threads: int = 1
    processes: int | None = 256
    run_memory: int | None = 6 * GIB
    disk: int | None = 2 * GIB
    tmpfs: int = 256 * MIB
    file_size: int | None = 512 * MIB
    cpu_seconds: int | None = None  # default: the run's timeout
    nice: int = 10


@dataclass(frozen=True)
class ProcessLimits:
    """What ``python -m checks.running.limits`` applies to itself before it becomes the command.

    Resource limits (None: unchanged), a ``nice`` increment, an ``oom_score_adj``, the
    ``cgroup.procs`` files of the control groups to join, and the uid and gid to become (only
    root can; None: stay).
    """

    address_space: int | None = None
    processes: int | None = None
    file_size: int | None = None
    cpu_seconds: int | None = None
    nice: int = 0
    oom_score_adj: int | None = None
    cgroups: tuple[str, ...] = field(default_factory=tuple)
    uid: int | None = None
    gid: int | None = None

    def command(self, command: list[str]) -> list[str]:
        """``command`` run under these limits (unchanged if they change nothing)."""
        if self == ProcessLimits():
            return command
        spec = json.dumps({**asdict(self), "cgroups": list(self.cgroups)})
        # By path, isolated, without site-packages: it needs nothing but the standard library,
        # and runs alike in the grader's environment and inside the namespaces.
        return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), spec, "--", *command]


def nproc_counts_per_namespace(release: str | None = None) -> bool:
    """Whether ``RLIMIT_NPROC`` set in a user namespace counts that namespace's processes only.

    Linux counts it per user namespace from 5.14 on; before, it counts every process of the
    uid on the machine (the grader's other runs among them), so it must not be set per run.

    Parameters
    ----------
    release : str, optional
        A kernel release such as ``"6.1.0-18-amd64"``; default: this machine's.

    Returns
    -------
    bool
        True on Linux 5.14 or later.
    """
    found = re.match(r"(\d+)\.(\d+)", release if release is not None else platform.release())
    return found is not None and (int(found[1]), int(found[2])) >= (5, 14)


def new_marker() -> str:
    """A fresh random marker for one run."""
    return secrets.token_hex(8)


def limited_command(command: list[str], memory_bytes: int | None) -> list[str]:
    """``command``, run under a memory limit of ``memory_bytes`` per process (None: no limit)."""
    return ProcessLimits(address_space=memory_bytes).command(command)


def inside_limits(limits: Limits, timeout: float | None) -> ProcessLimits:
    """What every process of a run is held to, set inside its namespaces (or, without, here).

    ``RLIMIT_NPROC`` set inside a user namespace of its own counts that run's processes and
    threads only (for an unprivileged uid). ``RLIMIT_CPU`` defaults to the run's ``timeout``
    times its threads (a process's threads share its CPU seconds).
    """
    cpu = limits.cpu_seconds or (int(timeout) * max(1, limits.threads) + 1 if timeout else None)
    return ProcessLimits(
        address_space=limits.memory,
        processes=limits.processes,
        file_size=limits.file_size,
        cpu_seconds=cpu,
        nice=limits.nice,
        oom_score_adj=OOM_SCORE_ADJ,
    )


def kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (collected first, so none is orphaned unseen)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    _kill(family)


def kill_marked(marker: str) -> int:
    """Kill every process whose environment carries ``marker``; return how many there were."""
    import psutil

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
    import psutil

    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(processes, timeout=10)


def _say(what: str, error: BaseException) -> None:
    print(f"checks.running.limits: {what} not enforced here ({error})", file=sys.stderr)


def _set_resource_limits(spec: dict, resource: object) -> None:
    if resource is None:  # Windows
        _say("resource limits", ImportError("no resource module"))
        return
    for key, name in (
        ("address_space", "RLIMIT_AS"),
        ("processes", "RLIMIT_NPROC"),
        ("file_size", "RLIMIT_FSIZE"),
        ("cpu_seconds", "RLIMIT_CPU"),
    ):
        value = spec.get(key)
        if value is None:
            continue
        try:
            resource.setrlimit(getattr(resource, name), (value, value))  # type: ignore[attr-defined]
        except (AttributeError, ValueError, OSError) as error:  # macOS refusing RLIMIT_AS...
            _say(name, error)


def apply(spec: dict) -> None:
    """Apply a :class:`ProcessLimits` (as a dict) to this process, in the order that works.

    Control groups and ``oom_score_adj`` first (as root), then the uid; the resource limits
    last, so ``RLIMIT_NPROC`` counts for the uid the command runs as. The ``resource`` module
    is loaded first: the new uid may not be allowed to read the Python installation.
    """
    try:
        import resource
    except ImportError:
        resource = None  # type: ignore[assignment]
    for procs in spec.get("cgroups", []):
        try:
            with open(procs, "w") as stream:
                stream.write(str(os.getpid()))
        except OSError as error:
            _say(f"the control group {procs}", error)
    if spec.get("oom_score_adj") is not None:
        try:
            with open("/proc/self/oom_score_adj", "w") as stream:
                stream.write(str(spec["oom_score_adj"]))
        except OSError as error:
            _say("oom_score_adj", error)
    if spec.get("nice"):
        with contextlib.suppress(OSError):
            os.nice(spec["nice"])
    if spec.get("gid") is not None:
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
    if spec.get("uid") is not None:
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    _set_resource_limits(spec, resource)


def main(argv: list[str]) -> None:
    """``JSON -- COMMAND ...``: apply the limits, then replace this process by ``COMMAND``.

    ``JSON`` is a :class:`ProcessLimits`; a bare number is an address-space limit in bytes.
    """
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m checks.running.limits JSON -- COMMAND [ARGUMENT ...]")
    spec = {"address_space": int(argv[0])} if argv[0].isdigit() else json.loads(argv[0])
    apply(spec)
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
