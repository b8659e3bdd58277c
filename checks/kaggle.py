"""MNIST as Kaggle's "Digit Recognizer" files: ``train.csv`` and ``test.csv``, written offline.

Kaggle's competition splits the 70,000 MNIST images into 42,000 labelled training rows and 28,000
test rows whose labels it keeps: a submission (``ImageId,Label``, ImageId 1 to 28,000 in
``test.csv``'s order) is scored against them. The course does the same from the MNIST files it
already has: :func:`write_kaggle_files` writes the two CSV files in Kaggle's format, and the
hidden labels (:func:`kaggle_test_labels`) are computed by ``checks`` when a submission is scored,
never written to the student's folder (in a graded run they are not in the run at all: see
:func:`kaggle_test_labels`).

The split is a fixed permutation of :func:`checks.mnist.fetch_mnist`'s order (the 60,000 MNIST
training images, then the 10,000 test images): ``np.random.default_rng(SEED).permutation(70000)``,
whose first 42,000 entries are ``train.csv``'s rows and last 28,000 ``test.csv``'s, in that
order. Both files therefore mix MNIST's training and test images, as Kaggle's do.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from checks.mnist import N_PIXELS, N_TEST, N_TRAIN, fetch_mnist_pixels

#: The seed of the split: the year Kaggle's Digit Recognizer opened. Changing it changes every
#: file, the hidden labels and the expected digests below.
SEED = 2012
N_IMAGES = N_TRAIN + N_TEST
#: Rows of train.csv and test.csv, as in Kaggle's competition.
N_TRAIN_ROWS, N_TEST_ROWS = 42_000, 28_000
TRAIN_FILE, TEST_FILE = "train.csv", "test.csv"
PIXEL_COLUMNS = tuple(f"pixel{index}" for index in range(N_PIXELS))
TRAIN_HEADER = ",".join(("label", *PIXEL_COLUMNS))
TEST_HEADER = ",".join(PIXEL_COLUMNS)
#: The header of a submission file, and its columns.
SUBMISSION_COLUMNS = ("ImageId", "Label")
SUBMISSION_HEADER = ",".join(SUBMISSION_COLUMNS)

#: Size in bytes and SHA-256 of each file as written (lines end with "\n"). A file that exists
#: with this size and digest is left alone; any other is rewritten. Computed by this module
#: from the original MNIST files (tests/test_kaggle.py checks them).
EXPECTED = {
    TRAIN_FILE: (76_730_940, "5e1703555849dd98c15cb1f6c0b7726d239c2fb6b617f951d1ea9888752a2e31"),
    TEST_FILE: (51_092_395, "faea6d5b51d2a3a4e7d8a72978d382144fe229dcda01ccc14d08b619ef302857"),
}
#: Rows formatted at a time; progress is shown per block.
_BLOCK_ROWS = 2_000
#: A progress bar appears only if writing takes longer than this many seconds.
_PROGRESS_DELAY = 2.0


class KaggleFilesError(RuntimeError):
    """The Kaggle files could not be written; the message says why and what to do."""


@dataclass(frozen=True)
class KaggleFiles:
    """Where :func:`write_kaggle_files` wrote the two files."""

    train: Path
    test: Path


@cache
def split() -> tuple[np.ndarray, np.ndarray]:
    """Which MNIST images (indices in :func:`checks.fetch_mnist`'s order) each file holds.

    Returns
    -------
    train : numpy.ndarray
        42,000 indices, in ``train.csv``'s row order.
    test : numpy.ndarray
        28,000 indices, in ``test.csv``'s row order: ImageId ``i`` is image ``test[i - 1]``.
    """
    order = np.random.default_rng(SEED).permutation(N_IMAGES)
    train, test = order[:N_TRAIN_ROWS], order[N_TRAIN_ROWS:]
    train.setflags(write=False)
    test.setflags(write=False)
    return train, test


def kaggle_test_labels(data_dir: str | os.PathLike[str] | None = None) -> np.ndarray:
    """The hidden labels of ``test.csv``: the digit of ImageId 1, 2, ..., 28,000.

    Computed from the MNIST files this machine has, to score a self-check: on a student's
    machine MNIST is public, so they are within reach and the self-check trusts the student. In
    a graded run the MNIST files are the grader's dealing (:mod:`checks.grading.withheld`): these
    images' labels there are decoys, and the grader scores the predictions outside the run.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A folder of the MNIST IDX files, as for :func:`checks.fetch_mnist`.

    Returns
    -------
    numpy.ndarray
        28,000 digits 0-9, dtype int64.

    Raises
    ------
    checks.mnist.MnistError
        If MNIST is not available.
    """
    _, labels = fetch_mnist_pixels(data_dir)
    return labels[split()[1]].astype(np.int64)


# --- Writing -------------------------------------------------------------------------------

_NUMBERS = np.array([str(value).encode("ascii") for value in range(256)], dtype=object)


def csv_lines(rows: np.ndarray) -> bytes:
    """Rows of whole numbers 0-255 as CSV lines, each ending with a newline.

    Formatting each value by looking its text up (``_NUMBERS``) and joining is the fastest way
    measured here: 0.8 s for ``train.csv`` where ``numpy.savetxt`` and ``DataFrame.to_csv``
    took 2.3 s, for the same bytes.

    Parameters
    ----------
    rows : numpy.ndarray
        Shape (n, m), whole numbers 0-255.

    Returns
    -------
    bytes
        ``n`` lines of ``m`` comma-separated numbers.
    """
    return b"".join(b",".join(line) + b"\n" for line in _NUMBERS[rows].tolist())


def _file_rows(name: str, data_dir: str | os.PathLike[str] | None) -> tuple[str, np.ndarray]:
    """A file's header and its rows (uint8), as Kaggle lays them out."""
    images, labels = fetch_mnist_pixels(data_dir)
    train, test = split()
    if name == TRAIN_FILE:
        return TRAIN_HEADER, np.column_stack([labels[train], images[train]])
    return TEST_HEADER, images[test]


def _digest(path: Path) -> tuple[int, str] | None:
    """A regular file's size and SHA-256, or None if it is missing or cannot be read."""
    try:
        if not path.is_file():
            return None
        hasher = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 22):
                hasher.update(chunk)
        return path.stat().st_size, hasher.hexdigest()
    except OSError:
        return None


def is_right(path: Path, name: str) -> bool:
    """Whether ``path`` holds exactly the course's ``name`` file (its size and SHA-256).

    Parameters
    ----------
    path : Path
        A file, which may not exist.
    name : str
        ``"train.csv"`` or ``"test.csv"``.

    Returns
    -------
    bool
        True if the file is there and right.
    """
    size, sha256 = EXPECTED[name]
    try:
        if not path.is_file() or path.stat().st_size != size:
            return False
    except OSError:
        return False
    return _digest(path) == (size, sha256)


@contextmanager
def _progress(total: int, verbose: bool) -> Iterator[object]:
    """A tqdm bar that shows only if writing lasts over :data:`_PROGRESS_DELAY` seconds."""
    try:
        from tqdm import tqdm  # text, as chapter 6 uses: it shows in any front end
    except ImportError:  # tqdm is optional: no bar
        tqdm = None
    if tqdm is None or not verbose:
        yield None
        return
    with tqdm(
        total=total, unit="rows", desc="Writing the Kaggle files", delay=_PROGRESS_DELAY
    ) as bar:
        yield bar


def _write(stream: BinaryIO, header: str, rows: np.ndarray, bar: object) -> None:
    stream.write(header.encode("ascii") + b"\n")
    for start in range(0, len(rows), _BLOCK_ROWS):
        block = rows[start : start + _BLOCK_ROWS]
        stream.write(csv_lines(block))
        if bar is not None:
            bar.update(len(block))  # type: ignore[attr-defined]


def _write_atomically(path: Path, header: str, rows: np.ndarray, bar: object) -> None:
    """Write the file beside ``path`` and rename it: a reader never sees half a file."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            _write(stream, header, rows, bar)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prepare_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise KaggleFilesError(
            f"{folder} is a file, not a folder: pass another folder, "
            "e.g. write_kaggle_files('kaggle')."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise KaggleFilesError(
            f"The folder {folder} cannot be created ({error.strerror or error}): "
            "pass a folder you can write in, e.g. write_kaggle_files('kaggle')."
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise KaggleFilesError(
            f"The folder {folder} is not writable: pass a folder you can write in, "
            "e.g. write_kaggle_files('kaggle')."
        )


def write_kaggle_files(
    folder: str | os.PathLike[str] = "kaggle",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    verbose: bool = True,
) -> KaggleFiles:
    """Write MNIST as Kaggle's "Digit Recognizer" ``train.csv`` and ``test.csv``, offline.

    ``train.csv`` has 42,000 rows and the header ``label,pixel0,...,pixel783``; ``test.csv`` has
    28,000 rows and the header ``pixel0,...,pixel783``, with no labels: a submission gives one
    ``Label`` per ``ImageId``, 1 to 28,000 in ``test.csv``'s row order. Pixels are whole numbers
    0-255. The rows are a seeded split of all 70,000 MNIST images (see :data:`SEED`), the same on
    every machine.

    Files already there and right are left alone (it takes a second to check them); a file that
    differs (edited, truncated) is written again. Writing both takes a few seconds; a progress
    bar shows if it takes longer.

    Parameters
    ----------
    folder : str or path-like, default="kaggle"
        Where to write the two files; created if needed.
    data_dir : str or path-like, optional
        A folder of the MNIST IDX files, as for :func:`checks.fetch_mnist`.
    verbose : bool, default=True
        Print one line saying what was done, and show a progress bar if writing is slow.

    Returns
    -------
    KaggleFiles
        The paths of the two files, ``.train`` and ``.test``.

    Raises
    ------
    KaggleFilesError
        If the folder is a file or cannot be written to (the message says which).
    checks.mnist.MnistError
        If MNIST is not available.

    Examples
    --------
    >>> import checks
    >>> files = checks.write_kaggle_files()  # doctest: +SKIP
    Kaggle files: kaggle/train.csv (42,000 rows) and kaggle/test.csv (28,000 rows) written.
    >>> import pandas as pd
    >>> train = pd.read_csv(files.train)  # doctest: +SKIP
    """
    root = Path(folder).expanduser()
    _prepare_folder(root)
    files = KaggleFiles(train=root / TRAIN_FILE, test=root / TEST_FILE)
    paths = {TRAIN_FILE: files.train, TEST_FILE: files.test}
    stale = [name for name, path in paths.items() if not is_right(path, name)]
    if stale:
        headers_rows = {name: _file_rows(name, data_dir) for name in stale}
        total = sum(len(rows) for _, rows in headers_rows.values())
        try:
            with _progress(total, verbose) as bar:
                for name, (header, rows) in headers_rows.items():
                    _write_atomically(paths[name], header, rows, bar)
        except OSError as error:
            raise KaggleFilesError(
                f"The Kaggle files cannot be written in {root} ({error.strerror or error}): "
                "free some disk space or pass another folder."
            ) from None
    if verbose:
        done = "written" if stale else "already there, unchanged"
        print(
            f"Kaggle files: {files.train} ({N_TRAIN_ROWS:,} rows) and {files.test} "
            f"({N_TEST_ROWS:,} rows) {done}."
        )
    return files
