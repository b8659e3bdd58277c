"""Shared fixtures. Tests never touch the network and never write to the user's real folders."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from checks.authoring.solution_runs import one_answer_per_flag
from checks.catalogue import flags, get_flag
from checks.checker import STRICT_VARIABLE
from checks.recording import (
    MISTAKES_FILE,
    RECORD_FILE,
    RecordedAnswer,
    RecordedMistake,
    read_mistakes,
    read_records,
    recording_env,
)
from checks.running.execute import Execution, run_notebook

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
# Real digits by people (phone photos, canvas drawings): a private test fixture, never copied here.
REAL_DIGITS = ROOT.parent / "shared" / "data" / "real-digits"
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
BUILD = ROOT / "_build"

# Set before any kernel starts, so notebooks executed by nbval and papermill inherit them too.
_SCRATCH = Path(tempfile.mkdtemp(prefix="checks-tests-"))
os.environ["CHECKS_HOME"] = str(_SCRATCH / "home")
os.environ["MNIST_CACHE_DIR"] = str(_SCRATCH / "mnist-cache")
# The grader's secret and caches of the tests, never the user's.
os.environ["XDG_CONFIG_HOME"] = str(_SCRATCH / "config")
os.environ["XDG_CACHE_HOME"] = str(_SCRATCH / "cache")
if not os.environ.get("MNIST_DATA_DIR") and SHARED_MNIST.is_dir():
    os.environ["MNIST_DATA_DIR"] = str(SHARED_MNIST)
os.environ.pop("CHECKS_STRICT", None)
os.environ.pop("CHECKS_RECORD", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _book_build is not None and _book_build.poll() is None:  # a run stopped early (-x)
        os.killpg(_book_build.pid, signal.SIGTERM)
        _book_build.wait()
    shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The original MNIST IDX files (../shared/data/mnist or $MNIST_DATA_DIR)."""
    folder = Path(os.environ.get("MNIST_DATA_DIR", SHARED_MNIST))
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"the MNIST IDX files are needed in {folder} (set MNIST_DATA_DIR)")
    return folder


@pytest.fixture(scope="session")
def real_digits() -> list[tuple[Path, int, str]]:
    """The real-digit development set: (file, label, kind) per image, from its labels.csv.

    Skipped where ../shared/data/real-digits is absent, except in CI (CI=true), which has it:
    there a missing set fails the test.
    """
    labels = REAL_DIGITS / "labels.csv"
    if not labels.is_file():
        message = f"the real-digit set is needed in {REAL_DIGITS} (labels.csv, the images)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with labels.open(newline="", encoding="utf-8") as opened:
        rows = list(csv.DictReader(opened))
    return [(REAL_DIGITS / row["file"], int(row["label"]), row["kind"]) for row in rows]


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


@pytest.fixture(scope="session")
def executed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Execution], list[RecordedAnswer], list[RecordedMistake]]:
    """Every solution run once, in strict mode: the runs, the answers, the declared mistakes."""
    runs, records, mistakes = {}, [], []
    for notebook in SOLUTIONS:
        workdir = tmp_path_factory.mktemp(notebook.stem)
        env = {STRICT_VARIABLE: "1", **recording_env(workdir, notebook.name)}
        runs[notebook.name] = run_notebook(notebook, workdir / notebook.name, env=env)
        records += read_records(workdir / RECORD_FILE)
        mistakes += read_mistakes(workdir / MISTAKES_FILE)
    return runs, records, mistakes


@pytest.fixture(scope="session")
def answers(executed) -> dict[str, RecordedAnswer]:
    return one_answer_per_flag(executed[1], flags())


# Answers with fewer significant digits than this (3, 42, 0.5, 0.25...) occur everywhere in any
# text, so grep cannot tell; their full canonical form (0.2500) is still searched for.
SEARCHABLE_DIGITS = 3


def significant_digits(form: str) -> int:
    """The significant digits of a number as written: ``0.25`` has 2, ``0.2500`` 4, ``1,234`` 4."""
    digits = "".join(character for character in form if character.isdigit())
    return len(digits.lstrip("0"))


def plaintext_forms(flag_id: str, canonical_text: str) -> set[str]:
    kind = get_flag(flag_id).kind
    if kind == "score":  # predictions, judged by their score: not a secret
        return set()
    if kind == "integer":
        return {canonical_text, f"{int(canonical_text):,}"}
    if kind == "float":
        return {canonical_text, canonical_text.rstrip("0").rstrip(".")}
    if kind == "array":
        return {", ".join(canonical_text.split(":")[1].split(","))}
    return {canonical_text}


def answer_leaks(answers: dict[str, RecordedAnswer], texts: dict[str, str]) -> list[str]:
    """Every place where an answer long enough to search for appears as a whole number or word."""
    found = []
    for flag_id, answer in answers.items():
        for form in plaintext_forms(flag_id, answer.canonical):
            if significant_digits(form) < SEARCHABLE_DIGITS:
                continue
            pattern = re.compile(rf"(?<![\w.]){re.escape(form)}(?![\w]|\.\d)")
            found += [
                f"flag {flag_id} in {name}" for name, text in texts.items() if pattern.search(text)
            ]
    return found


# Synthetic answers, not the course's: tests of the checking mechanism use keys made here.
SYNTHETIC = {"1.1": "1234", "1.4": "0.500"}


@pytest.fixture(scope="module")
def synthetic_key_set() -> dict:
    """Made once per module: each key costs a deliberately slow hash."""
    from checks.answer_keys import make_key

    return {flag_id: make_key(flag_id, text, "tests") for flag_id, text in SYNTHETIC.items()}


@pytest.fixture
def synthetic_keys(synthetic_key_set: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The checker judges against :data:`SYNTHETIC` instead of the course's keys."""
    from checks import checker

    monkeypatch.setattr(checker, "load_keys", lambda: synthetic_key_set)
    return synthetic_key_set


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    """Debian's Chromium (CI installs it: see .ci/run)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is needed for the browser checks: apt-get install chromium")
    return found


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the session (Playwright's sync API
    allows one driver at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright starts Chromium with a fresh, temporary --user-data-dir of its own.
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def make_book(book: Path) -> subprocess.CompletedProcess:
    """Build a book with the README's main command, `make book`."""
    # The kernels must draw with Jupyter's inline backend, so no MPLBACKEND is passed down.
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    return subprocess.run(
        ["make", "book", f"BOOK={book}"], cwd=ROOT, env=env, capture_output=True, text=True
    )


# The course's book, building in the background from the end of collection when a test needs it:
# its notebooks then execute beside the solutions' (most cells use one core of two) rather than
# after them.
_book_build: subprocess.Popen | None = None
_book_log = _SCRATCH / "book-build.log"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The tests of the built book run last, so the others (the solutions' runs first of all)
    # use the time it takes to build.
    items.sort(key=lambda item: "built_book" in getattr(item, "fixturenames", ()))


def pytest_collection_finish(session: pytest.Session) -> None:
    global _book_build
    if session.config.option.collectonly:
        return
    if any("built_book" in getattr(item, "fixturenames", ()) for item in session.items):
        env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
        with _book_log.open("w") as log:
            _book_build = subprocess.Popen(
                ["make", "book", f"BOOK={ROOT}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # so an early stop ends the build's kernels too
            )


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The course's book, built as `make book` builds it (cached executions are reused)."""
    if _book_build is None:  # not started at collection (a test asked for it dynamically)
        completed = make_book(ROOT)
        output = completed.stdout + completed.stderr
        returncode = completed.returncode
    else:
        returncode = _book_build.wait()
        output = _book_log.read_text(errors="replace")
    assert returncode == 0, output[-6000:]
    return BUILD / "html"


def grade_quietly(folder: Path, work: Path) -> dict[str, dict[str, str]]:
    """Grade a folder of submissions as `python -m checks grade` does (two jobs, the course's
    limits, a throwaway secret and cache, no output); the gradebook's rows by student."""
    from checks.grading import Limits, grade_folder
    from checks.grading.contained_run import GIB

    out = work / "gradebook.csv"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_SECRET", "x")
        grade_folder(
            folder,
            out=out,
            jobs=2,
            limits=Limits(cell_timeout=60, timeout=120, memory=3 * GIB),
            cache_dir=work / "cache",
            report=lambda message: None,
            progress_bar=False,
        )
    return {row["student"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
