"""A cluster only the instructor's machines can join, and a grader that trusts nothing it returns.

A real TLS cluster, as the instructors' guide starts it: ``dask scheduler`` and two ``dask
worker`` processes with the certificates of ``python -m checks cluster certs``. A client or a
worker without a certificate the course's authority signed cannot join; a worker that returns a
crafted pickle, a dict or JSON of the wrong shape, or that dies every time it runs a
submission, costs that submission its row (one line) and nothing more: the grader runs no code
of it, and the other submissions keep their grades. These tests run no notebook: the workers run
``tests/grading/cluster_hostile.py`` in place of ``grade_task``.
"""

from __future__ import annotations

import json
import ssl
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_processes import TlsCluster, certificates, start_worker, stop, tls_options
from cluster_processes import tls_cluster as start_tls_cluster

from checks.grading.settings import GradingInputError, Settings
from checks.grading.submissions import Submission

distributed = pytest.importorskip("distributed")
pytest.importorskip("cryptography")


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory) -> Iterator[TlsCluster]:
    """``dask scheduler`` and two ``dask worker`` processes with the course's certificates."""
    with start_tls_cluster(tmp_path_factory.mktemp("tls-cluster")) as cluster:
        yield cluster


def test_certs_are_pem_signed_by_the_ca_with_private_keys(tmp_path):
    folder = certificates(tmp_path / "certs")
    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted(
        ["ca.pem", "ca-key.pem"]
        + [f"{r}{s}" for r in ("scheduler", "worker", "client") for s in (".pem", "-key.pem")]
    )
    for path in folder.iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o600 if path.name.endswith("-key.pem") else 0o644), path
        assert path.read_text().startswith("-----BEGIN ")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for role in ("scheduler", "worker", "client"):  # each loads as a key pair the CA verifies
        context = ssl.create_default_context(cafile=folder / "ca.pem")
        context.load_cert_chain(folder / f"{role}.pem", folder / f"{role}-key.pem")
    from checks.cli import main

    assert main(["cluster", "certs", str(folder)]) == 2  # never overwritten


def test_a_plain_tcp_scheduler_is_refused_unless_insecure(tmp_path):
    from checks.grading.cluster import connect

    with pytest.raises(
        GradingInputError, match=r"refusing tcp://127\.0\.0\.1:9.*--insecure-cluster"
    ):
        connect("tcp://127.0.0.1:9")
    with pytest.raises(GradingInputError, match=r"refusing 127\.0\.0\.1:9"):
        connect("127.0.0.1:9")
    with pytest.raises(GradingInputError, match="needs the grader's certificate"):
        connect("tls://127.0.0.1:9")


def test_an_insecure_cluster_is_warned_of_in_the_run_record(tmp_path):
    from checks.grading.run_record import session_record, write_run_record

    path = write_run_record(tmp_path / "gradebook.csv", session_record("tcp://h:1", ["careful"]))
    assert path.name == "gradebook-run.json"
    record = json.loads(path.read_text())
    assert (record["runs"], record["transport"], record["warnings"]) == (
        "tcp://h:1",
        "tcp",
        ["careful"],
    )


def test_a_client_without_a_certificate_cannot_connect(tls_cluster, tmp_path):
    from distributed.security import Security

    started = time.monotonic()
    with pytest.raises((OSError, TimeoutError, TypeError)):  # TypeError: Dask wants a context
        distributed.Client(tls_cluster.address, timeout=5)  # no certificate at all
    stranger = certificates(tmp_path / "stranger")  # certified, by another authority
    security = Security(
        tls_ca_file=str(stranger / "ca.pem"),
        tls_client_cert=str(stranger / "client.pem"),
        tls_client_key=str(stranger / "client-key.pem"),
        require_encryption=True,
    )
    with pytest.raises((OSError, TimeoutError)):
        distributed.Client(tls_cluster.address, security=security, timeout=5)
    plain = tls_cluster.address.replace("tls://", "tcp://")
    with pytest.raises((OSError, TimeoutError)):
        distributed.Client(plain, timeout=5)
    assert time.monotonic() - started < 60


def test_a_worker_without_a_certificate_cannot_join(tls_cluster, tmp_path):
    stranger = certificates(tmp_path / "stranger")
    workers = [
        start_worker(tls_cluster.address, [], tls_cluster.env, tmp_path / "plain.log"),
        start_worker(
            tls_cluster.address,
            tls_options(stranger, "worker"),
            tls_cluster.env,
            tmp_path / "other.log",
        ),
    ]
    try:
        time.sleep(15)
        with tls_cluster.client() as client:
            assert len(client.scheduler_info()["workers"]) == 2  # the course's two, no more
    finally:
        stop(workers)


def submissions(tmp_path: Path, students: list[str]) -> list[Submission]:
    found = []
    for student in students:
        path = tmp_path / f"{student}_01_mnist_binary.ipynb"
        path.write_text('{"cells": []}')
        found.append(Submission(student, path, None, chapter=1))
    return found


def grade_hostile(tls_cluster, tmp_path, monkeypatch, students: list[str]) -> dict[str, object]:
    import cluster_hostile

    from checks.grading import cluster

    monkeypatch.setattr(cluster, "grade_task", cluster_hostile.hostile)
    with cluster.cluster_client(tls_cluster.address, tls_cluster.certs) as client:
        rows = list(cluster.grade_on_cluster(submissions(tmp_path, students), Settings(), client))
    assert sorted(row.submission.student for row in rows) == sorted(students)  # one row each
    return {row.submission.student: row for row in rows}


def test_a_crafted_pickle_or_a_wrong_shape_runs_nothing_in_the_grader(
    tls_cluster, tmp_path, monkeypatch
):
    mark = tls_cluster.work / "mark"
    mark.unlink(missing_ok=True)
    started = time.monotonic()
    rows = grade_hostile(
        tls_cluster, tmp_path, monkeypatch, ["pickle", "dict", "shape", "chapter", "honest"]
    )
    assert not mark.exists(), "the crafted pickle ran a command"
    assert rows["honest"].status_text == "ok"
    refused = {name: rows[name].status_text for name in ("pickle", "dict", "shape", "chapter")}
    assert refused["pickle"].startswith("grader error: the worker's answer was refused")
    assert "refused to unpickle posix.system" in refused["pickle"]
    assert refused["dict"] == (
        "grader error: the worker's result is not a grade: "
        "not JSON text of at most 262144 characters"
    )
    assert "its keys are not the schema's" in refused["shape"]
    assert "not a flag of chapter 1" in refused["chapter"]
    for text in refused.values():
        assert "\n" not in text and len(text) <= 200
    assert all(rows[name].total == 0 for name in refused)
    assert time.monotonic() - started < 60


def test_a_submission_that_kills_its_workers_costs_the_others_nothing(
    tls_cluster, tmp_path, monkeypatch
):
    rows = grade_hostile(
        tls_cluster, tmp_path, monkeypatch, ["killer", "alice", "bob", "carol", "dave"]
    )
    assert rows["killer"].status_text == "grader error: its runs killed 2 workers (KilledWorker)"
    assert {rows[name].status_text for name in ("alice", "bob", "carol", "dave")} == {"ok"}
    with tls_cluster.client() as client:  # the nannies brought the workers back
        client.wait_for_workers(2, timeout=90)


def test_grading_on_a_plain_tcp_cluster_stops_before_anything_is_written(tmp_path):
    from conftest import grade

    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "a.ipynb").write_text("{}")
    started = time.monotonic()
    with pytest.raises(GradingInputError, match="refusing tcp://"):
        grade(tmp_path / "submissions", tmp_path / "out", scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - started < 5
    assert not (tmp_path / "out").exists()  # no gradebook, no run record


def test_an_insecure_cluster_leaves_its_warning_in_the_run_record(tmp_path):
    from conftest import grade

    from checks.grading.cluster_tls import INSECURE_WARNING

    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "a.ipynb").write_text("{}")
    with pytest.raises(GradingInputError, match="cannot reach the Dask scheduler"):
        grade(
            tmp_path / "submissions",
            tmp_path / "out",
            scheduler="tcp://127.0.0.1:9",
            insecure_cluster=True,
        )
    record = json.loads((tmp_path / "out" / "gradebook-run.json").read_text())
    assert record["warnings"] == [INSECURE_WARNING]
    assert record["transport"] == "tcp"


def test_a_worker_stopped_removes_its_temporary_folder(tmp_path):
    import cluster_hostile

    with start_tls_cluster(tmp_path, workers=1) as cluster, cluster.client() as client:
        folder = Path(client.submit(cluster_hostile.claim_scratch, pure=False).result())
        assert folder.is_dir() and folder.parent.name == "checks-workers"
    assert not folder.exists()  # the worker was stopped (SIGTERM), not killed: it cleaned up
