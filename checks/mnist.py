"""Load MNIST exactly as ``fetch_openml("mnist_784", as_frame=False)`` does, online or offline.

Sources, tried in order:

1. a folder of the original IDX files (``.gz`` or raw), given as ``data_dir`` or by the
   environment variable ``MNIST_DATA_DIR``; every file is verified by SHA-256;
2. the local cache written after the first successful load (raw IDX files, verified too);
3. :func:`sklearn.datasets.fetch_openml`, when the machine is online.

Whatever the source, the result is the same: ``data`` is a float64 array of shape (70000, 784),
the 60,000 training images first in their original order, then the 10,000 test images; ``target``
is an object array of the strings ``'0'`` to ``'9'``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from checks.files import atomic_write_bytes, make_folder
from checks.layout import cache_dir as course_cache_dir

if TYPE_CHECKING:
    from sklearn.utils import Bunch

DATA_DIR_VARIABLE = "MNIST_DATA_DIR"
CACHE_DIR_VARIABLE = "MNIST_CACHE_DIR"
#: A data folder may hold, beside the four files, this manifest of their SHA-256 digests:
#: ``{"withheld": "mnist_test", "sha256": {"train_images": "...", ...}}``. The grader writes it
#: when it deals MNIST for a run with some labels withheld (:mod:`checks.grading.withheld`); the
#: files are then verified against it instead of the original digests.
DEALT_MANIFEST = "dealt.json"
N_TRAIN, N_TEST, N_PIXELS = 60_000, 10_000, 28 * 28


@dataclass(frozen=True)
class IdxFile:
    """One of the four files of the original MNIST distribution."""

    name: str
    sha256: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        """The file's size in bytes, gunzipped: its IDX header and one byte per value."""
        return 4 + 4 * len(self.shape) + math.prod(self.shape)


# The SHA-256 of each file after gunzip: the well-known digests of the original distribution.
IDX_FILES = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        (N_TRAIN, 28, 28),
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        (N_TRAIN,),
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        (N_TEST, 28, 28),
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        (N_TEST,),
    ),
}

HOW_TO_GET_MNIST = (
    "To work offline, download the four MNIST IDX files once (train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into a "
    f"folder and set {DATA_DIR_VARIABLE} to it, e.g. `export {DATA_DIR_VARIABLE}=~/data/mnist` "
    "(or pass data_dir=... to fetch_mnist). Or connect to the internet once: the first load from "
    "OpenML is cached and later loads work offline."
)


class MnistError(RuntimeError):
    """MNIST could not be loaded; the message says why and what to do."""


class CorruptMnistFile(MnistError):
    """A file holds something other than the original MNIST bytes."""


def fetch_mnist(data_dir: str | os.PathLike[str] | None = None, *, verbose: bool = True) -> Bunch:
    """Load the MNIST digits, as ``fetch_openml("mnist_784", as_frame=False)`` does, offline too.

    The sources are tried in order: a folder of the original IDX files (``data_dir``, else the
    environment variable ``MNIST_DATA_DIR``), the local cache written by an earlier load
    (``MNIST_CACHE_DIR``, default ``~/.cache/mnist-course``), then OpenML. Every file is
    verified by its SHA-256, so a corrupt or truncated file is named, never loaded.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        A folder holding the four original IDX files, gzipped (``train-images-idx3-ubyte.gz``...)
        or not. When None, ``MNIST_DATA_DIR`` is used if set, else the cache, else OpenML.
    verbose : bool, default=True
        Print one line saying where the data came from.

    Returns
    -------
    sklearn.utils.Bunch
        Dictionary-like object, with the same attributes as ``fetch_openml`` gives:

        data : ndarray of shape (70000, 784), dtype float64
            Pixel intensities from 0 to 255; the 60,000 training images first, in their
            original order, then the 10,000 test images.
        target : ndarray of shape (70000,), dtype object
            The labels, the strings ``'0'`` to ``'9'``.
        feature_names : list of str
            ``'pixel1'`` to ``'pixel784'``.
        frame, categories, target_names, DESCR, details, url
            As ``fetch_openml`` sets them (``frame`` is None).

    Raises
    ------
    CorruptMnistFile
        A file's content is not the original MNIST; the message names the file.
    MnistError
        No source worked; the message says how to get the data.

    See Also
    --------
    sklearn.datasets.fetch_openml : The online loader this function stands in for.

    Examples
    --------
    >>> import checks
    >>> mnist = checks.fetch_mnist()  # doctest: +SKIP
    MNIST: 70,000 images loaded from the local cache in ~/.cache/mnist-course.
    >>> X, y = mnist.data, mnist.target  # doctest: +SKIP
    >>> X.shape, y[:3]  # doctest: +SKIP
    ((70000, 784), array(['5', '0', '4'], dtype=object))
    """
    raw, source = _raw_mnist(data_dir)
    if verbose:
        print(f"MNIST: 70,000 images loaded from {source}.")
    return _as_openml_bunch(raw)


def fetch_mnist_test_labels(data_dir: str | os.PathLike[str] | None = None) -> np.ndarray:
    """MNIST's 10,000 test labels, ``fetch_mnist().target[60000:]``, without the images' memory.

    It reads the same sources as :func:`fetch_mnist`, in the same order, each file verified,
    but builds no 70,000 x 784 array of floats.

    Parameters
    ----------
    data_dir : str or path-like, optional
        As for :func:`fetch_mnist`.

    Returns
    -------
    numpy.ndarray
        10,000 labels, the strings ``'0'`` to ``'9'`` (dtype object, as OpenML gives them).

    Raises
    ------
    MnistError
        If MNIST is not available, as for :func:`fetch_mnist`.
    """
    raw, _ = _raw_mnist(data_dir)
    return _digit_names()[parse_idx(raw["test_labels"])]


def fetch_mnist_pixels(
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The 70,000 images and labels in :func:`fetch_mnist`'s order, as compact whole numbers.

    The same sources as :func:`fetch_mnist`, each file verified, but no float64 copy: the
    images are 55 MB of unsigned bytes instead of 439 MB of floats.

    Parameters
    ----------
    data_dir : str or path-like, optional
        As for :func:`fetch_mnist`.

    Returns
    -------
    images : numpy.ndarray
        Shape (70000, 784), dtype uint8, pixel values 0-255, read-only.
    labels : numpy.ndarray
        Shape (70000,), dtype uint8, the digits 0-9, read-only.

    Raises
    ------
    MnistError
        If MNIST is not available, as for :func:`fetch_mnist`.
    """
    raw, _ = _raw_mnist(data_dir)
    images = np.concatenate([parse_idx(raw["train_images"]), parse_idx(raw["test_images"])])
    labels = np.concatenate([parse_idx(raw["train_labels"]), parse_idx(raw["test_labels"])])
    images = images.reshape(len(images), N_PIXELS)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _raw_mnist(data_dir: str | os.PathLike[str] | None) -> tuple[dict[str, bytes], str]:
    """The four verified IDX files' bytes from the first source that has them, and its name."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_VARIABLE) or None
    if chosen is not None:
        raw = read_idx_folder(Path(chosen).expanduser())
        source = f"IDX files in {_shown(Path(chosen))}"
        if not (Path(chosen).expanduser() / DEALT_MANIFEST).is_file():  # never cache a dealing
            _write_cache_quietly(raw)
    elif (cached := _read_cache()) is not None:
        raw, source = cached, f"the local cache in {_shown(cache_dir())}"
    else:
        raw = _raw_from_openml()
        source = "OpenML (now cached for offline use)"
        _write_cache_quietly(raw)
    return raw, source


def _shown(path: Path) -> str:
    """A path as the user would type it: the home folder as ``~``."""
    try:
        return str(Path("~") / path.expanduser().resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)


# --- IDX files -----------------------------------------------------------------------------


def read_idx_folder(folder: Path) -> dict[str, bytes]:
    """Read and verify the four IDX files in ``folder``; return their raw (gunzipped) bytes."""
    if not folder.is_dir():
        raise MnistError(
            f"{DATA_DIR_VARIABLE} / data_dir points to {folder}, which is not a folder. "
            + HOW_TO_GET_MNIST
        )
    digests = _dealt_digests(folder)
    return {
        key: _read_verified(_find_idx_file(folder, spec), spec, digests.get(key))
        for key, spec in IDX_FILES.items()
    }


def _dealt_digests(folder: Path) -> dict[str, str]:
    """The digests a grader's manifest (:data:`DEALT_MANIFEST`) declares, or none."""
    path = folder / DEALT_MANIFEST
    if not path.is_file():
        return {}
    try:
        declared = json.loads(path.read_text(encoding="utf-8"))["sha256"]
        return {key: str(declared[key]) for key in IDX_FILES}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CorruptMnistFile(f"{path} is not a manifest of the four files ({error})") from error


def _find_idx_file(folder: Path, spec: IdxFile) -> Path:
    dotted = spec.name.replace("-idx", ".idx")  # some mirrors name them train-images.idx3-ubyte
    for stem in (spec.name, dotted):
        for suffix in (".gz", ""):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    raise MnistError(f"{spec.name}(.gz) is missing from {folder}. " + HOW_TO_GET_MNIST)


def _declared_size(header: bytes, path: Path) -> int:
    """The size in bytes an IDX file's header declares (header included)."""
    if len(header) < 4 or header[:2] != b"\x00\x00" or header[2] != 0x08:
        raise CorruptMnistFile(f"{path} is not an IDX file of unsigned bytes; download it again.")
    n_dims = header[3]
    if len(header) < 4 + 4 * n_dims:
        raise CorruptMnistFile(f"{path} ends inside its IDX header; download it again.")
    shape = [int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims)]
    return 4 + 4 * n_dims + math.prod(shape)


def _read_bounded(stream: BinaryIO, path: Path, spec: IdxFile) -> bytes:
    """Read an IDX stream, never more than its header declares nor than ``spec``'s size.

    A file declaring another size, or going on past what it declares (a gzip bomb behind a
    valid header), is refused after reading at most one byte too many.
    """
    start = stream.read(4)
    header = start + stream.read(4 * start[3] if len(start) == 4 else 0)
    declared = _declared_size(header, path)
    if declared != spec.size:
        raise CorruptMnistFile(
            f"{path} is not the original {spec.name}: its IDX header declares {declared:,} bytes, "
            f"the original has {spec.size:,}. Download it again."
        )
    body = stream.read(declared - len(header) + 1)
    if len(header) + len(body) > declared:
        raise CorruptMnistFile(
            f"{path} is not the original {spec.name}: it holds more than the {declared:,} bytes "
            "its IDX header declares (a corrupt file or a decompression bomb). Download it again."
        )
    return header + body


def _read_verified(path: Path, spec: IdxFile, sha256: str | None = None) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                content = _read_bounded(stream, path, spec)
        else:
            with path.open("rb") as stream:
                content = _read_bounded(stream, path, spec)
    except (OSError, EOFError, zlib.error) as error:
        raise CorruptMnistFile(
            f"{path} cannot be read ({error}); it is truncated or corrupt. "
            "Download it again from the original MNIST distribution."
        ) from error
    digest = hashlib.sha256(content).hexdigest()
    expected = sha256 or spec.sha256
    if digest != expected:
        raise CorruptMnistFile(
            f"{path} is not the original {spec.name}: its SHA-256 is {digest}, expected "
            f"{expected} ({len(content):,} bytes read). It is truncated, corrupt or another "
            "data set; download it again."
        )
    return content


def parse_idx(content: bytes) -> np.ndarray:
    """Parse an IDX byte string (big-endian header, unsigned bytes) into a uint8 array."""
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] != 0x08:
        raise CorruptMnistFile("not an IDX file of unsigned bytes")
    n_dims = content[3]
    header_size = 4 + 4 * n_dims
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    if len(content) != header_size + int(np.prod(shape)):
        raise CorruptMnistFile(
            f"IDX size mismatch: header says {shape}, file has {len(content)} bytes"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def to_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX bytes (the inverse of :func:`parse_idx`)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


# --- The OpenML-shaped result --------------------------------------------------------------


def _digit_names() -> np.ndarray:
    """The labels as OpenML writes them: the strings ``'0'`` to ``'9'``, indexed by digit."""
    return np.array([str(digit) for digit in range(10)], dtype=object)


def _as_openml_bunch(raw: dict[str, bytes]) -> Bunch:
    from sklearn.utils import Bunch

    images = np.concatenate([parse_idx(raw["train_images"]), parse_idx(raw["test_images"])])
    labels = np.concatenate([parse_idx(raw["train_labels"]), parse_idx(raw["test_labels"])])
    digit_names = _digit_names()
    return Bunch(
        data=images.reshape(len(images), N_PIXELS).astype(np.float64),
        target=digit_names[labels],
        frame=None,
        categories={},
        feature_names=[f"pixel{i}" for i in range(1, N_PIXELS + 1)],
        target_names=["class"],
        DESCR=(
            "The MNIST database of handwritten digits (Yann LeCun, Corinna Cortes, Christopher "
            "J.C. Burges): 70,000 28x28 grayscale images, 60,000 for training then 10,000 for "
            "testing. Same content and order as OpenML data set 554 (mnist_784)."
        ),
        details={"id": "554", "name": "mnist_784", "version": "1", "format": "ARFF"},
        url="https://www.openml.org/d/554",
    )


def _raw_from_openml() -> dict[str, bytes]:
    """Fetch MNIST from OpenML and turn it back into the original IDX bytes, verified."""
    from sklearn.datasets import fetch_openml

    try:
        mnist = fetch_openml("mnist_784", version=1, as_frame=False)
    except Exception as error:
        raise MnistError(
            "MNIST is not available: no data folder was given, there is no local cache yet, "
            f"and OpenML could not be reached ({type(error).__name__}: {error}). "
            + HOW_TO_GET_MNIST
        ) from error
    images = np.asarray(mnist.data).reshape(-1, 28, 28)
    labels = np.asarray(mnist.target).astype(np.uint8)
    split = {
        "train_images": images[:N_TRAIN],
        "train_labels": labels[:N_TRAIN],
        "test_images": images[N_TRAIN:],
        "test_labels": labels[N_TRAIN:],
    }
    raw = {key: to_idx(array.astype(np.uint8)) for key, array in split.items()}
    for key, content in raw.items():
        if hashlib.sha256(content).hexdigest() != IDX_FILES[key].sha256:
            raise CorruptMnistFile(
                f"OpenML returned data that differs from the original MNIST ({key})."
            )
    return raw


# --- Local cache ---------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where the cache lives: ``MNIST_CACHE_DIR``, else ``$XDG_CACHE_HOME/mnist-course``."""
    if os.environ.get(CACHE_DIR_VARIABLE):
        return Path(os.environ[CACHE_DIR_VARIABLE]).expanduser()
    return course_cache_dir()


def _read_cache() -> dict[str, bytes] | None:
    folder = cache_dir()
    if not all((folder / spec.name).is_file() for spec in IDX_FILES.values()):
        return None
    try:
        return read_idx_folder(folder)
    except MnistError as error:
        warnings.warn(
            f"Ignoring the MNIST cache: {error} It is rewritten from the next good source.",
            stacklevel=3,
        )
        return None


def _holds(path: Path, content: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``content`` (never reading more than that)."""
    try:
        if not path.is_file() or path.stat().st_size != len(content):
            return False
        with path.open("rb") as stream:
            return stream.read(len(content)) == content
    except OSError:
        return False


def _write_cache_quietly(raw: dict[str, bytes]) -> None:
    """Write the verified IDX files to the cache, repairing any cache file that differs.

    Writes are atomic; a failure only costs speed.
    """
    folder = cache_dir()
    try:
        make_folder(folder)
        for key, spec in IDX_FILES.items():
            target = folder / spec.name
            if not _holds(target, raw[key]):
                atomic_write_bytes(target, raw[key])
    except OSError as error:
        warnings.warn(f"Could not write the MNIST cache in {folder}: {error}", stacklevel=3)
