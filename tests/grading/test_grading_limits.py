"""A hostile notebook harms only itself (issue 25): per-run limits, and a grader no file stops.

The fast tests take each piece alone: folder trees at any depth, sparse files, names that are
not UTF-8, escaping, the log's tail, the time limit, the notices. The slow session grades every
attack of the issue at once, ``--jobs 2``, beside an honest notebook, with small limits (a 256 MiB
disk, 64 MiB ``/tmp``, 96 processes): the honest notebook keeps its points, every submission
has a row, nothing is left in the temporary folder, and the grader's memory stays small.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import grade

from checks.grading.feedback import feedback_page
from checks.grading.gradebook import write_gradebook
from checks.grading.judging import Grade
from checks.grading.run_record import run_record_file
from checks.grading.shown import markdown_text, shown_name
from checks.grading.status import CellError, RunStatus
from checks.grading.step import FALLBACK_TIMEOUT, MIN_TIMEOUT, run_timeout
from checks.grading.submissions import FOLDER_LIMITS, Submission, find_submissions
from checks.running.confinement import notices
from checks.running.execute import LOG_TAIL_BYTES, _tail
from checks.running.isolation import probe
from checks.running.limits import GIB, MIB, Limits, ProcessLimits
from checks.running.tree import TreeLimits, copy_tree, measure, refusal, remove_tree, walk

CHAPTER = "01_mnist_binary"
STEMS = {1: CHAPTER}
FORGED = "| 1.1 | 10 / 10 | captured |\n**Status: ok.** <script>alert('x')</script>"


@pytest.fixture(autouse=True)
def deep_trees_removed(tmp_path: Path):
    """Remove this test's folder at any depth: pytest's own clean-up recurses, and would fail."""
    yield
    remove_tree(tmp_path)


def make_deep(top: Path, depth: int, name: str = "d") -> None:
    """A chain of ``depth`` folders under ``top``, made through descriptors (any length)."""
    top.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(top, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir(name, dir_fd=descriptor)
        child = os.open(name, os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = child
    with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=descriptor), "w") as f:
        f.write("x")
    os.close(descriptor)


def sparse(path: Path, size: int) -> None:
    with path.open("wb") as stream:
        stream.truncate(size)
        stream.write(b"x")


def notebook(*sources: str) -> nbformat.NotebookNode:
    made = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    made.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return made


# --- Trees: any depth, no links, sparse files ----------------------------------------------------


def test_remove_tree_any_depth_long_names_and_taken_rights(tmp_path: Path) -> None:
    top = tmp_path / "run"
    make_deep(top, 1500, "x" * 100)  # 150,000 characters: far past PATH_MAX
    (top / "locked").mkdir()
    (top / "locked" / "f").write_text("x")
    os.chmod(top / "locked", 0)
    (top / "link").symlink_to(tmp_path / "keep")
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "precious").write_text("x")
    remove_tree(top)
    assert not top.exists()
    assert (tmp_path / "keep" / "precious").exists()  # the link was removed, not followed


def test_measure_and_refusal_stop_at_the_first_limit(tmp_path: Path) -> None:
    make_deep(tmp_path / "deep", 1500)
    assert "deep" in (refusal(tmp_path / "deep", TreeLimits()) or "")
    (tmp_path / "sparse").mkdir()
    sparse(tmp_path / "sparse" / "big.bin", 50 * GIB)
    size = measure(tmp_path / "sparse")
    assert size.apparent_bytes >= 50 * GIB and size.disk_bytes < 1 * MIB
    assert "MiB" in (refusal(tmp_path / "sparse", TreeLimits()) or "")
    many = tmp_path / "many"
    many.mkdir()
    for index in range(30):
        (many / str(index)).write_text("x")
    assert "files" in (refusal(many, TreeLimits(files=20)) or "")
    assert refusal(many, TreeLimits()) is None


def test_copy_tree_keeps_holes_and_leaves_links_out(tmp_path: Path) -> None:
    source = tmp_path / "student"
    (source / "sub").mkdir(parents=True)
    sparse(source / "sub" / "holes.bin", 100 * MIB)
    (source / "link").symlink_to("/etc/passwd")
    os.mkfifo(source / "pipe")
    copy_tree(source, tmp_path / "copy")
    copied = tmp_path / "copy" / "sub" / "holes.bin"
    assert copied.stat().st_size == 100 * MIB
    assert copied.stat().st_blocks * 512 < MIB
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["sub"]


def test_walk_is_iterative_and_does_not_follow_links(tmp_path: Path) -> None:
    make_deep(tmp_path / "t", 1500)
    (tmp_path / "t" / "up").symlink_to(tmp_path)
    folders = list(walk(tmp_path / "t"))
    assert len(folders) == 1501
    assert "up" in folders[0][2]


# --- Discovery: every entry gets a row, whatever it is -------------------------------------------


def test_discovery_survives_deep_sparse_and_latin1_folders(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_deep(root / "deep", 1500)
    nbformat.write(notebook("x = 1"), root / "deep" / f"{CHAPTER}.ipynb")
    (root / "sparse").mkdir()
    sparse(root / "sparse" / "big.bin", 50 * GIB)
    nbformat.write(notebook("x = 1"), root / "sparse" / f"{CHAPTER}.ipynb")
    latin = Path(os.fsdecode(bytes(root) + b"/caf\xe9"))
    latin.mkdir()
    nbformat.write(notebook("import checks\nchecks.check('1.1', 0)"), latin / f"{CHAPTER}.ipynb")
    Path(os.fsdecode(bytes(latin) + b"/donn\xe9es.txt")).write_text("x")
    found = {submission.student: submission for submission in find_submissions(root, STEMS)}
    assert found["deep"].problem is RunStatus.REFUSED_SIZE
    assert "deep" in found["deep"].detail
    assert found["sparse"].problem is RunStatus.REFUSED_SIZE
    assert found["caf\udce9"].chapter == 1
    assert FOLDER_LIMITS.depth < 1500


def test_a_notebook_of_a_million_outputs_is_read_quickly(tmp_path: Path) -> None:
    made = notebook("import checks\nchecks.check('1.1', 0)")
    made.cells[0].outputs = [nbformat.v4.new_output("stream", text="x")] * 200_000
    path = tmp_path / "subs" / f"big_{CHAPTER}.ipynb"
    path.parent.mkdir()
    nbformat.write(made, path)
    found = find_submissions(path.parent, STEMS)
    assert found[0].chapter == 1


# --- What a submission writes reaches the instructor escaped -------------------------------------


def test_shown_name_escapes_bytes_and_control_characters() -> None:
    assert shown_name("caf\udce9.ipynb") == "caf\\xe9.ipynb"
    assert shown_name("a\nb\tc") == "a\\nb\\tc"
    assert shown_name("é ok") == "é ok"


def test_markdown_text_cannot_add_lines_or_tags() -> None:
    shown = markdown_text(FORGED)
    assert "\n" not in shown and "<" not in shown
    assert "\\|" in shown and "\\*\\*" in shown


def hostile_grade(student: str = "<img src=x onerror=alert(1)>") -> Grade:
    from checks.catalogue import chapter_flags
    from checks.grading.judging import FlagGrade
    from checks.grading.status import Verdict

    submission = Submission(student, Path(f"/x/{CHAPTER}|<b>.ipynb"), None, chapter=1)
    flags = [FlagGrade(flag, Verdict.NOT_ANSWERED) for flag in chapter_flags(1)]
    error = CellError(3, "Evil<script>", FORGED, "raise Exception('`| x |`')")
    return Grade(submission, RunStatus.ERROR, flags, error)


def test_feedback_cannot_be_forged_or_run() -> None:
    page = feedback_page("<img src=x onerror=alert(1)>", [hostile_grade()])
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    table = [line for line in page.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 4  # the header, its rule, and the four flags of chapter 1
    assert not any(line.startswith("**Status: ok") for line in page.splitlines())


def test_gradebook_is_written_with_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    grade_ = replace(hostile_grade("caf\udce9"), error=None, status=RunStatus.OK)
    write_gradebook(tmp_path / "gradebook.csv", [grade_])
    rows = list(csv.DictReader(io.StringIO((tmp_path / "gradebook.csv").read_text("utf-8"))))
    assert rows[0]["student"] == "caf\\xe9"


# --- Runs: the log's tail, the time limit, the notices -------------------------------------------


def test_only_the_tail_of_the_log_is_read(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"x" * (10 * LOG_TAIL_BYTES) + b"\nthe error\n")
    with path.open("rb") as log:
        text = _tail(log)
    assert len(text) == LOG_TAIL_BYTES and text.endswith("the error\n")


def test_the_time_limit_is_a_multiple_of_the_solutions() -> None:
    assert run_timeout(1, Limits(timeout=42)) == 42
    assert MIN_TIMEOUT <= run_timeout(1, Limits()) < FALLBACK_TIMEOUT
    assert run_timeout(7, Limits()) > run_timeout(1, Limits())
    assert run_timeout(99, Limits()) == FALLBACK_TIMEOUT


def test_without_namespaces_the_unenforced_limits_are_said() -> None:
    lines = notices(Limits(), isolated=False)
    assert any("/tmp and /dev/shm" in line for line in lines)
    assert all(line.startswith("limit not enforced") for line in lines)


def _sandbox_python() -> tuple[str, int | None]:
    """A Python a sandbox may run, and the uid to run it as: NOBODY as root, else our own."""
    if os.geteuid() == 0:
        from checks.running.limits import NOBODY

        return "/usr/bin/python3", NOBODY
    import sys

    return sys.executable, None


@pytest.mark.skipif(
    probe() != "bubblewrap" or (os.geteuid() == 0 and not Path("/usr/bin/python3").exists()),
    reason="needs bubblewrap, and as root a Python any user may read (/usr/bin/python3)",
)
def test_rlimit_nproc_as_an_unprivileged_uid_counts_each_sandbox_alone() -> None:
    """As root the sandbox runs as NOBODY; a grader that is not root runs it as itself."""
    import json
    import subprocess

    from checks.running import limits as limits_module

    fork = (
        "import os, time\nn = 0\nwhile n < 200:\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(3)\n"
        "        os._exit(0)\n    n += 1\nprint(n)\n"
    )
    python, uid = _sandbox_python()
    inside = [python, "-I", "-S", limits_module.__file__, json.dumps({"processes": 20}), "--"]
    sandbox = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"]
    sandbox += ["--proc", "/proc", "--dev", "/dev", *inside, python, "-I", "-S", "-c", fork]
    command = ProcessLimits(uid=uid, gid=uid).command(sandbox)
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    forked = [int(run.communicate(timeout=60)[0]) for run in runs]
    # Each stops near its own 20 (not 200), and the three together pass 20: per sandbox.
    assert all(10 <= count < 20 for count in forked), forked


def test_a_grader_that_is_not_root_says_what_it_cannot_enforce(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guide's row "grader not root, no delegation", whoever runs the test."""
    from checks.running import confinement

    monkeypatch.setattr(confinement, "_is_root", lambda: False)
    monkeypatch.setattr(confinement, "group_kind", lambda: "")
    monkeypatch.setattr(confinement, "can_mount_disks", lambda: False)
    lines = notices(Limits(), isolated=True)
    assert [line.split("(")[0].strip() for line in lines] == [
        "limit not enforced: memory of a run as a whole",
        "limit not enforced: disk of a run as a whole",
        "limit not enforced: CPU share of a run",
    ]
    assert "512 MiB" in lines[1] and "4 GiB per process" in lines[0]
    assert confinement.sandbox_uid(isolated=True) is None  # its sandboxes run as itself


def test_rlimit_nproc_is_per_run_from_linux_5_14_only() -> None:
    from checks.running.limits import nproc_counts_per_namespace

    assert nproc_counts_per_namespace("5.14.0-1-amd64")
    assert nproc_counts_per_namespace("6.18.44-fc-v1147")
    assert not nproc_counts_per_namespace("5.13.19")
    assert not nproc_counts_per_namespace("4.19.0-26-amd64")


def test_what_an_older_kernel_or_bubblewrap_cannot_hold_is_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before Linux 5.14 RLIMIT_NPROC counts the whole uid; before bubblewrap 0.7, no --size."""
    from checks.running import confinement, isolation
    from checks.running.isolation import Isolation

    monkeypatch.setattr(confinement, "_is_root", lambda: False)
    monkeypatch.setattr(confinement, "group_kind", lambda: "")
    monkeypatch.setattr(confinement, "nproc_counts_per_namespace", lambda: False)
    lines = notices(Limits(), isolated=True, tmpfs_capped=False)
    assert any(line.startswith("limit not enforced: processes per run") for line in lines)
    assert any("/tmp and /dev/shm" in line and "--size" in line for line in lines)
    monkeypatch.setattr(isolation, "_bubblewrap_supports", lambda executable, option: False)
    assert not Isolation("bubblewrap", "/usr/bin/bwrap").caps_tmpfs
    assert Isolation("unshare", "/usr/bin/unshare").caps_tmpfs
    assert not Isolation("none").caps_tmpfs


def test_a_kill_by_the_runs_memory_group_is_seen(tmp_path: Path) -> None:
    from checks.running.confinement import RunSpace, out_of_memory

    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    assert not out_of_memory(RunSpace(tmp_path, groups=(tmp_path,)))
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert out_of_memory(RunSpace(tmp_path, groups=(tmp_path,)))


def test_process_limits_hold_for_the_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    limits = ProcessLimits(file_size=MIB, processes=50, cpu_seconds=30, nice=5, oom_score_adj=900)
    code = (
        "import resource, os\n"
        "print(resource.getrlimit(resource.RLIMIT_FSIZE)[0], os.nice(0),"
        " open('/proc/self/oom_score_adj').read().strip())\n"
        "open('big', 'wb').write(b'x' * (2 << 20))\n"
    )
    done = subprocess.run(
        limits.command([sys.executable, "-c", code]), cwd=tmp_path, capture_output=True, text=True
    )
    assert done.stdout.split()[:3] == [str(MIB), str(os.nice(0) + 5), "900"]
    assert done.returncode != 0 and (tmp_path / "big").stat().st_size <= MIB


# --- Every attack at once, beside an honest notebook ---------------------------------------------

HONEST = (
    'random_state = 42\ntarget_digit = "5"',
    "import checks\nmnist = checks.fetch_mnist()\nX, y = mnist.data, mnist.target",
    "y_train_target = y[:60_000] == target_digit\n"
    'checks.check("1.1", y_train_target.sum())\n'
    'checks.check("1.2", (X[:60_000][y_train_target][0] > 0).sum())',
)
FLOOD = "import os\nchunk = b'x' * (1 << 20)\nfor _ in range(1024):\n    os.write(1, chunk)\n"
DISK = (
    "import itertools\n"
    "for n in itertools.count():\n"
    "    with open(f'fill{n}', 'wb') as f:\n"
    "        f.write(b'x' * (16 << 20))\n"
    "    if n > 200: break\n"
)
FORK = (
    "import os, time\n"
    "children = 0\n"
    "while children < 5000:\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(30)\n"
    "        os._exit(0)\n"
    "    children += 1\n"
    "print(children)\n"
    "assert children < 5000, 'no process limit'\n"
)
MEMORY = (
    "import subprocess, sys\n"
    "eat = \"import time; b = b'x' * (700 << 20); time.sleep(15)\"\n"
    "procs = [subprocess.Popen([sys.executable, '-c', eat]) for _ in range(3)]\n"
    "open('/dev/shm/fill', 'wb').write(b'x' * (60 << 20))\n"
    "[p.wait() for p in procs]\n"
)
CPU = (
    "import subprocess, sys, time\n"
    "spin = 'while True: pass'\n"
    "for _ in range(8):\n"
    "    subprocess.Popen([sys.executable, '-c', spin], start_new_session=True)\n"
    "time.sleep(20)\n"
)
DEEP = (
    "import os\n"
    "fd = os.open('.', os.O_RDONLY)\n"
    "for _ in range(1500):\n"
    "    os.mkdir('d' * 100, dir_fd=fd)\n"
    "    child = os.open('d' * 100, os.O_RDONLY, dir_fd=fd)\n"
    "    os.close(fd)\n"
    "    fd = child\n"
)
HOSTILE = f"raise Exception({FORGED!r})"


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Grade every attack beside an honest notebook, --jobs 2, in namespaces, small limits."""
    if probe() is None:
        pytest.fail("namespaces are needed to grade hostile work: apt-get install bubblewrap")
    base = tmp_path_factory.mktemp("limits")
    folder, work, scratch = base / "subs", base / "work", base / "tmp"
    for path in (folder, work, scratch):
        path.mkdir()
    for student, sources in {
        "alice": HONEST,
        "flood": ("import checks", FLOOD),
        "disk": ("import checks", DISK),
        "fork": ("import checks", FORK),
        "memory": ("import checks", MEMORY),
        "cpu": ("import checks", CPU),
        "deepdir": ("import checks", DEEP),
        "<img src=x onerror=alert(1)>": ("import checks", HOSTILE),
    }.items():
        (folder / student).mkdir()
        nbformat.write(notebook(*sources), folder / student / f"{CHAPTER}.ipynb")
    make_deep(folder / "deep", 1500)
    nbformat.write(notebook("x = 1"), folder / "deep" / f"{CHAPTER}.ipynb")
    (folder / "sparse").mkdir()
    sparse(folder / "sparse" / "big.bin", 50 * GIB)
    nbformat.write(notebook("x = 1"), folder / "sparse" / f"{CHAPTER}.ipynb")
    latin = Path(os.fsdecode(bytes(folder) + b"/caf\xe9"))
    latin.mkdir()
    nbformat.write(notebook(*HONEST), Path(os.fsdecode(bytes(latin) + b"/ma\xefs.ipynb")))
    limits = Limits(
        cell_timeout=60,
        timeout=150,
        memory=2 * GIB,
        processes=96,
        run_memory=int(1.5 * GIB),
        disk=256 * MIB,
        tmpfs=64 * MIB,
        file_size=64 * MIB,
    )
    grader = psutil.Process()
    rss_before = grader.memory_info().rss
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))
        graded = grade(folder, work, isolation="namespaces", limits=limits)
    yield {
        "graded": graded,
        "work": work,
        "scratch": str(scratch),
        "scratch_left": sorted(os.listdir(scratch)),
        "rss_growth": grader.memory_info().rss - rss_before,
        "mounts": Path("/proc/self/mounts").read_text(),
        "students": {"alice", "flood", "disk", "fork", "memory", "cpu", "deepdir", "deep"}
        | {"sparse", "caf\\xe9", "<img src=x onerror=alert(1)>"},
    }
    remove_tree(folder)


@pytest.mark.slow
def test_the_honest_notebooks_keep_their_points(attacked: dict) -> None:
    rows = attacked["graded"].rows
    for student in ("alice", "caf\\xe9"):
        assert rows[student]["status"] == "ok", rows[student]
        assert (rows[student]["1.1"], rows[student]["1.2"]) == ("10", "10")


@pytest.mark.slow
def test_every_submission_has_a_row_and_the_run_record_is_written(attacked: dict) -> None:
    rows = attacked["graded"].rows
    assert set(rows) == attacked["students"]
    assert rows["deep"]["status"].startswith("refused: folder too big")
    assert rows["sparse"]["status"].startswith("refused: folder too big")
    assert rows["fork"]["status"] == "ok"  # its fork failed: the run's own limit, not the host's
    record = json.loads(run_record_file(attacked["work"] / "gradebook.csv").read_text("utf-8"))
    unenforced = record["not enforced"]
    assert all(line.startswith("limit not enforced: ") for line in unenforced)
    assert [m for m in attacked["graded"].messages if m in unenforced] == unenforced  # said too
    if os.geteuid() != 0 and record["control groups"] == "none":  # the guide's non-root row
        said = " ".join(unenforced)
        assert "memory of a run as a whole" in said and "disk of a run as a whole" in said
        assert "processes" not in said and "/tmp" not in said


@pytest.mark.slow
def test_nothing_is_left_behind_and_the_grader_stayed_small(attacked: dict) -> None:
    assert attacked["scratch_left"] == []
    assert attacked["scratch"] not in attacked["mounts"]  # this session's run disks unmounted
    assert attacked["rss_growth"] < 300 * MIB
    left = []  # processes of these runs (other sessions may be grading on the same machine)
    for process in psutil.process_iter(["environ"]):
        environment = process.info["environ"] or {}
        home = environment.get("HOME", "")
        if "CHECKS_GRADING_RUN" in environment and home.startswith(attacked["scratch"]):
            left.append(process)
    assert left == []


@pytest.mark.slow
def test_feedback_of_the_attack_shows_text_only(attacked: dict) -> None:
    pages = {path.name: path.read_text("utf-8") for path in attacked["graded"].result.feedback}
    hostile = next(text for name, text in pages.items() if "img" in name)
    assert "<script" not in hostile and "<img" not in hostile
    assert not re.search(r"^\| 1\.1 \| 10 / 10", hostile, re.MULTILINE)
