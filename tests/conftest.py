"""Shared fixtures. Tests never touch the network and never write to the user's real folders."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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

# A home of the run's own, empty at the start, so that nothing a previous run or session left in
# a home (a trained model, the MNIST cache, a kernel's config) can make a test pass: `make test`
# makes it fresh under _build/test-home and names it here; a bare `pytest` gets a temporary one.
# Set before any kernel or build starts, so everything they run inherits it.
_GIVEN_HOME = os.environ.get("CHECKS_TEST_HOME")
_SCRATCH = Path(_GIVEN_HOME) if _GIVEN_HOME else Path(tempfile.mkdtemp(prefix="checks-tests-"))
_SCRATCH.mkdir(parents=True, exist_ok=True)
TEST_HOME = _SCRATCH / "home"
# Every place in a home that the course or the libraries it runs read or write.
HOME_VARIABLES = {
    "HOME": TEST_HOME,
    "XDG_CACHE_HOME": TEST_HOME / ".cache",
    "XDG_CONFIG_HOME": TEST_HOME / ".config",  # the grader's secret among them
    "XDG_DATA_HOME": TEST_HOME / ".local" / "share",
    "XDG_STATE_HOME": TEST_HOME / ".local" / "state",
    "MNIST_CACHE_DIR": TEST_HOME / ".cache" / "mnist-course",
    "CHECKS_HOME": TEST_HOME / ".mnist-course",
    "MPLCONFIGDIR": TEST_HOME / ".config" / "matplotlib",
    "JUPYTER_CONFIG_DIR": TEST_HOME / ".jupyter",
    "JUPYTER_DATA_DIR": TEST_HOME / ".local" / "share" / "jupyter",
    "JUPYTER_RUNTIME_DIR": TEST_HOME / ".local" / "share" / "jupyter" / "runtime",
    "IPYTHONDIR": TEST_HOME / ".ipython",
    "KERAS_HOME": TEST_HOME / ".keras",
}
if TEST_HOME.exists() and any(TEST_HOME.iterdir()):
    raise pytest.UsageError(f"the tests' home {TEST_HOME} is not empty: remove it first")
TEST_HOME.mkdir(exist_ok=True)
os.environ.update({name: str(path) for name, path in HOME_VARIABLES.items()})
os.environ.pop("JUPYTER_PATH", None)
os.environ.pop("JUPYTER_CONFIG_PATH", None)

# MNIST only from the offline copy beside the repository or MNIST_DATA_DIR: tests never download.
_IDX = "train-images-idx3-ubyte.gz"
if not os.environ.get("MNIST_DATA_DIR") and SHARED_MNIST.is_dir():
    os.environ["MNIST_DATA_DIR"] = str(SHARED_MNIST)
if not (Path(os.environ.get("MNIST_DATA_DIR", SHARED_MNIST)).expanduser() / _IDX).is_file():
    raise pytest.UsageError(
        f"the tests need the MNIST IDX files in {SHARED_MNIST} or in $MNIST_DATA_DIR; "
        "they never download them"
    )
os.environ.pop("CHECKS_STRICT", None)
os.environ.pop("CHECKS_RECORD", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _book_build is not None and _book_build.poll() is None:  # a run stopped early (-x)
        os.killpg(_book_build.pid, signal.SIGTERM)
        _book_build.wait()
    if not _GIVEN_HOME:  # `make test` keeps its folder for a look, and empties it next time
        shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The original MNIST IDX files (../shared/data/mnist or $MNIST_DATA_DIR)."""
    folder = Path(os.environ.get("MNIST_DATA_DIR", SHARED_MNIST)).expanduser()
    if not (folder / _IDX).is_file():
        pytest.fail(f"the MNIST IDX files are needed in {folder} (set MNIST_DATA_DIR)")
    return folder


@pytest.fixture
def offline_mnist(mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MNIST (and the labels a score is measured against) read from the IDX files, offline."""
    monkeypatch.setenv("MNIST_DATA_DIR", str(mnist_dir))
    return mnist_dir


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


def make_command(directory: Path, *targets: str) -> list[str]:
    """`make` in ``directory`` with the environment running these tests (its ``.venv`` is set up:
    `make test` did that first), never installing into it again."""
    venv = Path(sys.prefix)
    return ["make", "-C", str(directory), f"VENV={venv}", "-o", str(venv / ".installed"), *targets]


def book_environment() -> dict[str, str]:
    # The kernels must draw with Jupyter's inline backend, so no MPLBACKEND is passed down.
    return {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}


def make_book(book: Path) -> subprocess.CompletedProcess:
    """Build a book with the README's main command, `make book`."""
    return subprocess.run(
        make_command(ROOT, "book", f"BOOK={book}"),
        env=book_environment(),
        capture_output=True,
        text=True,
    )


def clean_copy(target: Path) -> Path:
    """The repository as a fresh clone of it holds it: what git tracks and the new files it does
    not ignore, as they are in the working tree, times kept; nothing built or cached."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split(b"\0")):
        source = ROOT / os.fsdecode(name)
        if not source.exists() and not source.is_symlink():  # deleted, not yet committed
            continue
        destination = target / os.fsdecode(name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)
    return target


# The course's book, built as a new user builds it: `make book` in a clean copy of the repository,
# with the run's empty home (no trained draw model, no MNIST cache, no executed notebooks). It
# builds in the background from the end of collection, so its notebooks execute beside the
# solutions' (most cells use one core of two) rather than after them.
NEW_CLONE = _SCRATCH / "clone"
_book_build: subprocess.Popen | None = None
_book_log = _SCRATCH / "book-build.log"
_book_started = 0.0

# A test that uses one of these executes notebooks, builds a book, trains on MNIST or drives a
# browser: `make check` leaves it out (`-m "not slow"`), `make test` runs it.
SLOW_FIXTURES = frozenset(
    {"executed", "answers", "built_book", "draw_book", "offline_page", "lab", "browser"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    # The tests of the built book run last, so the others (the solutions' runs first of all)
    # use the time it takes to build.
    items.sort(key=lambda item: "built_book" in getattr(item, "fixturenames", ()))


def pytest_collection_finish(session: pytest.Session) -> None:
    global _book_build, _book_started
    if session.config.option.collectonly:
        return
    if any("built_book" in getattr(item, "fixturenames", ()) for item in session.items):
        clean_copy(NEW_CLONE)
        _book_started = time.time()
        with _book_log.open("w") as log:
            _book_build = subprocess.Popen(
                make_command(NEW_CLONE, "book"),
                env=book_environment(),
                stdout=log,
                stderr=log,
                start_new_session=True,  # so an early stop ends the build's kernels too
            )


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The course's book, built by `make book` in a clean copy with an empty home."""
    if _book_build is None:  # not started at collection (a test asked for it dynamically)
        pytest.fail("the book is built from the end of collection, for tests that name built_book")
    returncode = _book_build.wait()
    output = _book_log.read_text(errors="replace")
    assert returncode == 0, output[-6000:]
    return NEW_CLONE / "_build" / "html"


@pytest.fixture(scope="session")
def book_started() -> float:
    """When the background `make book` started (seconds since the epoch)."""
    return _book_started


@dataclass(frozen=True)
class Graded:
    """What :func:`grade` returns: the session's result, the gradebook's rows, its messages."""

    result: object  # checks.grading.GradingResult
    rows: dict[str, dict[str, str]]  # by student
    messages: list[str]


def grade(folder: Path, work: Path, **options: object) -> Graded:
    """Grade a folder of submissions as `python -m checks grade` does, for a test.

    Two jobs, the course's limits (60 s a cell, 120 s a run, 3 GiB), the gradebook and the
    variant cache in ``work``, a canary secret in the grader's environment (no kernel may see
    it), the messages kept, no progress bar; ``options`` are ``grade_folder``'s own, and win.
    """
    from checks.grading import Limits, grade_folder
    from checks.running.limits import GIB

    messages: list[str] = []
    arguments = {
        "out": work / "gradebook.csv",
        "jobs": 2,
        "limits": Limits(cell_timeout=60, timeout=120, memory=3 * GIB),
        "cache_dir": work / "cache",
        "report": messages.append,
        "progress_bar": False,
        **options,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_SECRET", "x")
        result = grade_folder(folder, **arguments)
    with result.gradebook.open(encoding="utf-8") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    return Graded(result, rows, messages)


def grade_quietly(folder: Path, work: Path) -> dict[str, dict[str, str]]:
    """The gradebook's rows by student, graded by :func:`grade`."""
    return grade(folder, work).rows
