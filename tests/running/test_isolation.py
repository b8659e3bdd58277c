"""Isolation of a run, attacked as a hostile notebook would: with each tool that works here.

Each test runs a small Python program (not a notebook, to stay fast) inside
``Isolation.wrap(...)`` and reads what it saw as JSON on its standard output; one test runs a
real two-cell notebook through papermill inside, and prints what isolation costs.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from checks.running import isolation as isolation_module
from checks.running.isolation import (
    HOME_INSIDE,
    PACKAGE_DIR,
    Isolation,
    IsolationUnavailable,
    choose,
    probe,
    unavailable_message,
)

ROOT = Path(__file__).resolve().parents[2]
PATH = "/usr/local/bin:/usr/bin:/bin"
TIMEOUT = 60


@pytest.fixture(scope="module", params=isolation_module.TOOLS)
def isolation(request: pytest.FixtureRequest) -> Isolation:
    """An isolation with each tool; skipped where the tool is missing or not permitted."""
    tool = request.param
    failure = isolation_module._probe_result(tool)
    if failure == "not installed":
        pytest.skip(f"{tool} is not installed (Debian: apt-get install bubblewrap util-linux)")
    if failure is not None:
        pytest.skip(f"{tool} cannot create namespaces here: {failure}")
    return Isolation(tool, isolation_module._executable(tool))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def run_inside(
    isolation: Isolation,
    code: str,
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    outer_env: dict[str, str] | None = None,
    arguments: tuple[str, ...] = (),
) -> dict:
    """Run ``code`` with this Python inside the isolation; return the JSON it printed last."""
    command = isolation.wrap(
        [sys.executable, "-c", textwrap.dedent(code), *arguments],
        workdir=workdir,
        env={"PATH": PATH, **(env or {})},
    )
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(outer_env or {})},
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- 1. What is visible, and what can be written -----------------------------------------------

LOOK_AROUND = """
import ctypes, json, os, sys
from pathlib import Path

paths = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)


def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return type(error).__name__ + ": " + error.strerror


def read(path):
    try:
        return Path(path).read_text()
    except OSError as error:
        return type(error).__name__


def write(folder):
    return attempt(lambda: (Path(folder) / "planted.py").write_text("print('pwned')"))


def remount_writable(folder):
    flags = 4096 | 32  # MS_BIND | MS_REMOUNT, without MS_RDONLY
    if libc.mount(None, folder.encode(), None, ctypes.c_ulong(flags), None) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def unmount(folder):
    if libc.umount2(folder.encode(), 2) != 0:  # MNT_DETACH
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def new_user_namespace():
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


print(json.dumps({
    "exists": {name: os.path.lexists(path) for name, path in paths["hidden"].items()},
    "package_readable": (Path(paths["package"]) / "__init__.py").read_text()[:3],
    "write_package": write(paths["package"]),
    "write_environment": write(paths["site_packages"]),
    "write_system": write("/usr/lib"),
    "write_root": write("/"),
    "remount_package": attempt(lambda: remount_writable(paths["package"])),
    "unmount_package": attempt(lambda: unmount(paths["package"])),
    "new_user_namespace": attempt(new_user_namespace),
    "shadow": read("/etc/shadow"),
    "capabilities": [
        line.split()[1] for line in open("/proc/self/status") if line.startswith("CapEff")
    ],
}))
"""


def test_only_the_allow_list_is_visible_and_it_is_read_only(
    isolation: Isolation, tmp_path: Path, workdir: Path
) -> None:
    secret = tmp_path / "grader" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("the answers")
    home = Path.home()
    hidden = {
        "solutions": ROOT / "solutions",
        "cache": home / ".cache",
        "config": home / ".config",
        "secret": secret,
        "grader_folder": secret.parent,
        "course_notebooks": ROOT / "notebooks",
        "beside_the_course": ROOT.parent / "shared",
    }
    # The grader's caches and config exist outside, as on a grader's machine (the tests' home
    # starts empty): hidden must mean not visible, not merely absent.
    for name in ("cache", "config"):
        (hidden[name] / "mnist-course").mkdir(parents=True, exist_ok=True)
    assert all(path.exists() for path in hidden.values()), "each is there, outside"
    site_packages = next(path for path in sys.path if path.endswith("site-packages"))
    paths = {
        "hidden": {name: str(path) for name, path in hidden.items()},
        "package": str(PACKAGE_DIR),
        "site_packages": site_packages,
    }
    seen = run_inside(isolation, LOOK_AROUND, workdir, arguments=(json.dumps(paths),))
    assert not any(seen["exists"].values()), seen["exists"]
    assert seen["package_readable"] == '"""'
    assert seen["write_package"].startswith("OSError: Read-only file system")
    assert seen["write_environment"].startswith("OSError: Read-only file system")
    assert seen["write_system"].startswith("OSError: Read-only file system")
    assert seen["write_root"].startswith("OSError: Read-only file system")
    assert seen["remount_package"].startswith("PermissionError")
    assert seen["unmount_package"].startswith("PermissionError")
    assert seen["new_user_namespace"] != "done"
    assert seen["shadow"] in ("", "PermissionError")  # hidden: not readable by every user
    assert seen["capabilities"] == ["0000000000000000"]
    assert not (PACKAGE_DIR / "planted.py").exists()
    assert not (Path(site_packages) / "planted.py").exists()


def test_hidden_tmp_path_holds_only_the_work_folder(isolation: Isolation, workdir: Path) -> None:
    (workdir.parent / "beside.txt").write_text("not for the notebook")
    seen = run_inside(
        isolation,
        "import json, os, sys; print(json.dumps(os.listdir(sys.argv[1])))",
        workdir,
        arguments=(str(workdir.parent),),
    )
    assert seen == ["work"]


# --- 2. Writable places ------------------------------------------------------------------------

WRITE_AROUND = """
import json, os, sys
from pathlib import Path

token = sys.argv[1]
seen = {
    "tmp_before": sorted(os.listdir("/tmp")),
    "home_before": sorted(os.listdir(os.environ["HOME"])),
    "home": os.environ["HOME"],
    "tmpdir": os.environ["TMPDIR"],
}
Path("result.txt").write_text("written inside " + token)
Path("/tmp", token).write_text("tmp")
Path(os.environ["HOME"], token).write_text("home")
import multiprocessing
multiprocessing.Lock()  # POSIX semaphores need a writable /dev/shm (joblib, loky)
print(json.dumps(seen))
"""


def test_work_folder_is_writable_tmp_and_home_are_private(
    isolation: Isolation, workdir: Path
) -> None:
    token = f"isolation-test-{secrets.token_hex(6)}"
    first = run_inside(isolation, WRITE_AROUND, workdir, arguments=(token,))
    assert (workdir / "result.txt").read_text() == f"written inside {token}"
    assert first["home"] == HOME_INSIDE and first["tmpdir"] == "/tmp"
    assert not Path("/tmp", token).exists()
    assert not (Path.home() / token).exists()
    assert not Path(HOME_INSIDE, token).exists()
    second = run_inside(isolation, WRITE_AROUND, workdir, arguments=(token,))
    assert token not in second["tmp_before"] and token not in second["home_before"]
    # /tmp holds HOME, and the paths to the work folder and to the read-only package (and its
    # Python) when those are in the host's /tmp (a clone in /tmp, as CI makes)
    bound = [workdir, PACKAGE_DIR, Path(sys.prefix).resolve()]
    in_tmp = {path.parts[2] for path in bound if path.parts[1] == "tmp" and len(path.parts) > 2}
    assert set(second["tmp_before"]) <= {"home", *in_tmp}


# --- 3. Network --------------------------------------------------------------------------------

NETWORK = """
import json, socket, sys

def connect(address):
    try:
        socket.create_connection(address, timeout=3).close()
        return "connected"
    except OSError as error:
        return type(error).__name__

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
inside = connect(server.getsockname())
print(json.dumps({
    "host_server": connect(("127.0.0.1", int(sys.argv[1]))),
    "outside": connect(("192.0.2.1", 80)),
    "public": connect(("1.1.1.1", 443)),
    "inside_loopback": inside,
    "interfaces": [name for _, name in socket.if_nameindex()],
}))
"""


def test_no_network_but_loopback_works_inside(isolation: Isolation, workdir: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        seen = run_inside(isolation, NETWORK, workdir, arguments=(str(server.getsockname()[1]),))
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody came
    assert seen["host_server"] == "ConnectionRefusedError"
    assert seen["outside"] != "connected" and seen["public"] != "connected"
    assert seen["inside_loopback"] == "connected"
    assert seen["interfaces"] == ["lo"]


# --- 4. Processes ------------------------------------------------------------------------------

PROCESSES = """
import json, os

def read(path):
    try:
        with open(path, "rb") as stream:
            return stream.read().decode(errors="replace")
    except OSError as error:
        return type(error).__name__

pids = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
print(json.dumps({
    "pids": pids,
    "me": os.getpid(),
    "cmdlines": [read(f"/proc/{pid}/cmdline") for pid in pids],
    "environs": [read(f"/proc/{pid}/environ") for pid in pids],
}))
"""


def test_proc_shows_only_the_runs_processes(isolation: Isolation, workdir: Path) -> None:
    secret = f"grader-secret-{secrets.token_hex(6)}"
    seen = run_inside(isolation, PROCESSES, workdir, outer_env={"GRADER_SECRET": secret})
    assert len(seen["pids"]) <= 3, seen  # the namespace's init, the program (and bwrap's)
    assert seen["me"] in seen["pids"]
    assert os.getpid() not in seen["pids"]
    if os.getppid() > 2:  # not when the tests' parent is the host's init (nohup, a container)
        assert os.getppid() not in seen["pids"]
    everything = "".join(seen["cmdlines"] + seen["environs"])
    assert secret not in everything
    for process in (psutil.Process(), psutil.Process().parent()):
        assert "\0".join(process.cmdline()) not in everything


# --- 5. Detached processes ---------------------------------------------------------------------

DETACH = """
import os, sys, time
from pathlib import Path

marker, heartbeat = sys.argv[1], Path(sys.argv[2])
LOOP = '''
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
for beat in range(300):
    with open(sys.argv[2], "a") as stream:
        stream.write(str(beat) + chr(10))
    time.sleep(0.2)
'''
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        if sys.argv[3:] == ["quiet"]:  # else it keeps the run's output pipe open
            null = os.open(os.devnull, os.O_RDWR)
            for descriptor in (0, 1, 2):
                os.dup2(null, descriptor)
        os.execv(sys.executable, [sys.executable, "-c", LOOP, marker, str(heartbeat)])
    os._exit(0)
os.wait()
while not heartbeat.exists():
    time.sleep(0.05)
print('{"detached": true}')
"""


def marked(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if marker in (process.info["cmdline"] or []):
            found.append(process)
    return found


def heartbeats(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_detached_processes_die_with_the_run(isolation: Isolation, workdir: Path) -> None:
    marker = f"isolation-marker-{secrets.token_hex(6)}"
    heartbeat = workdir / "heartbeat.txt"
    run_inside(isolation, DETACH, workdir, arguments=(marker, str(heartbeat)))
    assert heartbeat.exists()  # it did start
    assert marked(marker) == []
    beats = heartbeats(heartbeat)
    time.sleep(1)
    assert heartbeats(heartbeat) == beats


def wait_until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_and_detach(
    isolation: Isolation, workdir: Path, grader: bool
) -> tuple[str, subprocess.Popen]:
    """Start DETACH, whose program then sleeps 60 s, directly or under a stand-in grader."""
    marker = f"isolation-marker-{secrets.token_hex(6)}"
    heartbeat = workdir / "heartbeat.txt"
    command = isolation.wrap(
        [sys.executable, "-c", DETACH + "time.sleep(60)\n", marker, str(heartbeat)],
        workdir=workdir,
        env={"PATH": PATH},
    )
    if grader:
        code = "import subprocess, sys, time; subprocess.Popen(sys.argv[1:]); time.sleep(60)"
        command = [sys.executable, "-c", code, *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_until(heartbeat.exists), "the detached process never started"
    assert len(marked(marker)) >= 2  # the program and its detached grandchild
    return marker, process


def test_killing_the_runs_top_process_kills_everything(isolation: Isolation, workdir: Path) -> None:
    marker, process = start_and_detach(isolation, workdir, grader=False)
    process.kill()  # the tool's process alone, as on a timeout
    process.wait()
    assert wait_until(lambda: marked(marker) == [], 5), marked(marker)


def test_the_run_dies_with_the_grader(isolation: Isolation, workdir: Path) -> None:
    marker, grader = start_and_detach(isolation, workdir, grader=True)
    grader.kill()
    grader.wait()
    assert wait_until(lambda: marked(marker) == [], 5), marked(marker)


def test_without_isolation_the_detached_process_survives(workdir: Path) -> None:
    """The control: the same program, run with ``none``, leaves its process behind."""
    marker = f"isolation-marker-{secrets.token_hex(6)}"
    heartbeat = workdir / "heartbeat.txt"
    run_inside(Isolation("none"), DETACH, workdir, arguments=(marker, str(heartbeat), "quiet"))
    try:
        beats = heartbeats(heartbeat)
        time.sleep(0.7)
        assert heartbeats(heartbeat) > beats
        assert len(marked(marker)) == 1
    finally:
        for process in marked(marker):
            process.kill()


# --- 6. A notebook, end to end -----------------------------------------------------------------


def runner_module() -> str:
    return "checks.running.notebook_runner"


def run_notebook(isolation: Isolation, workdir: Path) -> tuple[float, Path]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import os\nanswer = 6 * 7"),
        nbformat.v4.new_code_cell(
            "print(answer, os.getpid())\nopen('from_the_kernel.txt', 'w').write(str(answer))"
        ),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    submission = workdir / "submission"
    submission.mkdir()
    nbformat.write(notebook, submission / "tiny.ipynb")
    output = workdir / "executed.ipynb"
    command = [
        sys.executable,
        "-m",
        runner_module(),
        str(submission / "tiny.ipynb"),
        str(output),
        "--kernel-cwd",
        str(submission),
        "--cell-timeout",
        "60",
    ]
    env = {"PATH": PATH, "PYTHONPATH": str(PACKAGE_DIR.parent), "MPLBACKEND": "Agg"}
    if not isolation.isolated:
        env.update(HOME=str(workdir), TMPDIR=str(workdir))
    started = time.perf_counter()
    done = subprocess.run(
        isolation.wrap(command, workdir=workdir, env=env),
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert (submission / "from_the_kernel.txt").read_text() == "42"
    return elapsed, output


@pytest.fixture(scope="module")
def unisolated_seconds(tmp_path_factory: pytest.TempPathFactory) -> float:
    elapsed, _ = run_notebook(Isolation("none"), tmp_path_factory.mktemp("plain"))
    return elapsed


def test_a_notebook_runs_inside(
    isolation: Isolation, workdir: Path, unisolated_seconds: float
) -> None:
    elapsed, output = run_notebook(isolation, workdir)
    executed = nbformat.read(output, as_version=4)
    printed = executed.cells[1].outputs[0]["text"].split()
    assert printed[0] == "42"
    assert int(printed[1]) < 10  # the kernel's pid, in the run's own PID namespace
    print(
        f"\nnotebook run: {elapsed:.2f} s with {isolation.mode}, "
        f"{unisolated_seconds:.2f} s without isolation "
        f"(overhead {elapsed - unisolated_seconds:+.2f} s)"
    )


# --- 7. Choosing -------------------------------------------------------------------------------


def test_choose_uses_what_works_here() -> None:
    tool = probe()
    chosen = choose("auto")
    assert chosen.mode == (tool or "none")
    assert choose("none").mode == "none" and not choose("none").isolated
    assert "isolation: none" in choose("none").describe()
    with pytest.raises(ValueError, match="auto, namespaces, none"):
        choose("sometimes")


def test_when_namespaces_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = {
        "bubblewrap": "/usr/bin/bwrap failed (exit code 1): bwrap: setting up uid map: "
        "Permission denied",
        "unshare": "/usr/bin/unshare failed (exit code 1): unshare: write failed "
        "/proc/self/uid_map: Operation not permitted",
    }
    monkeypatch.setattr(isolation_module, "_probe_result", refused.get)
    apparmor = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
    monkeypatch.setattr(isolation_module, "_read", lambda path: "1" if path == apparmor else None)
    with pytest.raises(IsolationUnavailable) as raised:
        choose("namespaces")
    message = str(raised.value)
    assert "setting up uid map: Permission denied" in message
    assert "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in message
    assert "--isolation none" in message
    fallback = choose("auto")
    assert fallback.mode == "none" and not fallback.isolated
    assert "apparmor" in fallback.reason
    assert fallback.wrap(["true"], workdir=Path("/nonexistent"), env={}) == ["true"]


def test_message_when_tools_are_missing_or_not_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = dict.fromkeys(isolation_module.TOOLS, "not installed")
    monkeypatch.setattr(isolation_module, "_probe_result", missing.get)
    assert "apt-get install bubblewrap" in unavailable_message()
    monkeypatch.setattr(sys, "platform", "darwin")
    assert "Linux virtual machine" in unavailable_message()


def test_wrap_refuses_a_missing_read_only_path(isolation: Isolation, workdir: Path) -> None:
    with pytest.raises(ValueError, match="must exist"):
        isolation.wrap(["true"], workdir=workdir, env={}, readonly=[workdir / "absent"])
