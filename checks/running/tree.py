"""Folder trees a submission controls: walked, measured, copied and removed at any depth.

A student folder, and whatever a run leaves in its work folder, may be hostile: 1,500 folders
deep, a million files, a 50 GB sparse file, links to anything, folders it made unreadable. Every
function here is iterative (no recursion, so no ``RecursionError``), looks at each entry with
``lstat`` and never follows a link, and :func:`remove_tree` works through file descriptors one
folder at a time, so neither the depth nor the length of a path can stop it.

:func:`measure` counts a folder's files, its apparent and on-disk bytes and its depth, stopping as
soon as one passes its :class:`TreeLimits`: what :func:`refusal` says before anything is copied.
:func:`copy_tree` copies only folders and regular files, keeping a sparse file's holes.
:func:`scratch_folder` is a temporary folder removed by :func:`remove_tree`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MIB = 1024**2
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class TreeLimits:
    """The most a student folder may hold to be copied for a run."""

    files: int = 2_000
    apparent_bytes: int = 512 * MIB  # what a copy would write, holes included
    disk_bytes: int = 512 * MIB
    depth: int = 32  # folders below the student's own


@dataclass(frozen=True)
class TreeSize:
    """What :func:`measure` saw (up to the first limit passed, if ``complete`` is false)."""

    files: int
    apparent_bytes: int
    disk_bytes: int
    depth: int
    complete: bool
    unreadable: str = ""  # a folder that could not be listed (no rights, a path too long)


def walk(top: Path, max_depth: int | None = None) -> Iterator[tuple[Path, list[str], list[str]]]:
    """Like :func:`os.walk`, without recursion and never following a link.

    Yields ``(folder, subfolders, files)`` top-down, sorted; ``files`` are the entries that are
    not folders (links, pipes and devices among them: the caller decides). Removing a name from
    ``subfolders`` skips it. Folders deeper than ``max_depth`` below ``top`` are not entered.
    An unreadable folder is yielded empty.
    """
    stack: list[tuple[Path, int]] = [(Path(top), 0)]
    while stack:
        folder, depth = stack.pop()
        subfolders, files = [], []
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.name)
                else:
                    files.append(entry.name)
        subfolders.sort()
        files.sort()
        yield folder, subfolders, files
        if max_depth is not None and depth >= max_depth:
            continue
        stack += [(folder / name, depth + 1) for name in reversed(subfolders)]


def measure(top: Path, limits: TreeLimits | None = None) -> TreeSize:
    """Files, apparent bytes, bytes on disk and depth of ``top``; links are counted, not followed.

    With ``limits``, stops at the first one passed (``complete`` is then false), so that a
    folder of a million files costs no more than reading past the limit.
    """
    files = apparent = disk = deepest = 0
    stack: list[tuple[Path, int]] = [(Path(top), 0)]
    while stack:
        folder, depth = stack.pop()
        deepest = max(deepest, depth)
        if limits is not None and deepest > limits.depth:
            return TreeSize(files, apparent, disk, deepest, False)
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    status = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(status.st_mode):
                        stack.append((Path(entry.path), depth + 1))
                        continue
                    files += 1
                    if stat.S_ISREG(status.st_mode):
                        apparent += status.st_size
                        disk += status.st_blocks * 512
                    if limits is not None and (
                        files > limits.files
                        or apparent > limits.apparent_bytes
                        or disk > limits.disk_bytes
                    ):
                        return TreeSize(files, apparent, disk, deepest, False)
        except OSError as error:
            return TreeSize(files, apparent, disk, deepest, False, error.strerror or str(error))
    return TreeSize(files, apparent, disk, deepest, True)


def refusal(top: Path, limits: TreeLimits) -> str | None:
    """Why ``top`` is too big to copy for a run (one line), or None if it is within ``limits``."""
    size = measure(top, limits)
    if size.complete:
        return None
    if size.unreadable:
        return f"a folder in it cannot be read ({size.unreadable})"
    if size.depth > limits.depth:
        return f"folders more than {limits.depth} deep"
    if size.files > limits.files:
        return f"more than {limits.files} files"
    return f"more than {limits.apparent_bytes // MIB} MiB of files (holes of sparse files count)"


def copy_tree(source: Path, target: Path) -> None:
    """Copy the folders and regular files of ``source`` into a new ``target``, holes kept.

    Links, pipes, sockets and devices are left out (a link could point at anything of the
    grader's). Check the tree with :func:`refusal` first: this copies whatever it finds.
    """
    for folder, _, names in walk(source):
        destination = target / folder.relative_to(source)
        destination.mkdir(mode=0o755, parents=destination == target)
        for name in names:
            path = folder / name
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    copy_file(path, destination / name)


def copy_file(source: Path, target: Path) -> None:
    """Copy a regular file, never through a link, writing only its data (a sparse file stays so)."""
    reader = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        size = os.fstat(reader).st_size
        writer = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            for start, end in _data_segments(reader, size):
                os.lseek(reader, start, os.SEEK_SET)
                os.lseek(writer, start, os.SEEK_SET)
                left = end - start
                while left > 0:
                    chunk = os.read(reader, min(left, MIB))
                    if not chunk:
                        break
                    os.write(writer, chunk)
                    left -= len(chunk)
            os.ftruncate(writer, size)
        finally:
            os.close(writer)
    finally:
        os.close(reader)


def _data_segments(descriptor: int, size: int) -> list[tuple[int, int]]:
    """The ``(start, end)`` ranges of a file holding data (all of it if holes are unknown)."""
    if not hasattr(os, "SEEK_DATA"):
        return [(0, size)]
    segments, offset = [], 0
    try:
        while offset < size:
            start = os.lseek(descriptor, offset, os.SEEK_DATA)
            end = os.lseek(descriptor, start, os.SEEK_HOLE)
            segments.append((start, end))
            offset = end
    except OSError as error:  # ENXIO: no data past offset; EINVAL: not supported here
        if error.errno != errno.ENXIO:
            return [(0, size)]
    return segments


def remove_tree(path: Path) -> None:
    """Remove ``path`` and everything under it, at any depth, never following a link.

    Works one folder at a time through file descriptors (a path 100,000 folders long is no
    harder than a short one), and gives back the rights a run may have taken from its own
    folders (``chmod 0``). A missing ``path`` is not an error.
    """
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return
        descriptor = os.open(path, _DIRECTORY_FLAGS)
    except FileNotFoundError:
        return
    names: list[str] = []  # the folders entered below ``path``, in order
    while True:
        child = _empty_files(descriptor)
        if child is not None:
            descriptor = _enter(descriptor, child)
            names.append(child)
            continue
        if not names:
            os.close(descriptor)
            break
        parent = os.open("..", _DIRECTORY_FLAGS, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = parent
        os.rmdir(names.pop(), dir_fd=descriptor)
    os.rmdir(path)


def _enter(descriptor: int, name: str) -> int:
    """Open the folder ``name`` in ``descriptor`` (made searchable if the run took that away)."""
    try:
        child = os.open(name, _DIRECTORY_FLAGS, dir_fd=descriptor)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=descriptor)
        child = os.open(name, _DIRECTORY_FLAGS, dir_fd=descriptor)
    finally:
        os.close(descriptor)
    return child


def _empty_files(descriptor: int) -> str | None:
    """Remove every non-folder entry of the open folder; return a subfolder's name, or None."""
    with contextlib.suppress(OSError):
        os.fchmod(descriptor, 0o700)  # a run may have made its folder read-only
    with os.scandir(descriptor) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                return entry.name
            os.unlink(entry.name, dir_fd=descriptor)
    return None


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A new private temporary folder, removed by :func:`remove_tree` whatever it holds."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        remove_tree(folder)
