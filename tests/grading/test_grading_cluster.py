"""Grading through a real TLS Dask cluster gives the gradebook grading here gives, a worker killed.

A cluster as the instructors' guide starts it (``dask scheduler`` and two ``dask worker``
processes, each with its nanny, all with the course's certificates) grades a small folder: a
correct chapter-1 notebook in a student folder, a blank one and a file that is not a notebook.
While the correct one runs, its worker process is killed: the grader submits it once more,
and the gradebook still has one row per submission, the same as grading locally (the
``seconds`` column aside). Both grade under a variant only, so the solution's hashed answers
under the variant travel to the workers too.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import threading
import time

import pytest
from cluster_processes import tls_cluster
from conftest import ROOT, grade

from checks.catalogue import flags
from checks.grading import Limits, grade_folder
from checks.running.limits import GIB

distributed = pytest.importorskip("distributed")

CHAPTER = "01_mnist_binary"
SOLUTION = ROOT / "solutions" / f"{CHAPTER}.ipynb"
STUDENT = ROOT / "notebooks" / f"{CHAPTER}.ipynb"
LIMITS = Limits(cell_timeout=120, timeout=300, memory=3 * GIB)
# One run per submission, under a variant: the solution's hashed answers travel to the workers.
VARIANT = {"target_digit": "3"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster") / "submissions"
    (folder / "alice").mkdir(parents=True)
    shutil.copy(SOLUTION, folder / "alice" / f"{CHAPTER}.ipynb")
    (folder / "alice" / "notes.txt").write_text("the whole student folder is sent")
    shutil.copy(STUDENT, folder / f"bob_{CHAPTER}.ipynb")
    (folder / "carl.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    return folder


def rows_without_seconds(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as stream:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(stream)]


def kill_the_worker_running(client, key_suffix: str, after: float) -> list[str]:
    """Wait until a task whose key ends with ``key_suffix`` runs, then kill its worker process."""
    killed: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not killed:
        for address, keys in client.processing().items():
            if any(str(key).endswith(key_suffix) for key in keys):
                time.sleep(after)  # well into the run: kernel started, MNIST loading
                pid = client.run(os.getpid, workers=[address])[address]
                os.kill(pid, signal.SIGKILL)
                killed.append(address)
                break
        time.sleep(0.2)
    return killed


@pytest.mark.slow  # grades real notebooks: each run executes one
def test_a_cluster_with_a_worker_killed_grades_as_locally(folder, tmp_path):
    local = tmp_path / "local" / "gradebook.csv"
    common = {"variant": VARIANT, "variant_only": True, "cache_dir": tmp_path / "cache"}
    grade(folder, local.parent, limits=LIMITS, **common)

    remote = tmp_path / "remote" / "gradebook.csv"
    messages: list[str] = []
    with tls_cluster(tmp_path / "cluster") as cluster, cluster.client() as client:
        grading = threading.Thread(
            target=grade_folder,
            args=(folder,),
            kwargs={
                "out": remote,
                "scheduler": cluster.address,
                "cluster_certs": cluster.certs,
                "limits": LIMITS,
                "report": messages.append,
                "progress_bar": False,
                **common,
            },
        )
        grading.start()
        # alice's notebook is the first runnable submission: its task key ends in "-0".
        killed = kill_the_worker_running(client, "-0", after=8.0)
        grading.join(timeout=600)
        assert not grading.is_alive()
    assert killed, "no worker was running alice's notebook"
    assert any("on the Dask cluster" in message for message in messages)
    rows = rows_without_seconds(remote)
    assert rows == rows_without_seconds(local)
    assert sorted(row["student"] for row in rows) == ["alice", f"bob_{CHAPTER}", "carl"]
    alice = next(row for row in rows if row["student"] == "alice")
    chapter = [flag for flag in flags().values() if flag.chapter == 1]
    assert (alice["status"], alice["variant_status"]) == ("ok", "judged under the variant only")
    assert alice["total"] == str(sum(flag.points for flag in chapter))
    assert {row["student"]: row["status"] for row in rows}["carl"] == "not a notebook"


def test_an_unreachable_scheduler_is_a_clear_error(folder, tmp_path):
    from checks.grading import GradingInputError

    with pytest.raises(GradingInputError, match="cannot reach the Dask scheduler"):
        grade(folder, tmp_path, scheduler="tcp://127.0.0.1:9", insecure_cluster=True)


def test_a_worker_whose_files_differ_grades_nothing(monkeypatch, tmp_path):
    from checks.grading import cluster
    from checks.grading.cluster import Packed, grade_task
    from checks.grading.result_schema import grade_from_json
    from checks.grading.settings import Settings
    from checks.grading.submissions import Submission

    submission = Submission("zoe", tmp_path / "z.ipynb", None, chapter=1)
    settings = Settings(LIMITS, "none", verified="git commit aaaaaaa")
    monkeypatch.setattr(cluster, "_worker_setup", lambda isolation: "checks/judging.py differs")
    text = grade_task(Packed(submission, {"z.ipynb": b"{}"}), settings)
    assert isinstance(text, str)  # plain JSON text, read back only through the schema
    grade = grade_from_json(text, submission)
    assert grade.status_text == "refused: worker files differ: checks/judging.py differs"
    assert grade.submission == submission and grade.total == 0
