"""Small file helpers shared by the package: atomic writes, safe reads, paths in messages.

Where the course's files are is :mod:`checks.layout`'s.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so that readers see the old file or the new one, never half."""
    make_folder(path.parent)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) atomically, like :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def read_regular_file(path: Path, limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``path``, or None unless it is a regular file.

    A link, a pipe or a device is never opened for reading: a file left by untrusted code (a
    notebook's record file) cannot make its reader follow it elsewhere, block, or read forever.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        return stream.read(limit)


def make_folder(path: Path, *, private: bool = False) -> Path:
    """Create ``path`` and any missing parents; return it.

    Every writer into a cache or configuration folder calls this first: on a new machine, with an
    empty home, none of them exists yet.

    Parameters
    ----------
    path : pathlib.Path
        The folder.
    private : bool, default False
        Readable by its owner only (mode 0700), also when it existed: for a folder that holds a
        secret.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    if private:
        path.chmod(0o700)
    return path


def shown_path(path: object, length: int = 80) -> str:
    r"""A path as a message quotes it: on one line, at most ``length`` characters.

    A control character (a newline, a tab) is written as its escape (``\n``), so a message
    stays on one line; a longer path keeps its start and its end (the file's name) around
    ``...``.

    Parameters
    ----------
    path : object
        A path (``str`` or path-like), or anything: it is shown as ``os.fspath`` or ``str`` gives.
    length : int, default 80
        The longest text returned.

    Returns
    -------
    str
        The path, escaped and shortened.

    Examples
    --------
    >>> print(shown_path("no\nsuch.csv"))
    no\nsuch.csv
    >>> len(shown_path("s" * 10_000))
    80
    """
    try:
        text = os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else str(path)
    except Exception:
        text = "this value"
    text = "".join(
        character if character.isprintable() else character.encode("unicode_escape").decode()
        for character in text
    )
    if len(text) <= length:
        return text
    head = (length - 3) // 2
    return text[:head] + "..." + text[len(text) - (length - 3 - head) :]
