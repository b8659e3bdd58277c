"""A TLS Dask cluster as the instructors' guide starts it: ``dask scheduler``, ``dask worker``s.

Each is a process of its own, with the certificates of ``python -m checks cluster certs``, this
checkout and this folder (``cluster_hostile``) on its ``PYTHONPATH``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

HERE = Path(__file__).resolve().parent


def certificates(folder: Path) -> Path:
    """``python -m checks cluster certs FOLDER``; the folder."""
    from checks.cli import main

    assert main(["cluster", "certs", str(folder)]) == 0
    return folder


def tls_options(folder: Path, role: str) -> list[str]:
    """The stock Dask command line's TLS options for ``role``'s certificate."""
    return [
        *("--tls-ca-file", str(folder / "ca.pem")),
        *("--tls-cert", str(folder / f"{role}.pem")),
        *("--tls-key", str(folder / f"{role}-key.pem")),
    ]


def start_worker(address: str, options: list[str], env: dict, log: Path) -> subprocess.Popen:
    """``dask worker ADDRESS --nthreads 1`` (with its nanny), its output to ``log``."""
    command = [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1"]
    command += ["--no-dashboard", "--memory-limit", "0", *options]
    return subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop the processes one by one (workers first), killing any that do not stop in 20 s."""
    for process in reversed(processes):
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class TlsCluster:
    """A running TLS cluster: its address, its certificates and its processes."""

    address: str
    certs: Path
    env: dict
    work: Path
    processes: list[subprocess.Popen]

    def client(self) -> object:
        """A client with the grader's certificate."""
        import distributed

        from checks.grading.cluster_tls import client_security

        return distributed.Client(self.address, security=client_security(self.certs), timeout=20)


@contextlib.contextmanager
def tls_cluster(work: Path, workers: int = 2) -> Iterator[TlsCluster]:
    """A scheduler and ``workers`` worker processes with the course's certificates."""
    certs = certificates(work / "certs")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
        "CHECKS_HOSTILE_MARK": str(work / "mark"),
    }
    scheduler_file = work / "scheduler.json"
    scheduler = subprocess.Popen(
        [
            *(sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0"),
            *("--no-dashboard", "--scheduler-file", str(scheduler_file)),
            *tls_options(certs, "scheduler"),
        ],
        env=env,
        stdout=(work / "scheduler.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    processes = [scheduler]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tls://")
        for index in range(workers):
            log = work / f"worker-{index}.log"
            processes.append(start_worker(address, tls_options(certs, "worker"), env, log))
        cluster = TlsCluster(address, certs, env, work, processes)
        with cluster.client() as client:
            client.wait_for_workers(workers, timeout=90)
        yield cluster
    finally:
        stop(processes)
