"""A grading worker's temporary files: one folder per worker process, gone even if it is killed.

Everything a worker process writes while grading (the student's files, MNIST, each run's
folder) lives under its own folder, ``TMP/checks-workers/PID-RANDOM/``, which it holds an
exclusive lock on (``flock``) for as long as it lives. It removes the folder when it exits (as a
process, or as a multiprocessing child, which is what a Dask worker is); when
it is killed (``SIGKILL``, out of memory, its node lost) the lock goes with it, and the next
worker process to start on the machine (its nanny restarts one at once) removes every folder
whose lock it can take: what a killed predecessor left.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import tempfile
from multiprocessing.util import Finalize
from pathlib import Path

from checks.running.confinement import unmount_under

LOCK_FILE = ".lock"


def workers_root(base: Path | None = None) -> Path:
    """The folder that holds every grading worker's folder on this machine."""
    return Path(base or tempfile.gettempdir()) / "checks-workers"


def sweep(root: Path) -> list[Path]:
    """Remove the folders under ``root`` no living worker holds; return them.

    Parameters
    ----------
    root : Path
        :func:`workers_root`.

    Returns
    -------
    list of Path
        The folders removed (those of killed workers).
    """
    removed = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            descriptor = os.open(folder / LOCK_FILE, os.O_RDWR)
        except OSError:  # no lock file: a worker killed while making its folder
            unmount_under(folder)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a living worker's
            os.close(descriptor)
            continue
        unmount_under(folder)  # its runs' disks, mounted by the killed worker (as root)
        shutil.rmtree(folder, ignore_errors=True)
        os.close(descriptor)
        removed.append(folder)
    return removed


def claim(base: Path | None = None) -> tuple[Path, list[Path]]:
    """Sweep what killed workers left, then make and lock this process's own folder.

    The folder becomes this process's temporary folder (:data:`tempfile.tempdir`), so every
    temporary file of the grading goes there, and is removed when the process exits.

    Parameters
    ----------
    base : Path, optional
        Where the workers' folders live; by default the system's temporary folder.

    Returns
    -------
    folder : Path
        This process's folder.
    swept : list of Path
        The folders of killed workers that were removed.
    """
    root = workers_root(base)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    swept = sweep(root)
    folder = root / f"{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700)
    descriptor = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)  # held until this process ends, however it ends
    os.set_inheritable(descriptor, False)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    # A Dask worker is a multiprocessing child, which ends by os._exit: atexit does not run
    # there, multiprocessing's own finalizers do.
    Finalize(None, shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True}, exitpriority=0)
    tempfile.tempdir = str(folder)
    return folder, swept
