"""The Kaggle-style files of chapter 9: the seeded split, the CSV format, idempotence, errors.

What the files must hold is derived from ``checks.fetch_mnist`` (the float64 loader, another
path than the uint8 one the writer uses) and read back with pandas and NumPy, independent of the
writer. The tests that write the 128 MB of files or load full MNIST are marked slow.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import checks
from checks import kaggle
from checks.kaggle import (
    EXPECTED,
    N_TEST_ROWS,
    N_TRAIN_ROWS,
    PIXEL_COLUMNS,
    KaggleFilesError,
    csv_lines,
    split,
    write_kaggle_files,
)

pytestmark = pytest.mark.usefixtures("offline_mnist")


# --- The split -------------------------------------------------------------------------------


def test_the_split_has_kaggles_sizes_and_covers_all_images_once():
    train, test = split()
    assert (len(train), len(test)) == (42_000, 28_000)
    assert len(np.intersect1d(train, test)) == 0
    assert (np.sort(np.concatenate([train, test])) == np.arange(70_000)).all()


def test_the_split_is_seeded_and_mixes_mnists_train_and_test_images():
    train, test = split()
    split.cache_clear()
    try:
        again_train, again_test = split()
    finally:
        split.cache_clear()
    assert (train == again_train).all() and (test == again_test).all()
    assert not (train[:-1] < train[1:]).all(), "the rows are shuffled, not in MNIST's order"
    for part in (train, test):  # both files hold images of both MNIST sets
        assert (part < 60_000).any() and (part >= 60_000).any()


def test_the_split_cannot_be_changed_by_a_caller():
    train, _ = split()
    with pytest.raises(ValueError):
        train[0] = 0


# --- The CSV lines ---------------------------------------------------------------------------


def test_csv_lines_are_what_numpy_savetxt_writes(tmp_path):
    rows = np.random.default_rng(0).integers(0, 256, (50, 785)).astype(np.uint8)
    rows[:, :10] = 0
    np.savetxt(tmp_path / "expected.csv", rows, fmt="%d", delimiter=",")
    assert csv_lines(rows) == (tmp_path / "expected.csv").read_bytes()


def test_the_headers_are_kaggles():
    assert kaggle.TRAIN_HEADER.split(",")[:3] == ["label", "pixel0", "pixel1"]
    assert kaggle.TRAIN_HEADER.split(",")[-1] == "pixel783"
    assert kaggle.TEST_HEADER.split(",") == list(PIXEL_COLUMNS)
    assert len(PIXEL_COLUMNS) == 784


# --- The files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DATA_DIR", str(mnist_dir))
        return checks.fetch_mnist(verbose=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory, mnist_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DATA_DIR", str(mnist_dir))
        return write_kaggle_files(tmp_path_factory.mktemp("course") / "kaggle", verbose=False)


@pytest.mark.slow
def test_train_csv_is_kaggles_format_with_mnists_images_and_labels(written, mnist):
    train = pd.read_csv(written.train)
    assert list(train.columns) == ["label", *PIXEL_COLUMNS]
    assert train.shape == (N_TRAIN_ROWS, 785)
    assert all(dtype == np.int64 for dtype in train.dtypes)
    rows = split()[0]
    assert (train["label"].to_numpy() == mnist.target[rows].astype(int)).all()
    assert (train[list(PIXEL_COLUMNS)].to_numpy() == mnist.data[rows]).all()
    counts = Counter(mnist.target[rows].astype(int).tolist())
    assert train["label"].value_counts().to_dict() == counts


@pytest.mark.slow
def test_test_csv_has_the_pixels_only_in_imageid_order(written, mnist):
    test = np.loadtxt(written.test, delimiter=",", skiprows=1, dtype=np.int64)
    header = written.test.read_text(encoding="ascii").split("\n", 1)[0]
    assert header.split(",") == list(PIXEL_COLUMNS)
    assert test.shape == (N_TEST_ROWS, 784)
    assert (test == mnist.data[split()[1]]).all()


@pytest.mark.slow
def test_no_hidden_label_is_in_the_students_folder(written):
    assert sorted(path.name for path in written.train.parent.iterdir()) == ["test.csv", "train.csv"]
    first_line = written.test.open(encoding="ascii").readline()
    assert "label" not in first_line.lower()


@pytest.mark.slow
def test_the_expected_digests_are_those_of_the_files_written(written):
    assert kaggle._digest(written.train) == EXPECTED["train.csv"]
    assert kaggle._digest(written.test) == EXPECTED["test.csv"]


@pytest.mark.slow
def test_writing_again_leaves_right_files_alone_and_repairs_others(written, capsys):
    before = {path: path.stat().st_ino for path in (written.train, written.test)}
    write_kaggle_files(written.train.parent)
    assert "already there, unchanged" in capsys.readouterr().out
    assert {path: path.stat().st_ino for path in before} == before
    with written.test.open("r+b") as stream:  # a student's edit, same size
        stream.seek(-2, os.SEEK_END)
        stream.write(b"9\n")
    assert not kaggle.is_right(written.test, "test.csv")
    write_kaggle_files(written.train.parent, verbose=False)
    assert written.train.stat().st_ino == before[written.train]
    assert kaggle.is_right(written.test, "test.csv")


@pytest.mark.slow
def test_a_progress_bar_shows_when_writing_is_slow(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(kaggle, "_PROGRESS_DELAY", 0.0)
    write_kaggle_files(tmp_path / "k")
    err = capsys.readouterr().err
    assert "Writing the Kaggle files" in err and "70000/70000" in err


def test_a_folder_that_is_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "kaggle").write_text("not a folder", encoding="utf-8")
    with pytest.raises(KaggleFilesError, match="is a file, not a folder"):
        write_kaggle_files(tmp_path / "kaggle")


def test_a_folder_that_cannot_be_written_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(kaggle.os, "access", lambda *args: False)  # tests may run as root
    with pytest.raises(KaggleFilesError, match="not writable"):
        write_kaggle_files(tmp_path / "kaggle")


def test_a_folder_that_cannot_be_created_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(KaggleFilesError, match="cannot be created"):
        write_kaggle_files(tmp_path / "file" / "kaggle")


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kaggle, "csv_lines", full_disk)
    with pytest.raises(KaggleFilesError, match="No space left on device"):
        write_kaggle_files(tmp_path / "kaggle", verbose=False)
    assert list((tmp_path / "kaggle").iterdir()) == []
