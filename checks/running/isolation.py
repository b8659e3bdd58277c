"""Run one submission in Linux namespaces of its own: what it sees, and what dies with it.

:func:`choose` picks a mode (``"auto"``, ``"namespaces"`` or ``"none"``, the grader's
``--isolation``); :meth:`Isolation.wrap` turns a command (papermill's runner) into one that runs
isolated. Two real tools do the work, whichever runs here (:func:`probe` tries them once):
`bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``), else ``unshare`` from
util-linux with a small setup step of this module, run as the namespace's first process. Both
work unprivileged.

Inside, for both tools:

- new user, mount, PID, network, IPC and UTS namespaces;
- a fresh root holding only an allow-list, read-only: the system (``/usr``, ``/etc``, ``/bin`` …,
  without the files of ``/etc`` that not every user may read), the Python installation
  (``sys.base_prefix``, ``sys.prefix``), the ``checks`` package, and the caller's ``readonly``
  paths; the rest of the machine (the course folder, ``solutions/``, caches, home folders, other
  submissions) does not exist;
- writable: the run's ``workdir`` (the real folder, so what is written there remains for the
  grader) and a fresh ``/tmp`` and ``/dev/shm`` in memory, each of at most ``tmpfs_size`` bytes
  (default :data:`TMPFS_SIZE`), private to the run; ``/tmp`` holds ``HOME`` (``/tmp/home``);
- a fresh ``/proc`` showing the run's processes only, a minimal ``/dev``;
- no network: only a loopback interface, brought up, so papermill reaches its kernel on
  127.0.0.1 while nothing outside is reachable;
- no capabilities, no new user namespaces, the user id the tool is started as (the grader's,
  or the unprivileged one :mod:`checks.running.confinement` gives a run when the grader is
  root: pass it as ``uid``);
- when the wrapped command ends, every process of the run is killed (the namespace's first
  process exits, and the kernel kills the rest of the PID namespace), including those started
  detached (``setsid``, double fork, ``nohup``). Killing the tool's process (a timeout) or the
  grader kills the run too (bwrap's ``--die-with-parent``; ``setpriv --pdeathsig`` and
  ``unshare --kill-child``).

The command's whole environment is the ``env`` given to :meth:`Isolation.wrap`, with defaults
for ``HOME`` and ``TMPDIR``; it travels on the tool's command line, so it must hold nothing
secret (a notebook can read its own environment anyway). The environment of the process that
starts the wrapped command is dropped (``env -i``), so pass the same ``env`` to
:class:`subprocess.Popen`: in mode ``"none"`` that is what the command gets.

``python -m checks.running.isolation`` reports which tool works here, or why none does.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MODES = ("auto", "namespaces", "none")
TOOLS = ("bubblewrap", "unshare")
HOME_INSIDE = "/tmp/home"
"""``HOME`` inside the namespaces, unless the caller's ``env`` sets another: in the private /tmp."""
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The ``checks`` package, bound read-only so that the kernel can import it."""
TMPFS_SIZE = 1 << 30
"""Bytes that ``/tmp`` and ``/dev/shm`` inside may each hold (they are in memory, which
``RLIMIT_AS`` does not count). Point ``TMPDIR`` into the work folder for big temporary files."""
PROBE_TIMEOUT = 30

NONE_WARNING = (
    "WARNING: submissions run WITHOUT isolation. Each notebook runs with your rights: it can read "
    "and change every file you can (solutions/, the answer and variant caches, other students' "
    "submissions, your home folder), use the network, and leave processes running. Grade "
    "untrusted submissions only with --isolation namespaces."
)

_ENV = "/usr/bin/env" if os.path.exists("/usr/bin/env") else "/bin/env"
_PROBE_CODE = (
    "import socket\n"
    "server = socket.socket()\n"
    "server.bind(('127.0.0.1', 0))\n"
    "server.listen()\n"
    "socket.create_connection(server.getsockname(), timeout=5).close()\n"
    "print('isolated')\n"
)


class IsolationUnavailable(RuntimeError):
    """Namespaces were asked for but cannot be used here; the message says why and what to do."""


@dataclass(frozen=True)
class Isolation:
    """How submissions run: ``mode`` is ``"bubblewrap"``, ``"unshare"`` or ``"none"``.

    ``executable`` is the tool's path; ``reason`` says why mode ``"none"`` was chosen by
    ``auto`` (what stopped namespaces, and what to do), or is empty.
    """

    mode: str
    executable: str | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        """Check the mode, and that a tool's mode has the tool's path."""
        if self.mode not in (*TOOLS, "none"):
            raise ValueError(f"unknown isolation mode {self.mode!r}")
        if self.mode != "none" and not self.executable:
            raise ValueError(f"mode {self.mode!r} needs the path of its executable")

    @property
    def isolated(self) -> bool:
        """Whether runs get namespaces of their own."""
        return self.mode != "none"

    @property
    def caps_tmpfs(self) -> bool:
        """Whether each run's ``/tmp`` and ``/dev/shm`` are held to their size here.

        ``unshare``'s setup always sets it; bubblewrap only from 0.7 on (``--size``); without
        namespaces a run has no private ``/tmp``.
        """
        if self.mode == "bubblewrap":
            return _bubblewrap_supports(self.executable or "bwrap", "--size")
        return self.mode == "unshare"

    def describe(self) -> str:
        """One line for the grader's report: which mode ran."""
        if self.isolated:
            return f"isolation: namespaces ({self.mode}, {self.executable})"
        return "isolation: none" + (f" ({self.reason.splitlines()[0]})" if self.reason else "")

    def wrap(
        self,
        command: Sequence[str],
        *,
        workdir: Path,
        env: Mapping[str, str],
        readonly: Sequence[Path] = (),
        cwd: Path | None = None,
        tmpfs_size: int = TMPFS_SIZE,
        uid: int | None = None,
    ) -> list[str]:
        """The command that runs ``command`` isolated, in ``cwd`` (default: ``workdir``).

        ``command``'s program must be inside the view (under the Python installation, or a
        system program). ``workdir`` is the run's folder, the only writable one besides
        ``/tmp``; it keeps its path inside, as do the ``readonly`` paths (for example the MNIST
        files). ``env`` is the command's whole environment; inside namespaces ``HOME`` defaults
        to :data:`HOME_INSIDE` and ``TMPDIR`` to ``/tmp``, and the folder holding the ``checks``
        package comes first on ``PYTHONPATH``. In mode ``"none"`` the command is returned
        unchanged: pass ``env`` to :class:`subprocess.Popen`, in every mode. ``tmpfs_size``
        caps ``/tmp`` and ``/dev/shm`` inside; ``uid`` is the user id the tool will be started
        as, if not this process's (``unshare`` maps it inside).
        """
        if not self.isolated:
            return list(command)
        workdir = Path(workdir).resolve()
        if not workdir.is_dir():
            raise ValueError(f"the work folder {workdir} is not a folder")
        inside = _environment(env)
        operations = _view(workdir, [Path(path) for path in readonly])
        folder = str(Path(cwd).resolve() if cwd is not None else workdir)
        assert self.executable is not None
        if self.mode == "bubblewrap":
            return _bubblewrap_command(
                self.executable, operations, inside, folder, command, tmpfs_size
            )
        return _unshare_command(
            self.executable, operations, inside, folder, command, tmpfs_size, uid
        )


def choose(requested: str = "auto") -> Isolation:
    """The isolation for ``grade --isolation requested``: ``auto``, ``namespaces`` or ``none``.

    ``namespaces`` raises :class:`IsolationUnavailable` when no tool works here; ``auto`` then
    falls back to mode ``"none"``, with the reason in :attr:`Isolation.reason`: the caller must
    warn loudly (:data:`NONE_WARNING`).
    """
    if requested not in MODES:
        raise ValueError(f"--isolation must be one of {', '.join(MODES)}, not {requested!r}")
    if requested == "none":
        return Isolation("none", reason="--isolation none")
    tool = probe()
    if tool is not None:
        return Isolation(tool, _executable(tool))
    message = unavailable_message()
    if requested == "namespaces":
        raise IsolationUnavailable(message)
    return Isolation("none", reason=message)


def probe() -> str | None:
    """Which tool isolates runs here, ``"bubblewrap"`` or ``"unshare"``, or None.

    Each installed tool really runs a small Python program isolated (loopback included), once
    per process; the answers are cached.
    """
    for tool in TOOLS:
        if _probe_result(tool) is None:
            return tool
    return None


def unavailable_message() -> str:
    """Why no tool isolates runs here, and what to do about it."""
    lines = ["Submissions cannot run in Linux namespaces here."]
    if not sys.platform.startswith("linux"):
        lines.append(
            f"Namespaces exist only on Linux, and this is {sys.platform}. Grade on a Linux "
            "machine, or inside a Linux virtual machine or container (Docker or Podman: "
            "`--security-opt seccomp=unconfined --security-opt apparmor=unconfined`, and "
            "install bubblewrap in it)."
        )
    else:
        results = _probe_results()
        lines += [f"- {tool}: {failure}" for tool, failure in results.items()]
        lines += _advice(results)
    lines.append(
        "Or, if this machine holds nothing a notebook must not see, use --isolation none "
        "(submissions then run with your rights)."
    )
    return "\n".join(lines)


# --- The view: one list of operations, for either tool -----------------------------------------


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    inside = {"HOME": HOME_INSIDE, "TMPDIR": "/tmp", **env}
    if PACKAGE_DIR.parent.name not in ("site-packages", "dist-packages"):
        inside["PYTHONPATH"] = os.pathsep.join(
            [str(PACKAGE_DIR.parent), *filter(None, [env.get("PYTHONPATH")])]
        )
    return inside


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _view(workdir: Path, readonly: Sequence[Path]) -> list[tuple[str, ...]]:
    """The operations that build the root, in order: each is a kind and paths.

    Kinds: ``tmpfs``, ``dir``, ``proc``, ``dev``, ``symlink`` (target, path), ``ro`` and ``rw``
    (a bind of the same path), ``hide`` (an unreadable file or folder of ``/etc``), and
    ``remount-ro`` (the root itself, last).
    """
    operations: list[tuple[str, ...]] = [
        ("tmpfs", "/tmp"),
        ("dir", HOME_INSIDE),
        ("proc", "/proc"),
        ("dev", "/dev"),
    ]
    wanted: list[Path] = []
    for name in SYSTEM_PATHS:
        path = Path(name)
        if path.is_symlink():
            operations.append(("symlink", os.readlink(path), name))
        elif path.is_dir():
            wanted.append(path)
    prefixes = {sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix}
    wanted += [Path(prefix).resolve() for prefix in sorted(prefixes)]
    wanted.append(PACKAGE_DIR)
    for path in readonly:
        if not path.is_absolute() or not path.exists():
            raise ValueError(f"a read-only path must exist and be absolute: {path}")
        wanted.append(path.resolve())
    binds: dict[Path, str] = {workdir: "rw"}
    for path in sorted(set(wanted), key=lambda path: len(path.parts)):
        if path == workdir or any(_is_within(path, bound) for bound in binds if bound != workdir):
            continue
        binds[path] = "ro"
    for path in sorted(binds, key=lambda path: (len(path.parts), str(path))):
        operations.append((binds[path], str(path)))
    if Path("/etc") in binds:
        operations += [("hide", path) for path in _unreadable("/etc")]
    operations.append(("remount-ro", "/"))
    return operations


@functools.cache
def _unreadable(top: str) -> tuple[str, ...]:
    """The files and folders under ``top`` that not every user may read (``/etc/shadow`` …)."""
    hidden = []
    for folder, subfolders, files in os.walk(top):
        for name in [*subfolders, *files]:
            path = os.path.join(folder, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue  # gone meanwhile
            if stat.S_ISDIR(mode) and (mode & 0o005) != 0o005:
                hidden.append(path)
                subfolders.remove(name)
            elif stat.S_ISREG(mode) and not mode & stat.S_IROTH:
                hidden.append(path)
    return tuple(hidden)


# --- bubblewrap ----------------------------------------------------------------------------------


def _bubblewrap_command(
    executable: str,
    operations: list[tuple[str, ...]],
    env: Mapping[str, str],
    cwd: str,
    command: Sequence[str],
    tmpfs_size: int = TMPFS_SIZE,
) -> list[str]:
    arguments = [
        _ENV,
        "-i",
        executable,
        "--unshare-user",
        "--unshare-pid",
        "--unshare-net",  # bwrap brings the new namespace's loopback up itself
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        "isolated",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
    ]
    for option in ("--disable-userns", "--clearenv"):  # bwrap 0.8, 0.5
        if _bubblewrap_supports(executable, option):
            arguments.append(option)
    for name, value in env.items():
        arguments += ["--setenv", name, value]
    size = ["--size", str(tmpfs_size)] if _bubblewrap_supports(executable, "--size") else []
    for kind, *paths in operations:
        if kind == "tmpfs":
            arguments += [*size, "--tmpfs", paths[0]]
        elif kind in ("dir", "proc"):
            arguments += [f"--{kind}", paths[0]]
        elif kind == "dev":
            arguments += ["--dev", paths[0], *size, "--tmpfs", "/dev/shm"]
        elif kind == "symlink":
            arguments += ["--symlink", *paths]
        elif kind in ("ro", "rw"):
            arguments += ["--ro-bind" if kind == "ro" else "--bind", paths[0], paths[0]]
        elif kind == "hide":
            if os.path.isdir(paths[0]):
                arguments += ["--tmpfs", paths[0], "--remount-ro", paths[0]]
            else:
                arguments += ["--ro-bind", "/dev/null", paths[0]]
        elif kind == "remount-ro":
            arguments += ["--remount-ro", paths[0]]
    return [*arguments, "--chdir", cwd, "--", *command]


@functools.cache
def _bubblewrap_supports(executable: str, option: str) -> bool:
    try:
        shown = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return option in shown.stdout + shown.stderr


# --- unshare -------------------------------------------------------------------------------------


def _unshare_command(
    executable: str,
    operations: list[tuple[str, ...]],
    env: Mapping[str, str],
    cwd: str,
    command: Sequence[str],
    tmpfs_size: int = TMPFS_SIZE,
    uid: int | None = None,
) -> list[str]:
    spec = {
        "operations": operations,
        "env": dict(env),
        "cwd": cwd,
        "command": list(command),
        "uid": os.getuid() if uid is None else uid,
        "gid": os.getgid() if uid is None else uid,
        "tmpfs_size": tmpfs_size,
    }
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin")
    # setpriv: the run dies with the grader (bwrap's --die-with-parent).
    die_with_parent = [setpriv, "--pdeathsig", "KILL"] if setpriv else []
    return [
        _ENV,
        "-i",
        *die_with_parent,
        executable,
        "--user",
        "--map-root-user",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child",
        "--net",
        "--ipc",
        "--uts",
        "--",
        sys.executable,
        "-I",
        "-S",
        str(Path(__file__).resolve()),
        "--setup",
        json.dumps(spec),
    ]


# --- Probing and advice --------------------------------------------------------------------------


def _executable(tool: str) -> str | None:
    return shutil.which("bwrap" if tool == "bubblewrap" else "unshare")


def _probe_results() -> dict[str, str | None]:
    """For each tool: None if it isolates a run here, else what went wrong."""
    return {tool: _probe_result(tool) for tool in TOOLS}


@functools.cache
def _probe_result(tool: str) -> str | None:
    executable = _executable(tool)
    if not sys.platform.startswith("linux"):
        return "Linux only"
    if executable is None:
        return "not installed"
    return _try(Isolation(tool, executable))


def _try(isolation: Isolation) -> str | None:
    with tempfile.TemporaryDirectory(prefix="checks-isolation-probe-") as workdir:
        command = isolation.wrap(
            [sys.executable, "-I", "-S", "-c", _PROBE_CODE], workdir=Path(workdir), env={}
        )
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{isolation.executable} failed: {error}"
    if done.returncode == 0 and done.stdout.strip() == "isolated":
        return None
    said = " ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-2:])
    return f"{isolation.executable} failed (exit code {done.returncode}): {said or 'no message'}"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _advice(results: Mapping[str, str | None]) -> list[str]:
    advice = []
    if all(failure == "not installed" for failure in results.values()):
        advice.append(
            "Install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu), "
            "`sudo dnf install bubblewrap` (Fedora), or util-linux for `unshare`."
        )
    if _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        advice.append(
            "AppArmor forbids unprivileged user namespaces here (Ubuntu 23.10 and later): "
            "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` allows them until "
            "the next boot; to keep it, put `kernel.apparmor_restrict_unprivileged_userns=0` in "
            "/etc/sysctl.d/60-userns.conf. Or allow bwrap alone: put `abi <abi/4.0>, include "
            "<tunables/global> profile bwrap /usr/bin/bwrap flags=(unconfined) { userns, }` in "
            "/etc/apparmor.d/bwrap and run `sudo systemctl reload apparmor`."
        )
    if _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        advice.append(
            "The kernel forbids unprivileged user namespaces: "
            "`sudo sysctl -w kernel.unprivileged_userns_clone=1`."
        )
    if _read("/proc/sys/user/max_user_namespaces") == "0":
        advice.append(
            "User namespaces are switched off: `sudo sysctl -w user.max_user_namespaces=15000`."
        )
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        advice.append(
            "This looks like a container, whose seccomp profile usually forbids namespaces: "
            "start it with `--security-opt seccomp=unconfined --security-opt apparmor=unconfined`,"
            " or grade on the host."
        )
    advice.append(
        "To check by hand: `unshare --user --map-root-user --net true` must succeed; "
        "`python -m checks.running.isolation` repeats this diagnosis."
    )
    return advice


# --- The setup step of unshare: runs as PID 1 of the new namespaces ------------------------------

_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_MNT_DETACH = 2
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_SYS_PIVOT_ROOT = {
    "x86_64": 155,
    "aarch64": 41,
    "arm64": 41,
    "riscv64": 41,
    "loongarch64": 41,
    "ppc64le": 203,
    "ppc64": 203,
    "s390x": 217,
    "i386": 217,
    "i686": 217,
    "armv7l": 218,
    "armv8l": 218,
}
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_NEW = "/newroot"
_OLD = "/oldroot"


class _Kernel:
    """The system calls the setup needs, through the C library."""

    def __init__(self) -> None:
        import ctypes
        import platform

        self.ctypes = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.mount.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_char_p,
        ]
        self.pivot_root_number = _SYS_PIVOT_ROOT.get(platform.machine())

    def _check(self, result: int, what: str) -> None:
        if result != 0:
            number = self.ctypes.get_errno()
            raise OSError(number, f"{what}: {os.strerror(number)}")

    def mount(
        self,
        source: str | None,
        target: str,
        kind: str | None = None,
        flags: int = 0,
        data: str | None = None,
    ) -> None:
        def encoded(text: str | None) -> bytes | None:
            return None if text is None else os.fsencode(text)

        result = self.libc.mount(
            encoded(source), encoded(target), encoded(kind), flags, encoded(data)
        )
        self._check(result, f"mount {source} on {target}")

    def umount(self, target: str, flags: int = 0) -> None:
        self._check(self.libc.umount2(os.fsencode(target), flags), f"umount {target}")

    def pivot_root(self, new: str, old: str) -> None:
        if self.pivot_root_number is None:
            raise OSError("pivot_root: unknown system call number on this machine")
        number = self.ctypes.c_long(self.pivot_root_number)
        result = self.libc.syscall(number, os.fsencode(new), os.fsencode(old))
        self._check(result, f"pivot_root {new}")

    def unshare(self, flags: int) -> None:
        self._check(self.libc.unshare(flags), "unshare")

    def prctl(self, option: int, argument: int) -> int:
        unsigned = self.ctypes.c_ulong
        return self.libc.prctl(option, unsigned(argument), unsigned(0), unsigned(0), unsigned(0))

    def sethostname(self, name: str) -> None:
        size = self.ctypes.c_size_t(len(name))
        self._check(self.libc.sethostname(name.encode(), size), "sethostname")


def _loopback_up() -> None:
    """Bring ``lo`` up in the new network namespace (``ip link set lo up``, without ``ip``)."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | _IFF_UP))


def _mount_points_under(target: str) -> list[str]:
    """The mount points at or under ``target``, from the mount table."""
    points = []
    with open(f"{_OLD}/proc/self/mountinfo") as table:
        for line in table:
            point = line.split()[4]
            for escape, character in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n")):
                point = point.replace(escape, character)
            point = point.replace("\\134", "\\")
            if point == target or point.startswith(target.rstrip("/") + "/"):
                points.append(point)
    return points


def _remount_read_only(kernel: _Kernel, target: str) -> None:
    """Make ``target`` and every mount under it read-only, keeping their other flags."""
    for point in _mount_points_under(target):
        kept = os.statvfs(point).f_flag & (_MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
        kernel.mount(None, point, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | kept)


def _mount_point(source: str, target: str) -> None:
    """Create ``target`` like ``source``: a folder, or an empty file."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            with open(target, "w"):
                pass


def _make_dev(kernel: _Kernel, dev: str, size: int) -> None:
    os.makedirs(dev, exist_ok=True)
    kernel.mount("tmpfs", dev, "tmpfs", _MS_NOSUID | _MS_NOEXEC, "mode=0755")
    for name in _DEVICES:
        if os.path.exists(f"{_OLD}/dev/{name}"):
            _mount_point(f"{_OLD}/dev/{name}", f"{dev}/{name}")
            kernel.mount(f"{_OLD}/dev/{name}", f"{dev}/{name}", None, _MS_BIND)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ):
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(f"{dev}/shm")
    options = f"mode=1777,size={size}"
    kernel.mount("tmpfs", f"{dev}/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, options)
    os.mkdir(f"{dev}/pts")
    with contextlib.suppress(OSError):  # no terminals inside then; nothing a notebook needs
        kernel.mount(
            "devpts", f"{dev}/pts", "devpts", _MS_NOSUID | _MS_NOEXEC, "newinstance,ptmxmode=0666"
        )


def _make_proc(kernel: _Kernel, proc: str) -> None:
    os.makedirs(proc, exist_ok=True)
    kernel.mount("proc", proc, "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    # At most one user namespace below this one: the one that locks the mounts (bwrap does the
    # same for --disable-userns), so the notebook cannot create any.
    with open(f"{proc}/sys/user/max_user_namespaces", "w") as limit:
        limit.write("1")
    for name in ("sys", "sysrq-trigger", "irq", "bus"):
        path = f"{proc}/{name}"
        if os.path.exists(path):
            kernel.mount(path, path, None, _MS_BIND | _MS_REC)
            _remount_read_only(kernel, path)


def _build(kernel: _Kernel, operations: list[list[str]], size: int = TMPFS_SIZE) -> None:
    """Build the view in /newroot from the host, seen in /oldroot (tmpfs of ``size`` bytes)."""
    for kind, *paths in operations:
        target = _NEW + paths[-1]
        if kind == "tmpfs":
            os.makedirs(target, exist_ok=True)
            options = f"mode=1777,size={size}"
            kernel.mount("tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, options)
        elif kind == "dir":
            os.makedirs(target, mode=0o700, exist_ok=True)
        elif kind == "proc":
            _make_proc(kernel, target)
        elif kind == "dev":
            _make_dev(kernel, target, size)
        elif kind == "symlink":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(paths[0], target)
        elif kind in ("ro", "rw"):
            _mount_point(_OLD + paths[0], target)
            kernel.mount(_OLD + paths[0], target, None, _MS_BIND | _MS_REC)
            if kind == "ro":
                _remount_read_only(kernel, target)
        elif kind == "hide":
            if os.path.isdir(target):
                kernel.mount(
                    "tmpfs", target, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV, "mode=0"
                )
            else:
                kernel.mount(f"{_OLD}/dev/null", target, None, _MS_BIND)
                _remount_read_only(kernel, target)
        elif kind == "remount-ro":
            kernel.mount(
                None, target, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
            )
        else:
            raise ValueError(f"unknown operation {kind}")


def _enter(kernel: _Kernel, spec: dict) -> None:
    """Set up the namespaces and the view; the caller is PID 1, root of a new user namespace."""
    _loopback_up()
    kernel.sethostname("isolated")
    kernel.mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    # bwrap's way: a tmpfs on /tmp becomes the root, the host's root moves to /oldroot, and the
    # view is built in /newroot from there; then /newroot becomes the root, the rest is dropped.
    kernel.mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755")
    os.mkdir(f"/tmp{_NEW}", 0o755)
    os.mkdir(f"/tmp{_OLD}", 0o755)
    kernel.pivot_root("/tmp", f"/tmp{_OLD}")
    os.chdir("/")
    kernel.mount(_NEW, _NEW, None, _MS_BIND | _MS_REC)
    _build(kernel, spec["operations"], spec.get("tmpfs_size", TMPFS_SIZE))
    os.chdir(_NEW)
    kernel.pivot_root(".", ".")
    kernel.umount(".", _MNT_DETACH)
    os.chdir("/")


def _become_the_command(kernel: _Kernel, spec: dict) -> None:
    """In the child: lock the view, drop every privilege, and exec the command."""
    import signal

    # A user namespace of its own, owned by the grader's uid: the mounts made above become
    # locked (cannot be remounted writable, nor unmounted to show what lies under them).
    kernel.unshare(_CLONE_NEWUSER | _CLONE_NEWNS)
    Path("/proc/self/uid_map").write_text(f"{spec['uid']} 0 1\n")
    Path("/proc/self/setgroups").write_text("deny\n")
    Path("/proc/self/gid_map").write_text(f"{spec['gid']} 0 1\n")
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        kernel.prctl(_PR_CAPBSET_DROP, capability)  # even uid 0 gets no capability at exec
    kernel.prctl(_PR_SET_NO_NEW_PRIVS, 1)
    for number in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them; the command must not
        signal.signal(number, signal.SIG_DFL)
    os.setsid()
    os.chdir(spec["cwd"])
    os.execvpe(spec["command"][0], spec["command"], spec["env"])


def _init(spec: dict) -> int:
    """PID 1: set up, start the command, reap orphans; return the command's exit status.

    When this process returns, the kernel kills every process left in the PID namespace.
    """
    kernel = _Kernel()
    try:
        _enter(kernel, spec)
    except OSError as error:
        print(f"checks isolation (unshare): cannot set up the view: {error}", file=sys.stderr)
        return 125
    child = os.fork()
    if child == 0:
        try:
            _become_the_command(kernel, spec)
        except OSError as error:
            print(
                f"checks isolation (unshare): cannot start {spec['command'][0]}: {error}",
                file=sys.stderr,
            )
        os._exit(127)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 125
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


def main(argv: Sequence[str]) -> int:
    """``--setup SPEC``: the setup step of ``unshare`` (internal); else report what works here."""
    if len(argv) == 2 and argv[0] == "--setup":
        return _init(json.loads(argv[1]))
    chosen = choose("auto")
    if not chosen.isolated:
        print(unavailable_message())
        return 1
    for tool, failure in _probe_results().items():
        print(f"{tool}: {'works' if failure is None else failure}")
    print(chosen.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
