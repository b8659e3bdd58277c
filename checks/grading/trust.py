"""The grader's trust anchors: its own files are checked before grading, its cache is signed.

What decides a grade is the grader's code and the answer keys (the ``checks`` package, with
``answer_keys.json``) and the hashed answers of the solutions under variants (the variant
cache). A submission that could rewrite them would change the *next* grading session, so:

- :func:`verify_installation` compares every file of the package with the installed
  distribution's ``RECORD`` (a regular install) or with the git commit it was checked out from
  (an editable install from the repository), and names the first file that differs;
- :func:`sign` and :func:`verify` authenticate each variant-cache entry with an HMAC whose
  secret is kept in the grader's config folder, readable by its owner only
  (:func:`grader_secret`); an entry that does not verify is recomputed, never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import subprocess
from importlib import metadata
from pathlib import Path

from checks.distribution import DISTRIBUTION
from checks.files import make_folder

SECRET_FILE = "grader-secret"
_IGNORED_PARTS = ("__pycache__",)


class UntrustedInstallation(RuntimeError):
    """The grader's own files differ from the version it was installed or checked out as."""


def package_folder() -> Path:
    """The folder the ``checks`` package is imported from (this module is in its ``grading/``)."""
    return Path(__file__).resolve().parent.parent


def _package_files(folder: Path) -> set[Path]:
    return {
        path
        for path in folder.rglob("*")
        if (path.is_file() or path.is_symlink())
        and not any(part in _IGNORED_PARTS for part in path.relative_to(folder).parts)
    }


def _is_editable(distribution: metadata.Distribution) -> bool:
    text = distribution.read_text("direct_url.json") or "{}"
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable"))
    except ValueError:
        return False


def _record_digest(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _verify_against_record(distribution: metadata.Distribution, folder: Path) -> str:
    """Every package file as the wheel's RECORD lists it, and no other file."""
    expected = {}
    for entry in distribution.files or []:
        located = Path(distribution.locate_file(entry)).resolve()
        if located.is_relative_to(folder) and entry.hash is not None:
            expected[located] = f"{entry.hash.mode}={entry.hash.value}"
    for path in sorted(_package_files(folder)):
        if path.resolve() not in expected:
            raise UntrustedInstallation(f"{path} is not part of the installed package")
        if path.is_symlink() or _record_digest(path) != expected[path.resolve()]:
            raise UntrustedInstallation(f"{path} differs from the installed package")
    missing = [path for path in expected if not path.is_file()]
    if missing:
        raise UntrustedInstallation(f"{missing[0]} is missing from the installed package")
    return f"the installed {DISTRIBUTION} {distribution.version}"


def _git(folder: Path, *arguments: str, stdin: str | None = None) -> str:
    completed = subprocess.run(
        ["git", "-C", str(folder), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if completed.returncode != 0:
        raise UntrustedInstallation(
            f"cannot verify {folder} against git ({completed.stderr.strip() or 'git failed'}): "
            "grade from a git checkout of the course, or from a regular install (pip install .)"
        )
    return completed.stdout


def _verify_against_git(folder: Path) -> str:
    """Every package file byte for byte as in the commit checked out, and no other file."""
    top = Path(_git(folder, "rev-parse", "--show-toplevel").strip())
    relative = folder.relative_to(top).as_posix()
    committed = {}
    for line in _git(top, "ls-tree", "-r", "HEAD", "--", relative).splitlines():
        info, _, name = line.partition("\t")
        mode, _, blob = info.split()
        committed[top / name] = (mode, blob)
    files = sorted(_package_files(folder))
    for path in files:
        if path not in committed:
            raise UntrustedInstallation(f"{path} is not in the commit checked out (git status)")
        if path.is_symlink() or committed[path][0] != "100644":
            raise UntrustedInstallation(f"{path} is not a plain file as committed")
    hashed = _git(
        top, "hash-object", "--no-filters", "--stdin-paths", stdin="\n".join(map(str, files))
    )
    for path, blob in zip(files, hashed.split(), strict=True):
        if blob != committed[path][1]:
            raise UntrustedInstallation(
                f"{path} differs from the commit checked out: restore it (git diff) before grading"
            )
    missing = [path for path in committed if not path.exists()]
    if missing:
        raise UntrustedInstallation(f"{missing[0]} is missing: restore it (git status)")
    head = _git(top, "rev-parse", "--short", "HEAD").strip()
    return f"git commit {head}"


def verify_installation() -> str:
    """Check the grader's package files; return what they were verified against.

    Raises
    ------
    UntrustedInstallation
        A file of the package (code, ``flags.toml``, ``answer_keys.json``) differs from the
        installed distribution or from the commit checked out, is added, or is missing; the
        message names it.
    """
    folder = package_folder()
    distribution = _installed_distribution()
    if distribution is None or _is_editable(distribution):
        return _verify_against_git(folder)
    return _verify_against_record(distribution, folder)


def _installed_distribution() -> metadata.Distribution | None:
    """The course's distribution as an installer wrote it (with a ``RECORD``), if any.

    A ``mnist_course.egg-info`` folder that an editable build leaves in the repository is not
    one: it lists no hashes, and it comes first on ``sys.path`` when Python runs from there.
    """
    for distribution in metadata.distributions(name=DISTRIBUTION):
        if distribution.read_text("RECORD") is not None:
            return distribution
    return None


def config_dir() -> Path:
    """The grader's own folder: ``$XDG_CONFIG_HOME/mnist-course`` (``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "mnist-course"


def grader_secret() -> bytes:
    """The secret that signs the variant cache, made on first use, readable by its owner only.

    A secret that others can read or write is replaced (and with it every signature).
    """
    path = make_folder(config_dir(), private=True) / SECRET_FILE
    try:
        info = path.lstat()
        usable = (
            stat.S_ISREG(info.st_mode)
            and info.st_mode & 0o077 == 0
            and info.st_uid == os.getuid()
            and info.st_size == 64
        )
        if usable:
            return bytes.fromhex(path.read_text(encoding="ascii"))
        path.unlink()
    except (FileNotFoundError, ValueError):
        pass
    secret = secrets.token_bytes(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(secret.hex())
    return secret


def sign(text: str) -> str:
    """The HMAC-SHA256 of ``text`` with the grader's secret."""
    return hmac.new(grader_secret(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(text: object, signature: object) -> bool:
    """Whether ``signature`` is the grader's HMAC of ``text`` (both must be strings)."""
    if not isinstance(text, str) or not isinstance(signature, str):
        return False
    return hmac.compare_digest(sign(text), signature)
