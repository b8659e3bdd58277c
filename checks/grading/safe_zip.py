r"""Unpack a zip as an LMS downloads it, after checking every member: :func:`extract_zip`.

A class's submissions arrive as one zip from Canvas or Moodle, made of files that students
named. Before anything is written, every member is checked, and one bad member refuses the
whole zip with a one-line :class:`ZipRefused` naming it:

- its path stays inside the folder: no ``..`` or ``.`` component, no absolute path (``/x``,
  ``C:x``, ``\\server``), no empty component, no NUL or control character, no name or
  component longer than a file system allows (``\`` counts as a separator, as Windows tools
  write it);
- it is a regular file or a folder: no symbolic link, device, pipe or socket (the Unix mode
  stored in the zip), and it is not encrypted;
- no two members land on the same path, and no file is also a folder of another member;
- the zip is not a bomb: at most :attr:`ZipLimits.members` members, none declared larger than
  :attr:`ZipLimits.member_bytes`, all together not declared larger than
  :attr:`ZipLimits.total_bytes` nor, past :attr:`ZipLimits.ratio_floor_bytes`, more than
  :attr:`ZipLimits.ratio` times the zip's own size (members that share their compressed data,
  or a few kilobytes of zeros declaring gigabytes), and a central directory no larger than
  those members need (read before the member list is built, so millions of tiny entries are
  never parsed).

While extracting, the bytes actually written are counted: a member that yields more than it
declared, or a zip that goes past the total, stops the extraction with the same kind of error
(a corrupt member, a wrong checksum, too). Files are created afresh (``O_EXCL``) in a folder
that must be empty, so nothing is followed or overwritten.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from checks.files import shown_path

MIB = 1024**2


class ZipRefused(ValueError):
    """A zip that is not extracted: unreadable, or a member that is unsafe or too large."""


@dataclass(frozen=True)
class ZipLimits:
    """How much a zip of submissions may hold.

    ``ratio`` bounds the bytes extracted by the zip's own size: notebooks compress a few times
    (ten or twenty for long repeated outputs), a bomb a thousand times. Below
    ``ratio_floor_bytes`` in all, any ratio is accepted.
    """

    members: int = 20_000
    member_bytes: int = 200 * MIB
    total_bytes: int = 4096 * MIB
    ratio: int = 100
    ratio_floor_bytes: int = 64 * MIB


@dataclass(frozen=True)
class Member:
    """One checked member: its ``ZipInfo`` and the relative path it is written to."""

    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    is_dir: bool


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_COMPONENT_BYTES = 255
_MAX_PATH_CHARACTERS = 1024
_CHUNK = 64 * 1024
# The smallest central-directory entry is 46 bytes plus its name; allow long names and extras.
_DIRECTORY_BYTES_PER_MEMBER = 46 + _MAX_PATH_CHARACTERS + 512
_SUPPORTED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2)
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAGS = 0x1 | 0x40  # traditional, strong
_PATCHED_DATA_FLAG = 0x20


def _shown(name: str) -> str:
    return repr(shown_path(name))


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as text: UTF-8 when flagged or when its bytes are UTF-8, else CP437.

    Many tools (macOS's, Windows' Explorer in some locales) write UTF-8 names without setting
    the zip's UTF-8 flag; Python then decodes them as CP437, the format's historical encoding.

    Parameters
    ----------
    info : zipfile.ZipInfo
        The member, as :mod:`zipfile` read it.

    Returns
    -------
    str
        Its name, unchecked (see :func:`check_members`).
    """
    name = info.orig_filename
    if not info.flag_bits & _UTF8_FLAG:
        # Truly CP437 (or another legacy encoding): kept as Python decoded it.
        with contextlib.suppress(UnicodeError):
            name = name.encode("cp437").decode("utf-8")
    return name


def _path_problem(name: str) -> str | None:
    """Why a member's name cannot be written inside the folder, or None if it can."""
    if "\x00" in name:
        return "has a NUL character in its name"
    if _CONTROL.search(name):
        return "has a control character in its name"
    if len(name) > _MAX_PATH_CHARACTERS:
        return f"has a name longer than {_MAX_PATH_CHARACTERS} characters"
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        return "is an absolute path"
    parts = path.rstrip("/").split("/")
    if any(part in ("..", ".") for part in parts):
        return f"leaves the folder (a {'..' if '..' in parts else '.'} component)"
    if any(part == "" for part in parts):
        return "has an empty path component"
    if any(len(part.encode("utf-8", "surrogateescape")) > _MAX_COMPONENT_BYTES for part in parts):
        return f"has a path component longer than {_MAX_COMPONENT_BYTES} bytes"
    return None


def _kind_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a member is not a plain file or folder (link, device, encrypted...), or None."""
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    if kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
        return "is a device, pipe or socket"
    if info.flag_bits & _ENCRYPTED_FLAGS:
        return "is encrypted"
    if info.flag_bits & _PATCHED_DATA_FLAG:
        return "uses patched data, which cannot be extracted"
    if info.compress_type not in _SUPPORTED_COMPRESSION:
        return f"uses an unsupported compression method ({info.compress_type})"
    return None


def _central_directory_size(path: Path) -> int | None:
    """The size of the zip's central directory as its end record declares it, if readable."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:  # a Python without the helper: the member count still bounds it
        return None
    try:
        with path.open("rb") as stream:
            record = end_record(stream)
    except (OSError, struct.error, ValueError):
        return None
    return None if not record else int(record[zipfile._ECD_SIZE])


def _open(path: Path, limits: ZipLimits) -> zipfile.ZipFile:
    """The zip, opened once its central directory is known to be of a sane size."""
    if not path.is_file():
        raise ZipRefused(f"{shown_path(path)} is not a file")
    directory = _central_directory_size(path)
    if directory is not None and directory > limits.members * _DIRECTORY_BYTES_PER_MEMBER:
        raise ZipRefused(
            f"{shown_path(path)} refused: its member list ({directory:,} bytes) is larger than "
            f"{limits.members:,} members need"
        )
    try:
        return zipfile.ZipFile(path)
    except UnicodeDecodeError:
        raise ZipRefused(
            f"{shown_path(path)} refused: a member's name is flagged UTF-8 but is not"
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise ZipRefused(f"{shown_path(path)} is not a readable zip ({error})") from None


def _archive_bytes(archive: zipfile.ZipFile) -> int:
    """The size of the zip file itself (0 if it cannot be told)."""
    stream = archive.fp
    if stream is None:
        return 0
    position = stream.tell()
    try:
        return stream.seek(0, os.SEEK_END)
    finally:
        stream.seek(position)


def check_members(archive: zipfile.ZipFile, limits: ZipLimits) -> list[Member]:
    """Every member of ``archive``, checked; raise :class:`ZipRefused` at the first bad one.

    Parameters
    ----------
    archive : zipfile.ZipFile
        The opened zip.
    limits : ZipLimits
        The caps on members, and on declared bytes per member and in all.

    Returns
    -------
    list of Member
        The members in the zip's order, each with the path it is to be written to.

    Raises
    ------
    ZipRefused
        A member is unsafe (path, kind), two members collide, or a cap (members, bytes, the
        ratio of bytes to the zip's size) is passed.
    """
    infos = archive.infolist()
    if len(infos) > limits.members:
        raise ZipRefused(f"it has {len(infos):,} members, more than {limits.members:,}")
    members: list[Member] = []
    files: set[tuple[str, ...]] = set()
    folders: set[tuple[str, ...]] = set()
    total = 0
    bomb_bytes = max(limits.ratio_floor_bytes, limits.ratio * _archive_bytes(archive))
    for info in infos:
        name = member_name(info)
        problem = _path_problem(name) or _kind_problem(info)
        if problem:
            raise ZipRefused(f"member {_shown(name)} {problem}")
        if info.file_size > limits.member_bytes:
            raise ZipRefused(
                f"member {_shown(name)} declares {info.file_size:,} bytes, more than "
                f"{limits.member_bytes:,}"
            )
        total += info.file_size
        if total > limits.total_bytes:
            raise ZipRefused(f"its members declare more than {limits.total_bytes:,} bytes")
        if total > bomb_bytes:
            raise ZipRefused(
                f"its members declare over {limits.ratio} times the zip's own size (more than "
                f"{bomb_bytes:,} bytes): a zip bomb?"
            )
        is_dir = name.endswith(("/", "\\"))
        parts = tuple(name.replace("\\", "/").rstrip("/").split("/"))
        if parts in files or (not is_dir and parts in folders):
            raise ZipRefused(f"member {_shown(name)} is in the zip twice")
        for depth in range(1, len(parts)):
            if parts[:depth] in files:
                raise ZipRefused(f"member {_shown(name)} is inside a file of the zip")
            folders.add(parts[:depth])
        (folders if is_dir else files).add(parts)
        members.append(Member(info, parts, is_dir))
    return members


def _write(archive: zipfile.ZipFile, member: Member, target: Path, budget: int) -> int:
    """Write one file member, counting its bytes; return how many were written."""
    written = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags, 0o600)
    with os.fdopen(descriptor, "wb") as out, archive.open(member.info) as source:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > member.info.file_size:
                raise ZipRefused(
                    f"member {_shown('/'.join(member.parts))} holds more bytes than it declares"
                )
            if written > budget:
                raise ZipRefused("its members hold more bytes than the cap")
            out.write(chunk)
    return written


def extract_zip(
    path: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    limits: ZipLimits | None = None,
) -> list[Path]:
    """Check every member of the zip at ``path``, then extract it into ``destination``.

    Parameters
    ----------
    path : str or path-like
        The zip, as the LMS downloaded it.
    destination : str or path-like
        An empty folder (created if missing) to extract into.
    limits : ZipLimits, default=None
        Caps on members and bytes; by default :class:`ZipLimits`'s.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ZipRefused
        The zip cannot be read, a member is unsafe or too large (nothing is written then), or
        the extraction met more bytes than declared or a corrupt member (what was written so far
        is left in ``destination``, for the caller to delete).

    Examples
    --------
    >>> extract_zip("submissions.zip", "unpacked/")  # doctest: +SKIP
    [PosixPath('unpacked/doejane_1001_9001_01_mnist_binary.ipynb'), ...]
    """
    path, destination = Path(path), Path(destination)
    limits = limits or ZipLimits()
    with _open(path, limits) as archive:
        try:
            members = check_members(archive, limits)
        except ZipRefused as error:
            message = f"{shown_path(path)} refused before extracting anything: {error}"
            raise ZipRefused(message) from None
        destination.mkdir(parents=True, exist_ok=True)
        if any(destination.iterdir()):
            raise ZipRefused(f"{shown_path(destination)} is not empty: extract into a new folder")
        written: list[Path] = []
        budget = limits.total_bytes
        for member in members:
            target = destination.joinpath(*member.parts)
            try:
                if member.is_dir:
                    target.mkdir(parents=True, exist_ok=True, mode=0o700)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                budget -= _write(archive, member, target, budget)
            except ZipRefused as error:
                raise ZipRefused(f"{shown_path(path)}: extraction stopped: {error}") from None
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                OSError,
                ValueError,
                NotImplementedError,  # what the zip library cannot read
                RuntimeError,  # a member it takes to be encrypted
            ) as error:
                raise ZipRefused(
                    f"{shown_path(path)}: member {_shown('/'.join(member.parts))} cannot be "
                    f"extracted ({error})"
                ) from None
            written.append(target)
    return written
