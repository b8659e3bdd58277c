"""A grading worker's temporary files go, even when it is killed: the next worker sweeps them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import ROOT

from checks.grading.worker_scratch import claim, sweep, workers_root

# A worker process: claims its folder, fills it (as a run would), and is killed.
KILLED = """
import os, signal, sys
from pathlib import Path
from checks.grading.worker_scratch import claim
folder, _ = claim(Path(sys.argv[1]))
import tempfile
run = Path(tempfile.mkdtemp(prefix="checks-grade-"))
(run / "mnist.bin").write_bytes(b"x" * 5_000_000)
print(folder, run, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_workers_files_are_swept_by_the_next_and_a_living_ones_are_kept(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL
    folder, run = killed.stdout.split()
    assert run.startswith(folder)  # every temporary file of the worker is in its folder
    assert os.path.getsize(os.path.join(run, "mnist.bin")) == 5_000_000
    before = tempfile.tempdir
    try:
        mine, swept = claim(tmp_path)
        assert [str(path) for path in swept] == [folder]
        assert not os.path.exists(folder)
        assert tempfile.gettempdir() == str(mine)
        assert sweep(workers_root(tmp_path)) == []  # this living process's folder is kept
        assert mine.is_dir()
    finally:
        tempfile.tempdir = before


def test_a_killed_workers_mounted_run_disk_is_unmounted_when_swept(tmp_path):
    """As root a run's folder is a tmpfs; a worker killed mid-run leaves it mounted."""
    import pytest

    from checks.running.confinement import can_mount_disks

    if not can_mount_disks():
        pytest.skip("only a grader that may mount (root) gives its runs a disk of their own")
    root = workers_root(tmp_path)
    dead = root / "12345-deadbeef"
    run = dead / "checks-grade-x y"  # a space, as /proc/self/mounts escapes it
    run.mkdir(parents=True)
    (dead / ".lock").touch()  # its lock, held by no one: the worker was killed
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "checks-run", str(run)], check=True)
    try:
        assert sweep(root) == [dead]
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8")
        assert str(dead).replace(" ", "\\040") not in mounts
        assert not dead.exists()
    finally:
        subprocess.run(["umount", "-l", str(run)], capture_output=True, check=False)
