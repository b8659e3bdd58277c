"""Shared fixtures. Tests never touch the network and never write to the user's real folders."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"

# Set before any kernel starts, so notebooks executed by nbval and papermill inherit them too.
_SCRATCH = Path(tempfile.mkdtemp(prefix="checks-tests-"))
os.environ["CHECKS_HOME"] = str(_SCRATCH / "home")
os.environ["MNIST_CACHE_DIR"] = str(_SCRATCH / "mnist-cache")
os.environ.setdefault("MPLBACKEND", "Agg")
if not os.environ.get("MNIST_DATA_DIR") and SHARED_MNIST.is_dir():
    os.environ["MNIST_DATA_DIR"] = str(SHARED_MNIST)
os.environ.pop("CHECKS_STRICT", None)
os.environ.pop("CHECKS_RECORD", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The original MNIST IDX files (../shared/data/mnist or $MNIST_DATA_DIR)."""
    folder = Path(os.environ.get("MNIST_DATA_DIR", SHARED_MNIST))
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"the MNIST IDX files are needed in {folder} (set MNIST_DATA_DIR)")
    return folder


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh progress folder and MNIST cache for every test."""
    home = tmp_path / "checks-home"
    monkeypatch.setenv("CHECKS_HOME", str(home))
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "mnist-cache"))
    monkeypatch.delenv("CHECKS_STRICT", raising=False)
    monkeypatch.delenv("CHECKS_RECORD", raising=False)
    return home


class NetworkBlocked(OSError):
    """A test tried to reach the network."""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to open a network connection from this process fail at once."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkBlocked("tests must not use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
