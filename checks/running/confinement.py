"""A run's share of the machine as a whole: its own control groups, disk and uid.

The resource limits of :mod:`checks.running.limits` hold per process (memory, file size, CPU
seconds) or per user namespace (processes). What a run holds *together* (the memory of all its
processes with its files in memory, its disk, its share of the CPU) needs the kernel's help,
which depends on the machine. :func:`confined_space` gives each run what this one allows:

- **control groups** of its own, below the grader's (cgroup v1 ``memory``, ``pids`` and ``cpu``
  as root; or cgroup v2 where the grader's group has those controllers delegated): all its
  processes and files in memory within :attr:`Limits.run_memory` (the OOM killer then picks
  inside the run), its processes within :attr:`Limits.processes`, and an equal share of the CPU
  whatever number of busy processes it starts;
- **a disk of its own**: as root, its work folder is a tmpfs of :attr:`Limits.disk` bytes
  (counted in its memory group too), removed whole afterwards; otherwise a folder on the
  temporary disk, each file capped by ``RLIMIT_FSIZE`` only;
- **an unprivileged uid** (:data:`~checks.running.limits.NOBODY`) when the grader is root, the
  run is isolated and there is no pids control group: ``RLIMIT_NPROC`` does not hold for root
  (:func:`sandbox_uid`). A grader that is not root runs its sandboxes as itself, where
  ``RLIMIT_NPROC``, set inside the run's own user namespace, counts that run only.

:func:`notices` says, one line each, which limit this machine cannot enforce: ``grade`` prints
them at the start and writes them into the gradebook's run record.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from checks.running.limits import NOBODY, Limits, ProcessLimits, nproc_counts_per_namespace
from checks.running.tree import remove_tree

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "pids", "cpu")


@dataclass(frozen=True)
class RunSpace:
    """A run's folder, and what its first process does outside the namespaces (``outside``)."""

    folder: Path
    outside: ProcessLimits = field(default_factory=ProcessLimits)
    groups: tuple[Path, ...] = ()
    disk_mounted: bool = False


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _own_group(controller: str) -> Path | None:
    """The grader's own cgroup v1 folder for ``controller`` (``""`` for v2), if mounted."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if controller in names.split(",") or (controller == "" and names == ""):
            base = CGROUP_ROOT / controller if controller else CGROUP_ROOT
            if controller == "" and not (base / "cgroup.controllers").exists():
                base = CGROUP_ROOT / "unified"
            folder = base / path.lstrip("/")
            return folder if folder.is_dir() else None
    return None


def _v1_parents() -> dict[str, Path]:
    """The grader's own v1 groups where it may create children: as root, memory, pids, cpu."""
    if not _is_root():
        return {}
    parents = {}
    for controller in V1_CONTROLLERS:
        folder = _own_group(controller)
        if folder is not None and os.access(folder, os.W_OK):
            parents[controller] = folder
    return parents


def _v2_parent() -> Path | None:
    """The grader's cgroup v2 group, if it delegates memory, pids and cpu and is writable."""
    folder = _own_group("")
    if folder is None or not os.access(folder, os.W_OK):
        return None
    try:
        delegated = (folder / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    return folder if {"memory", "pids", "cpu"} <= set(delegated) else None


def group_kind() -> str:
    """``"cgroup v1"``, ``"cgroup v2"`` or ``""``: the control groups a run gets here."""
    if len(_v1_parents()) == len(V1_CONTROLLERS):
        return "cgroup v1"
    if _v2_parent() is not None:
        return "cgroup v2"
    return ""


def _write(path: Path, value: object) -> None:
    path.write_text(str(value))


def _make_groups(name: str, limits: Limits) -> list[Path]:
    """Create the run's control groups with its limits; return their folders."""
    made: list[Path] = []
    try:
        parents = _v1_parents()
        if len(parents) == len(V1_CONTROLLERS):
            for controller, parent in parents.items():
                folder = parent / name
                folder.mkdir()
                made.append(folder)
                if controller == "memory" and limits.run_memory:
                    _write(folder / "memory.limit_in_bytes", limits.run_memory)
                    with contextlib.suppress(OSError):  # without swap accounting
                        _write(folder / "memory.memsw.limit_in_bytes", limits.run_memory)
                elif controller == "pids" and limits.processes:
                    _write(folder / "pids.max", limits.processes)
            return made
        parent_v2 = _v2_parent()
        if parent_v2 is not None:
            folder = parent_v2 / name
            folder.mkdir()
            made.append(folder)
            if limits.run_memory:
                _write(folder / "memory.max", limits.run_memory)
                with contextlib.suppress(OSError):
                    _write(folder / "memory.swap.max", 0)
            if limits.processes:
                _write(folder / "pids.max", limits.processes)
        return made
    except OSError:
        _remove_groups(made)
        return []


def out_of_memory(space: RunSpace) -> bool:
    """Whether the kernel's OOM killer killed a process of the run (in its memory group)."""
    for folder in space.groups:
        for name, key in (("memory.oom_control", "oom_kill"), ("memory.events", "oom_kill")):
            try:
                lines = (folder / name).read_text().splitlines()
            except OSError:
                continue
            counts = dict(line.split(None, 1) for line in lines if " " in line)
            if int(counts.get(key, "0")) > 0:
                return True
    return False


def _remove_groups(groups: list[Path] | tuple[Path, ...]) -> None:
    """Kill what is left in the run's groups, then remove them."""
    for folder in reversed(groups):
        for _ in range(50):
            try:
                pids = [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
            except OSError:
                pids = []
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


def _mount_disk(folder: Path, size: int, owner: int | None) -> bool:
    """As root, make ``folder`` a tmpfs of ``size`` bytes (owned by ``owner``); whether it is."""
    if not _is_root():
        return False
    options = f"size={size},mode=0700,nosuid,nodev"
    if owner is not None:
        options += f",uid={owner},gid={owner}"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "checks-run", str(folder)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0


@functools.cache
def can_mount_disks() -> bool:
    """Whether a run here gets a tmpfs of its own as its folder (root, allowed to mount)."""
    if not _is_root():
        return False
    folder = Path(tempfile.mkdtemp(prefix="checks-mount-probe-"))
    try:
        mounted = _mount_disk(folder, 1 << 20, None)
        if mounted:
            _unmount(folder)
        return mounted
    finally:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30, check=False)


def _mount_point(field: str) -> str:
    """A mount point as ``/proc/self/mounts`` writes it (space, tab, newline, backslash octal)."""
    for escaped, character in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n")):
        field = field.replace(escaped, character)
    return field.replace("\\134", "\\")


def unmount_under(folder: Path) -> list[Path]:
    """Detach every mount at or below ``folder``, deepest first: what a killed grader left.

    A run's folder is a tmpfs where the grader is root (:func:`confined_space`); when the
    process that mounted it is killed mid-run, the mount outlives it. Whoever sweeps its
    folder calls this first.

    Parameters
    ----------
    folder : Path
        A folder about to be removed.

    Returns
    -------
    list of Path
        The mount points detached (none where the machine lists no such mount).
    """
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    top = os.path.realpath(folder)
    points = [
        Path(point)
        for point in (
            _mount_point(line.split(" ")[1]) for line in lines.splitlines() if " " in line
        )
        if point == top or point.startswith(top + os.sep)
    ]
    for point in sorted(points, key=lambda path: len(path.parts), reverse=True):
        _unmount(point)
    return points


def _open_to_others(path: Path) -> bool:
    """Whether any user may reach and read ``path`` (each folder above it searchable)."""
    path = path.resolve()
    try:
        if path.stat().st_mode & 0o005 != 0o005:
            return False
        return all(parent.stat().st_mode & 0o001 for parent in path.parents)
    except OSError:
        return False


def sandbox_uid(isolated: bool) -> int | None:
    """The uid an isolated run gets: :data:`~checks.running.limits.NOBODY`, or None (the grader's).

    Only when the grader is root, has no control groups to count the run's processes in, and
    the Python installation and the package are open to any user (else the run could not start
    as another uid): then ``RLIMIT_NPROC``, which root ignores, counts the run's processes.
    """
    if not (isolated and _is_root()) or group_kind():
        return None
    needed = {Path(sys.base_prefix), Path(sys.prefix), Path(__file__).parent.parent}
    return NOBODY if all(_open_to_others(path) for path in needed) else None


@contextlib.contextmanager
def confined_space(
    limits: Limits, *, isolated: bool, prefix: str = "checks-grade-"
) -> Iterator[RunSpace]:
    """A run's folder, its control groups and the uid it runs as; all removed afterwards.

    The folder is a tmpfs of :attr:`Limits.disk` bytes where the grader is root, else a new
    temporary folder; afterwards whatever the run left there is removed, at any depth, and
    every process left in its groups is killed.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    uid = sandbox_uid(isolated)
    mounted = bool(limits.disk) and can_mount_disks() and _mount_disk(folder, limits.disk or 0, uid)
    if uid is not None and not mounted:
        os.chown(folder, uid, uid)
    groups = _make_groups(folder.name, limits)
    procs = tuple(
        str(group / "cgroup.procs") for group in groups if (group / "cgroup.procs").exists()
    )
    outside = ProcessLimits(cgroups=procs, uid=uid, gid=uid)
    try:
        yield RunSpace(folder, outside, tuple(groups), mounted)
    finally:
        _remove_groups(groups)
        if mounted:
            _unmount(folder)
        try:
            remove_tree(folder)
        except OSError as error:  # the grade stands; say what is left, never stop the batch
            print(f"checks: could not remove {folder}: {error}", file=sys.stderr)


def hand_over(folder: Path, uid: int | None) -> None:
    """Give the run's uid everything in ``folder`` (no link followed), so that it may write."""
    if uid is None:
        return
    from checks.running.tree import walk

    for current, subfolders, files in walk(folder):
        for name in [*subfolders, *files]:
            with contextlib.suppress(OSError):
                os.chown(current / name, uid, uid, follow_symlinks=False)
    os.chown(folder, uid, uid)


def notices(limits: Limits, *, isolated: bool, tmpfs_capped: bool = True) -> list[str]:
    """One line for each limit of ``limits`` that this machine cannot enforce for a run.

    Parameters
    ----------
    limits : Limits
        What one run may use.
    isolated : bool
        Whether runs get namespaces of their own.
    tmpfs_capped : bool, default True
        Whether the isolation holds each run's ``/tmp`` and ``/dev/shm`` to
        :attr:`Limits.tmpfs` (:attr:`~checks.running.isolation.Isolation.caps_tmpfs`).

    Returns
    -------
    list of str
        Lines that each start with ``limit not enforced:``; empty where all hold.
    """
    lines = []
    kind = group_kind()
    root = _is_root()
    if limits.processes and not isolated and not kind:
        lines.append(
            "limit not enforced: processes per run (needs namespaces or a pids cgroup: without "
            "them RLIMIT_NPROC would count all of the grader's processes)"
        )
    elif limits.processes and not kind and not nproc_counts_per_namespace():
        lines.append(
            "limit not enforced: processes per run (before Linux 5.14, RLIMIT_NPROC counts every "
            "process of the uid, not the run's alone, and there is no pids cgroup)"
        )
    elif limits.processes and not kind and root and sandbox_uid(isolated) is None:
        lines.append(
            "limit not enforced: processes per run (the grader is root, which RLIMIT_NPROC "
            "ignores, there is no pids cgroup, and Python is not readable by an unprivileged "
            "uid to run as)"
        )
    if limits.run_memory and not kind:
        per_process = f"{limits.memory / 1024**3:g} GiB per process" if limits.memory else "none"
        lines.append(
            "limit not enforced: memory of a run as a whole (no memory cgroup the grader may "
            f"create: run as root with cgroup v1, or delegate cgroup v2); only {per_process}"
        )
    if limits.disk and not can_mount_disks():
        lines.append(
            "limit not enforced: disk of a run as a whole (a tmpfs per run needs root, allowed "
            "to mount); each "
            f"file is capped at {(limits.file_size or 0) // 1024**2} MiB"
        )
    if not kind:
        lines.append(
            "limit not enforced: CPU share of a run (no cpu cgroup); runs are niced by "
            f"{limits.nice} and each process is capped in CPU seconds"
        )
    if not isolated:
        lines.append("limit not enforced: size of /tmp and /dev/shm per run (needs namespaces)")
    elif not tmpfs_capped:
        lines.append(
            "limit not enforced: size of /tmp and /dev/shm per run (this bubblewrap has no "
            "--size, which came in 0.7: they may take up to half the memory each)"
        )
    return lines
