"""A zip of submissions is checked member by member before anything is extracted.

Each hostile zip is made by hand (links, devices, ``..``, absolute paths, bombs, names that are
not UTF-8, duplicates) and must be refused with one line naming the problem, leaving the
destination empty; an honest zip extracts byte for byte.
"""

from __future__ import annotations

import io
import random
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from checks.grading.safe_zip import ZipLimits, ZipRefused, extract_zip


def make_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def special(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the mode in the high bits is read
    info.external_attr = mode << 16
    return info


def refused(archive: Path, destination: Path, limits: ZipLimits | None = None) -> str:
    with pytest.raises(ZipRefused) as caught:
        extract_zip(archive, destination, limits)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_an_honest_zip_extracts_byte_for_byte(tmp_path):
    members = [
        ("doejane_1001_9001_01_mnist_binary.ipynb", b"{}" * 1000),
        ("Jane Doe_5001_assignsubmission_file_/notes/readme.txt", "héllo".encode()),
        ("Jane Doe_5001_assignsubmission_file_/", b""),
    ]
    written = extract_zip(make_zip(tmp_path / "a.zip", members), tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "Jane Doe_5001_assignsubmission_file_/notes/readme.txt",
        "doejane_1001_9001_01_mnist_binary.ipynb",
    ]
    assert (tmp_path / "out" / members[0][0]).read_bytes() == members[0][1]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape.ipynb", "leaves the folder"),
        ("a/../../escape.ipynb", "leaves the folder"),
        ("..\\..\\escape.ipynb", "leaves the folder"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/x.ipynb", "absolute path"),
        ("\\\\server\\share\\x.ipynb", "absolute path"),
        ("a//b.ipynb", "empty path component"),
        ("./a.ipynb", "leaves the folder"),
        ("bad\nname.ipynb", "control character"),
        ("x" * 300 + ".ipynb", "longer than 255 bytes"),
    ],
)
def test_a_member_that_would_land_outside_refuses_the_whole_zip(tmp_path, name, reason):
    archive = make_zip(tmp_path / "a.zip", [("ok.ipynb", b"{}"), (name, b"{}")])
    message = refused(archive, tmp_path / "out")
    assert reason in message and "before extracting anything" in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "escape.ipynb").exists()


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (stat.S_IFLNK | 0o777, "symbolic link"),
        (stat.S_IFCHR | 0o666, "device, pipe or socket"),
        (stat.S_IFBLK | 0o666, "device, pipe or socket"),
        (stat.S_IFIFO | 0o666, "device, pipe or socket"),
    ],
)
def test_links_and_devices_are_refused(tmp_path, mode, reason):
    archive = make_zip(tmp_path / "a.zip", [(special("link.ipynb", mode), b"/etc/passwd")])
    assert reason in refused(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "link.ipynb").exists()


def test_duplicate_names_and_a_file_used_as_a_folder_are_refused(tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = make_zip(tmp_path / "twice.zip", [("a.ipynb", b"1"), ("a.ipynb", b"2")])
    assert "in the zip twice" in refused(twice, tmp_path / "out1")
    nested = make_zip(tmp_path / "nested.zip", [("a", b"1"), ("a/b.ipynb", b"2")])
    assert "inside a file of the zip" in refused(nested, tmp_path / "out2")
    # The same path written two ways (\\ is a separator) is a duplicate too.
    slashes = make_zip(tmp_path / "slashes.zip", [("d/a.ipynb", b"1"), ("d\\a.ipynb", b"2")])
    assert "in the zip twice" in refused(slashes, tmp_path / "out3")


def test_caps_on_members_and_declared_sizes(tmp_path):
    many = make_zip(tmp_path / "many.zip", [(f"{i}.ipynb", b"") for i in range(6)])
    assert "6 members, more than 5" in refused(many, tmp_path / "o1", ZipLimits(members=5))
    # A bomb: a small zip declaring much more than the cap (zeros compress ~1000:1).
    bomb = make_zip(tmp_path / "bomb.zip", [("big.ipynb", bytes(3_000_000))])
    assert bomb.stat().st_size < 20_000
    message = refused(bomb, tmp_path / "o2", ZipLimits(member_bytes=1_000_000))
    assert "declares 3,000,000 bytes, more than 1,000,000" in message
    total = make_zip(tmp_path / "total.zip", [("a", bytes(600)), ("b", bytes(600))])
    assert "more than 1,000 bytes" in refused(total, tmp_path / "o3", ZipLimits(total_bytes=1000))


def forge_declared_size(archive: Path, member: str, size: int) -> None:
    """Rewrite a member's declared uncompressed size in both of its headers (the data stays)."""
    data = bytearray(archive.read_bytes())
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_length_at = 26 if signature == b"PK\x03\x04" else 28
            name_length = struct.unpack_from("<H", data, start + name_length_at)[0]
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + name_length] == name:
                struct.pack_into("<I", data, start + offset, size)
            start += 4
    archive.write_bytes(bytes(data))


def test_a_member_whose_headers_understate_its_size_is_stopped_while_extracting(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("small.ipynb", bytes(500_000))])
    forge_declared_size(archive, "small.ipynb", 1000)
    with zipfile.ZipFile(archive) as opened:
        assert opened.getinfo("small.ipynb").file_size == 1000  # the lie is what zipfile reads
    message = refused(archive, tmp_path / "out")
    assert "small.ipynb" in message
    written = tmp_path / "out" / "small.ipynb"
    assert not written.exists() or written.stat().st_size <= 1000


def test_bytes_are_counted_while_extracting_whatever_the_zip_reader_returns(tmp_path, monkeypatch):
    """The count does not trust the zip library: a reader yielding more than declared stops."""
    archive = make_zip(tmp_path / "a.zip", [("a.ipynb", bytes(1000)), ("b.ipynb", bytes(1000))])
    real_open = zipfile.ZipFile.open

    def generous(self, member, *args, **kwargs):
        if getattr(member, "filename", member) == "b.ipynb":
            return io.BytesIO(bytes(5000))
        return real_open(self, member, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", generous)
    message = refused(archive, tmp_path / "out")
    assert "extraction stopped" in message
    assert "'b.ipynb' holds more bytes than it declares" in message
    assert (tmp_path / "out" / "b.ipynb").stat().st_size <= 1000


def test_a_member_list_too_large_for_the_cap_is_not_parsed(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [(f"{'n' * 200}{i}", b"") for i in range(40)])
    message = refused(archive, tmp_path / "out", ZipLimits(members=2))
    assert "member list" in message and "larger than 2 members need" in message


def test_names_that_are_not_utf8(tmp_path):
    # UTF-8 bytes without the zip's UTF-8 flag (macOS, some Windows tools): read as UTF-8.
    info = zipfile.ZipInfo("é.ipynb")
    archive = make_zip(tmp_path / "a.zip", [(info, b"{}")])
    data = archive.read_bytes()
    # Clear the UTF-8 flag (general purpose bit 11) in both headers.
    fixed = bytearray(data)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = fixed.find(signature)
        flags = struct.unpack_from("<H", fixed, start + flag_at)[0]
        struct.pack_into("<H", fixed, start + flag_at, flags & ~0x800)
    archive.write_bytes(bytes(fixed))
    assert [p.name for p in extract_zip(archive, tmp_path / "out")] == ["é.ipynb"]
    # Flagged UTF-8 but not: one line, not a traceback.
    latin = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = latin.find(signature)
        flags = struct.unpack_from("<H", latin, start + flag_at)[0]
        struct.pack_into("<H", latin, start + flag_at, flags | 0x800)
    latin = latin.replace("é".encode(), b"\xe9\xff")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(latin))
    assert "flagged UTF-8 but is not" in refused(bad, tmp_path / "out2")


def test_not_a_zip_and_a_truncated_zip_are_one_line(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip")
    assert "not a readable zip" in refused(junk, tmp_path / "o1")
    whole = make_zip(tmp_path / "whole.zip", [("a.ipynb", bytes(100_000))]).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[:200] + whole[-200:])
    assert refused(cut, tmp_path / "o2")


def test_a_destination_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "there.txt").write_text("x")
    archive = make_zip(tmp_path / "a.zip", [("a.ipynb", b"{}")])
    assert "not empty" in refused(archive, tmp_path / "out")


def test_an_encrypted_member_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("a.ipynb", b"{}")])
    data = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        flags = struct.unpack_from("<H", data, start + flag_at)[0]
        struct.pack_into("<H", data, start + flag_at, flags | 0x1)
    archive.write_bytes(bytes(data))
    assert "encrypted" in refused(archive, tmp_path / "out")


def test_a_high_ratio_bomb_is_refused_below_the_byte_caps(tmp_path):
    """A few kilobytes of zeros declaring megabytes: refused by its ratio, not by the caps."""
    bomb = make_zip(tmp_path / "bomb.zip", [("a.ipynb", bytes(2_000_000)), ("b.ipynb", b"{}")])
    assert bomb.stat().st_size < 10_000
    limits = ZipLimits(ratio=100, ratio_floor_bytes=100_000)
    message = refused(bomb, tmp_path / "out", limits)
    assert "100 times the zip's own size" in message and "before extracting anything" in message
    # The same members under the floor, or at a ratio the zip keeps, extract.
    assert extract_zip(bomb, tmp_path / "o2", ZipLimits(ratio_floor_bytes=3_000_000))
    noise = random.Random(0).randbytes(1_000_000)
    honest = make_zip(tmp_path / "honest.zip", [("a.ipynb", noise)])
    assert extract_zip(honest, tmp_path / "o3", limits)


@pytest.mark.parametrize(("bit", "what"), [(0x20, "patched data"), (0x40, "is encrypted")])
def test_flags_the_reader_cannot_open_refuse_the_zip_with_one_line(tmp_path, bit, what):
    """Patched data and strong encryption (general purpose bits 5 and 6): refused before
    anything is extracted, never NotImplementedError's traceback halfway through."""
    archive = make_zip(tmp_path / "a.zip", [("ok.ipynb", b"{}"), ("a.ipynb", b"{}" * 100)])
    data = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.rfind(signature)
        flags = struct.unpack_from("<H", data, start + flag_at)[0]
        struct.pack_into("<H", data, start + flag_at, flags | bit)
    archive.write_bytes(bytes(data))
    message = refused(archive, tmp_path / "out")
    assert "'a.ipynb'" in message and what in message and "before extracting anything" in message
    assert not (tmp_path / "out" / "ok.ipynb").exists()


def test_a_reader_that_fails_halfway_is_one_line(tmp_path, monkeypatch):
    """Whatever the zip library raises while extracting is one line naming the member."""
    archive = make_zip(tmp_path / "a.zip", [("a.ipynb", b"{}")])

    def unreadable(self, member, *args, **kwargs):
        raise NotImplementedError("strong encryption (flag bit 6)")

    monkeypatch.setattr(zipfile.ZipFile, "open", unreadable)
    message = refused(archive, tmp_path / "out")
    assert "'a.ipynb' cannot be extracted (strong encryption (flag bit 6))" in message
