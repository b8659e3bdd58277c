"""The MNIST loader returns exactly the original data, from files, cache or (faked) OpenML."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

from checks import mnist
from checks.mnist import CorruptMnistFile, MnistError, fetch_mnist

FILES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


def read_idx_independently(path: Path) -> np.ndarray:
    """A second, minimal IDX reader, so the loader is compared with something it did not make."""
    content = gzip.decompress(path.read_bytes())
    dims = content[3]
    shape = [int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(content[4 + 4 * dims :], dtype=np.uint8).reshape(shape)


@pytest.fixture(scope="module")
def original(request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray]:
    folder = request.getfixturevalue("mnist_dir")
    images = [read_idx_independently(folder / f"{name}.gz") for name in (FILES[0], FILES[2])]
    labels = [read_idx_independently(folder / f"{name}.gz") for name in (FILES[1], FILES[3])]
    return np.concatenate(images).reshape(70_000, 784), np.concatenate(labels)


@pytest.fixture
def copied_dir(mnist_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the IDX files, to damage or rename."""
    folder = tmp_path / "idx"
    shutil.copytree(mnist_dir, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


def assert_is_mnist(bunch: Bunch, original: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = original
    assert bunch.data.shape == (70_000, 784)
    assert bunch.data.dtype == np.float64
    np.testing.assert_array_equal(bunch.data, images.astype(np.float64))
    assert bunch.target.dtype == object
    assert all(isinstance(label, str) for label in bunch.target[:100])
    np.testing.assert_array_equal(bunch.target, labels.astype(str).astype(object))


def test_idx_folder_gives_the_original_arrays(mnist_dir, original, no_network):
    bunch = fetch_mnist(mnist_dir, verbose=False)
    assert_is_mnist(bunch, original)
    assert bunch.target[0] == "5"  # the first training image, as in the book
    assert set(bunch) >= {
        "data",
        "target",
        "frame",
        "categories",
        "feature_names",
        "target_names",
        "DESCR",
        "details",
        "url",
    }
    assert bunch.feature_names[0] == "pixel1" and bunch.feature_names[-1] == "pixel784"
    assert bunch.target_names == ["class"] and bunch.frame is None


def test_environment_variable_is_used(mnist_dir, original, monkeypatch, no_network, capsys):
    monkeypatch.setenv("MNIST_DATA_DIR", str(mnist_dir))
    assert_is_mnist(fetch_mnist(), original)
    assert str(mnist_dir) in capsys.readouterr().out


def test_raw_and_dotted_file_names_are_accepted(copied_dir, original, no_network):
    for name in FILES:
        raw = gzip.decompress((copied_dir / f"{name}.gz").read_bytes())
        (copied_dir / f"{name}.gz").unlink()
        (copied_dir / name.replace("-idx", ".idx")).write_bytes(raw)
    assert_is_mnist(fetch_mnist(copied_dir, verbose=False), original)


def test_cache_is_written_atomically_and_then_used_offline(
    mnist_dir, original, monkeypatch, no_network, capsys
):
    fetch_mnist(mnist_dir, verbose=False)
    cache = mnist.cache_dir()
    assert sorted(path.name for path in cache.iterdir()) == sorted(FILES)  # no temporary files left
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    bunch = fetch_mnist()
    assert "cache" in capsys.readouterr().out
    assert_is_mnist(bunch, original)


def test_corrupt_file_is_named_and_never_loaded(copied_dir, no_network):
    path = copied_dir / "train-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[100] = (content[100] + 1) % 10  # one label changed: still a valid IDX file
    path.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(CorruptMnistFile, match=r"train-labels-idx1-ubyte.gz.*SHA-256"):
        fetch_mnist(copied_dir, verbose=False)


def test_truncated_gzip_is_named(copied_dir, no_network):
    path = copied_dir / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50_000])
    with pytest.raises(CorruptMnistFile, match=r"t10k-images-idx3-ubyte.gz.*truncated or corrupt"):
        fetch_mnist(copied_dir, verbose=False)


def test_missing_file_and_missing_folder_say_what_to_do(copied_dir, tmp_path, no_network):
    (copied_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MnistError, match=r"t10k-labels-idx1-ubyte.*missing.*MNIST_DATA_DIR"):
        fetch_mnist(copied_dir, verbose=False)
    with pytest.raises(MnistError, match=r"not a folder.*MNIST_DATA_DIR"):
        fetch_mnist(tmp_path / "nowhere", verbose=False)


def test_offline_without_data_or_cache_explains_both_ways_out(monkeypatch, no_network):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)

    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", offline)
    with pytest.raises(MnistError) as error:
        fetch_mnist(verbose=False)
    message = str(error.value)
    assert "MNIST_DATA_DIR" in message and "connect to the internet once" in message


def fake_openml(original: tuple[np.ndarray, np.ndarray], tamper: bool = False):
    images, labels = original

    def fetch_openml(name, *, version, as_frame):
        assert (name, version, as_frame) == ("mnist_784", 1, False)
        data = images.astype(np.float64)
        if tamper:
            data[5, 300] = 255 - data[5, 300]
        return Bunch(data=data, target=labels.astype(str).astype(object))

    return fetch_openml


def test_openml_result_is_verified_and_cached(original, monkeypatch, no_network):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_openml(original))
    assert_is_mnist(fetch_mnist(verbose=False), original)
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_openml(original, tamper=True))
    assert_is_mnist(fetch_mnist(verbose=False), original)  # now from the cache, not OpenML


def test_openml_data_that_differs_is_refused(original, monkeypatch, no_network):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_openml(original, tamper=True))
    with pytest.raises(CorruptMnistFile, match=r"differs from the original"):
        fetch_mnist(verbose=False)


def test_corrupt_cache_is_ignored_with_a_warning(mnist_dir, original, monkeypatch, no_network):
    fetch_mnist(mnist_dir, verbose=False)
    cached = mnist.cache_dir() / "train-images-idx3-ubyte"
    cached.write_bytes(cached.read_bytes()[:1000])
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_openml(original))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bunch = fetch_mnist(verbose=False)
    assert any("Ignoring the MNIST cache" in str(w.message) for w in caught)
    assert_is_mnist(bunch, original)


def test_idx_round_trip_and_bad_headers():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(mnist.parse_idx(mnist.to_idx(array)), array)
    with pytest.raises(CorruptMnistFile):
        mnist.parse_idx(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc")  # float type
    with pytest.raises(CorruptMnistFile, match=r"size mismatch"):
        mnist.parse_idx(mnist.to_idx(array)[:-1])


# --- A wrong cache is repaired; decompression is bounded ------------------------------------


def flip_one_byte(path: Path, offset: int = 5_000) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0xFF
    path.write_bytes(bytes(content))


def is_original(path: Path, name: str) -> bool:
    spec = next(spec for spec in mnist.IDX_FILES.values() if spec.name == name)
    return hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256


@pytest.mark.parametrize("damage", ["one byte", "truncated", "garbage"])
def test_a_wrong_cache_file_is_repaired_from_the_data_folder(mnist_dir, damage, no_network):
    fetch_mnist(mnist_dir, verbose=False)
    cached = mnist.cache_dir() / "train-labels-idx1-ubyte"
    if damage == "one byte":
        flip_one_byte(cached)  # same size: only its content tells
    elif damage == "truncated":
        cached.write_bytes(cached.read_bytes()[:1000])
    else:
        cached.write_bytes(b"\x00\x00\x08\x01" + b"garbage" * 1000)
    assert not is_original(cached, "train-labels-idx1-ubyte")
    fetch_mnist(mnist_dir, verbose=False)
    assert is_original(cached, "train-labels-idx1-ubyte")


def test_a_wrong_cache_file_is_repaired_from_openml(mnist_dir, original, monkeypatch, no_network):
    fetch_mnist(mnist_dir, verbose=False)
    cached = mnist.cache_dir() / "t10k-images-idx3-ubyte"
    flip_one_byte(cached)
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_openml(original))
    with pytest.warns(UserWarning, match="Ignoring the MNIST cache"):
        fetch_mnist(verbose=False)
    assert is_original(cached, "t10k-images-idx3-ubyte")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_is_mnist(fetch_mnist(verbose=False), original)  # from the repaired cache


def gzip_bomb(path: Path, header: bytes, zeros: int) -> None:
    """A small .gz file that expands to ``header`` and ``zeros`` zero bytes."""
    chunk = bytes(2**20)
    with gzip.open(path, "wb", compresslevel=1) as stream:
        stream.write(header)
        for _ in range(zeros // len(chunk)):
            stream.write(chunk)


@pytest.mark.parametrize(
    "header",
    [
        b"\x00\x00\x08\x01" + (60_000).to_bytes(4, "big"),  # the labels' own header
        b"\x00\x00\x08\x01" + (200 * 2**20).to_bytes(4, "big"),  # one declaring it all
    ],
    ids=["valid header", "lying header"],
)
def test_a_gzip_bomb_is_refused_fast_and_small(copied_dir, header, no_network):
    bomb = copied_dir / "train-labels-idx1-ubyte.gz"
    gzip_bomb(bomb, header, zeros=200 * 2**20)
    assert bomb.stat().st_size < 2**20
    spec = mnist.IDX_FILES["train_labels"]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(
            CorruptMnistFile, match=r"train-labels-idx1-ubyte.gz.*(more than|declares)"
        ):
            mnist._read_verified(bomb, spec)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 2 and peak < 8 * 2**20
    with pytest.raises(CorruptMnistFile, match=r"train-labels-idx1-ubyte.gz"):
        fetch_mnist(copied_dir, verbose=False)


def test_an_oversized_raw_file_is_not_read_past_its_size(copied_dir, no_network):
    raw = copied_dir / "t10k-labels-idx1-ubyte"
    (copied_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    raw.write_bytes(b"\x00\x00\x08\x01" + (10_000).to_bytes(4, "big") + bytes(50 * 2**20))
    with pytest.raises(CorruptMnistFile, match=r"t10k-labels-idx1-ubyte.*more than the 10,008"):
        fetch_mnist(copied_dir, verbose=False)
