"""Model files crafted by hand from a real forest get one line, in seconds and megabytes.

Each file is a small real forest (three trees on random 784-pixel images), saved as the course
saves models, then changed as an attacker would: a node made its own ancestor (``predict`` would
spin for ever), a child or a feature index out of range (a segmentation fault), a threshold that
is not a number, an array member that claims 3 GiB, a member or a metadata record that expands
to hundreds of megabytes; and an SVM and an MLP whose arrays do not match. Each is loaded and
used as ``mnist-digit predict`` does, in a process of its own (so a crash or a hang cannot take
the tests with it): it must end with the one line ``not a model this course can use: ...``
within 5 s and 500 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from checks.own_digit.models import (
    FORMAT,
    METADATA_MEMBER,
    TrainedModel,
    library_versions,
    load_model,
    save_model,
)

# Loads the model and predicts a blank image, as mnist-digit predict does; prints one line.
USE = """
import sys, time
import numpy as np
import skops.io  # imported before the clock starts: a second or more on a loaded machine
from checks.own_digit.models import ModelFileError, load_model
started = time.process_time()  # CPU seconds: a loaded machine stretches the wall clock
try:
    model = load_model(sys.argv[1])
    model.estimator.predict(np.zeros((1, 784)))
    print("predicted", flush=True)
except ModelFileError as error:
    print(error, flush=True)
# This process's own high-water mark (ru_maxrss would keep the forking parent's, the suite's).
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
peak = int(status) * 1024  # kB
print(f"{time.process_time() - started:.2f} {peak}", flush=True)
"""
LIMIT_SECONDS, LIMIT_BYTES = 5.0, 500 * 1024**2


def forest() -> object:
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    images, labels = rng.random((300, 784)), np.arange(300) % 10
    return RandomForestClassifier(n_estimators=3, max_depth=6, random_state=0).fit(images, labels)


def save(path: Path, estimator: object) -> Path:
    metadata = {"format": FORMAT, "kind": "forest", "versions": library_versions()}
    return save_model(path, TrainedModel(estimator, metadata))


def crafted_tree(path: Path, change) -> Path:
    model = forest()
    change(model.estimators_[1].tree_)  # the node arrays are views of the tree's own memory
    return save(path, model)


def a_node_its_own_ancestor(tree) -> None:
    child = int(tree.children_left[0])
    tree.children_left[child] = 0  # node 0 -> child -> node 0 -> ...


def a_node_its_own_child(tree) -> None:
    tree.children_left[0] = 0


def a_child_out_of_range(tree) -> None:
    tree.children_right[0] = 10**6


def a_feature_out_of_range(tree) -> None:
    tree.feature[0] = 10**6


def a_negative_feature(tree) -> None:
    tree.feature[0] = -5


def a_threshold_not_a_number(tree) -> None:
    tree.threshold[0] = np.nan


def rewrite_member(path: Path, name_of, write) -> Path:
    """Rewrite the model file with the member ``name_of(names)`` written by ``write``."""
    source = path.with_suffix(".orig")
    path.rename(source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        target = name_of(old.namelist())
        for info in old.infolist():
            if info.filename == target:
                write(new, info.filename)
            else:
                new.writestr(info, old.read(info))
    source.unlink()
    return path


def largest_array(names: list[str]) -> str:
    return max((n for n in names if n.endswith(".npy")), key=len)


def zeros_member(size: int, header: bytes = b""):
    def write(archive: zipfile.ZipFile, name: str) -> None:
        with archive.open(name, "w", force_zip64=True) as stream:
            stream.write(header)
            chunk = bytes(16 * 1024**2)
            for start in range(0, size, len(chunk)):
                stream.write(chunk[: size - start])

    return write


def npy_header(shape: tuple) -> bytes:
    text = repr({"descr": "<f8", "fortran_order": False, "shape": shape}).encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


def a_3_gib_array_claimed(path: Path) -> Path:
    model = save(path, forest())
    header = npy_header((400_000_000,))  # 3.2 GB of float64, in a few bytes
    return rewrite_member(model, largest_array, zeros_member(4096, header))


def a_member_that_expands(path: Path) -> Path:
    model = save(path, forest())  # 300 MB of zeros: 300 kB deflated
    return rewrite_member(model, largest_array, zeros_member(300 * 1024**2, npy_header((2,))))


def a_member_that_lies_about_its_size(path: Path) -> Path:
    """A member whose directory entry says 1 kB and which expands to 300 MB."""
    model = a_member_that_expands(path)
    data = bytearray(model.read_bytes())
    with zipfile.ZipFile(model) as archive:
        name = largest_array(archive.namelist()).encode()
    # Its central directory entry: b"PK\1\2", the uncompressed size at 24, the name at 46.
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (1024).to_bytes(4, "little")
    model.write_bytes(bytes(data))
    return model


def a_metadata_record_that_expands(path: Path) -> Path:
    model = save(path, forest())
    record = json.dumps({"format": FORMAT, "versions": library_versions()}).encode()
    return rewrite_member(model, lambda names: METADATA_MEMBER, zeros_member(300 * 1024**2, record))


def small_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((100, 784)), np.arange(100) % 10


def an_svm_whose_counts_lie(path: Path) -> Path:
    """An SVM claiming 1,000 more support vectors of class 0 than it holds."""
    from sklearn.svm import SVC

    model = SVC().fit(*small_data())
    model._n_support[0] += 1000
    return save(path, model)


def an_mlp_whose_layers_do_not_chain(path: Path) -> Path:
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it does not converge in 5 epochs: no matter
        model = MLPClassifier(hidden_layer_sizes=(20,), max_iter=5).fit(*small_data())
    model.coefs_[1] = model.coefs_[1][:5]
    return save(path, model)


CRAFTED = {
    "a node its own ancestor": (lambda p: crafted_tree(p, a_node_its_own_ancestor), "node 1"),
    "a node its own child": (lambda p: crafted_tree(p, a_node_its_own_child), "node 0"),
    "a child out of range": (lambda p: crafted_tree(p, a_child_out_of_range), "child 1000000"),
    "a feature out of range": (lambda p: crafted_tree(p, a_feature_out_of_range), "a feature"),
    "a negative feature": (lambda p: crafted_tree(p, a_negative_feature), "a feature"),
    "a threshold not a number": (lambda p: crafted_tree(p, a_threshold_not_a_number), "threshold"),
    "a 3 GiB array claimed": (a_3_gib_array_claimed, "claims an array of shape (400000000,)"),
    "a member that expands": (a_member_that_expands, "declares"),
    "a member that lies about its size": (a_member_that_lies_about_its_size, "Bad CRC-32"),
    "a metadata record that expands": (a_metadata_record_that_expands, "mnist-course.json"),
    "an SVM whose counts lie": (an_svm_whose_counts_lie, "counts and coefficients do not match"),
    "an MLP whose layers do not chain": (an_mlp_whose_layers_do_not_chain, "does not take 20"),
}


def use_in_a_process(model: Path) -> tuple[list[str], float, int, int]:
    """Load and predict in a process of its own: its lines, its seconds, peak bytes, exit code."""
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-c", USE, str(model)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.monotonic() - started
    lines = completed.stdout.splitlines()
    seconds, peak = lines[-1].split() if lines else ("inf", "0")
    return [*lines[:-1], seconds], wall, int(peak), completed.returncode


def test_the_honest_forest_loads_and_predicts(tmp_path):
    model = save(tmp_path / "forest.skops", forest())
    loaded = load_model(model)
    assert loaded.estimator.predict(np.zeros((1, 784))).shape == (1,)


@pytest.mark.parametrize("name", CRAFTED)
def test_a_crafted_model_gets_one_line_in_seconds_and_megabytes(name, tmp_path):
    make, expected = CRAFTED[name]
    model = make(tmp_path / "crafted.skops")
    lines, wall, peak, code = use_in_a_process(model)
    assert code == 0, lines
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"not a model this course can use: {model}: "), lines[0]
    assert expected in lines[0]
    assert float(lines[1]) <= LIMIT_SECONDS  # CPU seconds loading, checking and refusing
    assert peak <= LIMIT_BYTES, f"{peak / 1024**2:.0f} MB"
    assert wall < 60


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_read(tmp_path):
    from checks.own_digit.model_file import UnusableModel, check_archive

    model = a_member_that_expands(tmp_path / "bomb.skops")
    started = time.perf_counter()
    with pytest.raises(UnusableModel, match=r"declares 3145\d+ bytes \(at most 268435456\)"):
        check_archive(model)
    assert time.perf_counter() - started < 0.5


def test_predict_from_the_command_line_runs_with_a_time_limit(tmp_path, capfd):
    from checks.own_digit.limited import run_limited

    model = save(tmp_path / "forest.skops", forest())
    image = ROOT / "checks" / "own_digit" / "samples"
    sample = sorted(p for p in image.iterdir() if p.suffix in (".png", ".jpg"))[0]
    started = time.monotonic()
    assert run_limited(["predict", str(model), str(sample)], str(model), seconds=0.2) == 1
    assert time.monotonic() - started < 10
    err = capfd.readouterr().err.strip().splitlines()
    assert err == [
        f"mnist-digit: error: not a model this course can use: {model}: "
        "predicting took more than 0.2 s (stopped)"
    ]
    assert run_limited(["predict", str(model), str(sample)], str(model)) == 0  # in time
    assert capfd.readouterr().out.startswith(f"{sample}: ")
