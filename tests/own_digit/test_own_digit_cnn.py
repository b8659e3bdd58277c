"""The own-digit CNN (checks.own_digit.cnn): chapter 9's LeNet-5 trained by ``mnist-digit train
--model cnn``, kept as weights only and run by NumPy. Its forward pass must equal Keras's, its file
must hold nothing but the network's arrays, and every failure is one line."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_own_digit_cli import (
    PREDICTION,
    SAMPLES,
    assert_one_clear_line,
    in_process,
    mnist_digit,
)

from checks.own_digit import cnn
from checks.own_digit.models import (
    METADATA_MEMBER,
    ModelFileError,
    load_model,
    read_metadata,
)


def random_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        name: (rng.normal(0, 0.3, shape)).astype(np.float32)
        for name, shape in cnn.WEIGHT_SHAPES.items()
    }


def test_the_numpy_forward_pass_is_kerass():
    keras = cnn.import_keras()
    model = cnn.build_keras_model(keras)
    weights = random_weights()
    model.set_weights([weights[name] for name in cnn.WEIGHT_SHAPES])
    images = np.random.default_rng(1).integers(0, 256, (64, 28, 28)).astype(np.float32) / 255
    expected = model.predict(images[..., None], verbose=0)
    ours = cnn.CnnClassifier(weights).predict_proba(images.reshape(64, 784))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=2e-5)
    assert np.array_equal(ours.argmax(axis=1), expected.argmax(axis=1))
    assert np.allclose(ours.sum(axis=1), 1.0, atol=1e-5)


def test_weights_of_another_shape_or_name_are_refused():
    weights = random_weights()
    weights["conv1_kernel"] = weights["conv1_kernel"][..., :4]
    with pytest.raises(ValueError, match=r"conv1_kernel has shape \(5, 5, 1, 4\)"):
        cnn.CnnClassifier(weights)
    extra = {**random_weights(), "backdoor": np.zeros(3, np.float32)}
    with pytest.raises(ValueError, match="unexpected: backdoor"):
        cnn.CnnClassifier(extra)
    nan = random_weights()
    nan["output_bias"][3] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        cnn.CnnClassifier(nan)


def test_jitter_moves_each_image_a_little(monkeypatch):
    images = np.zeros((50, 28, 28), dtype=np.uint8)
    images[:, 6:22, 12:16] = 255  # a "1"
    moved = cnn.jitter(images, np.random.default_rng(0))
    assert moved.shape == images.shape and moved.dtype == np.float32
    assert len({image.tobytes() for image in moved}) == 50  # each its own move
    ink = moved.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert ink.min() > 0.7 and ink.max() < 1.3  # scaled by 12 % at most: area within 25 %
    again = cnn.jitter(images, np.random.default_rng(0))
    assert np.array_equal(moved, again)  # seeded: a training can be repeated
    monkeypatch.setattr(cnn, "JITTER", dict.fromkeys(cnn.JITTER, 0.0))
    assert np.array_equal(cnn.jitter(images, np.random.default_rng(0)), images)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("own-digit-cnn")


@pytest.fixture(scope="module")
def trained(workdir: Path, mnist_dir: Path) -> tuple[Path, str]:
    """A CNN trained by the command line on 1,000 images, 1 epoch: the file and standard error."""
    dataset = workdir / "small.npz"
    completed = mnist_digit("dataset", dataset, "--limit", 1500)
    assert completed.returncode == 0, completed.stderr
    out = workdir / "cnn.npz"
    completed = mnist_digit(
        "train", dataset, "--model", "cnn", "--epochs", 1, "--limit", 1000, "--out", out
    )
    assert completed.returncode == 0, completed.stderr
    assert re.search(r"^cnn: test accuracy 0\.\d{4} on 1,500 test images", completed.stdout, re.M)
    assert "macro avg" in completed.stdout
    return out, completed.stderr


@pytest.mark.slow
def test_the_cnn_trains_with_a_progress_bar_and_saves_only_its_weights(trained):
    out, stderr = trained
    assert "epoch 1/1" in stderr and "batch" in stderr  # tqdm's bar, per epoch
    assert "Traceback" not in stderr
    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
    assert names == sorted([f"{name}.npy" for name in cnn.WEIGHT_SHAPES] + [METADATA_MEMBER])
    metadata = read_metadata(out)
    assert metadata["kind"] == "cnn" and metadata["architecture"] == cnn.ARCHITECTURE
    assert metadata["training_size"] == 1000 and metadata["epochs"] == 1
    assert metadata["augment"] == cnn.JITTER
    assert set(metadata["versions"]) == {"numpy", "keras", "jax"}
    loaded = load_model(out)
    assert isinstance(loaded.estimator, cnn.CnnClassifier)


@pytest.mark.slow
def test_the_cnn_predicts_the_samples(trained, capsys):
    completed = in_process(capsys, "predict", trained[0], *SAMPLES, "--show")
    assert completed.returncode == 0, completed.stderr
    lines = [line for line in completed.stdout.splitlines() if PREDICTION.match(line)]
    assert len(lines) == len(SAMPLES)


def rewritten(source: Path, target: Path, **members: bytes) -> Path:
    """A copy of a CNN file with some members replaced or added."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            if item.filename not in members:
                new.writestr(item, old.read(item))
        for name, content in members.items():
            new.writestr(name, content)
    return target


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@pytest.mark.slow
def test_a_tampered_cnn_file_is_refused_in_one_line(trained, workdir: Path, capsys):
    source = trained[0]
    cases = {
        "pickled.npz": (
            {"dense1_bias.npy": npy(np.array([{"run": "me"}], dtype=object), allow_pickle=True)},
            "an array of Python objects",
        ),
        "reshaped.npz": ({"dense1_bias.npy": npy(np.zeros(7, np.float32))}, "has shape (7,)"),
        "extra.npz": ({"payload.npy": npy(np.zeros(3, np.float32))}, "payload.npy"),
    }
    for name, (members, words) in cases.items():
        path = rewritten(source, workdir / name, **members)
        with pytest.raises(ModelFileError):
            load_model(path)
        assert_one_clear_line(in_process(capsys, "predict", path, SAMPLES[0]), words)
    metadata = read_metadata(source)
    other = rewritten(
        source,
        workdir / "other.npz",
        **{METADATA_MEMBER: json.dumps({**metadata, "architecture": "resnet"}).encode()},
    )
    assert_one_clear_line(
        in_process(capsys, "predict", other, SAMPLES[0]), "another network", "retrain"
    )


@pytest.mark.slow
def test_another_numpy_is_only_a_warning_for_a_cnn(trained, workdir: Path):
    metadata = read_metadata(trained[0])
    metadata["versions"] = {**metadata["versions"], "numpy": "1.26.0", "keras": "2.0"}
    path = rewritten(
        trained[0], workdir / "old.npz", **{METADATA_MEMBER: json.dumps(metadata).encode()}
    )
    completed = mnist_digit("predict", path, SAMPLES[0])
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip().startswith(f"mnist-digit: warning: {path} was saved with numpy")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--model", "forest", "--epochs", "2"], "--epochs is for the cnn only"),
        (["--model", "svm", "--no-augment"], "--no-augment is for the cnn only"),
        (["--model", "cnn", "--search"], "no --search for the cnn"),
    ],
)
def test_options_of_the_cnn_alone_are_one_line(arguments, words, tmp_path, capsys):
    completed = in_process(capsys, "train", tmp_path / "x.npz", *arguments, "--out", tmp_path / "m")
    assert_one_clear_line(completed, words)


def test_without_keras_the_cnn_is_one_line_saying_what_to_install(monkeypatch, tmp_path, capsys):
    from checks.own_digit.dataset import save_dataset

    data = {
        "X_train": np.zeros((20, 28, 28), np.uint8),
        "y_train": np.arange(20, dtype=np.uint8) % 10,
        "X_test": np.zeros((10, 28, 28), np.uint8),
        "y_test": np.arange(10, dtype=np.uint8),
    }
    save_dataset(tmp_path / "tiny.npz", data)

    def missing() -> None:
        raise cnn.DeepLearningMissing(
            "the cnn needs Keras, which is missing (keras): install the course's deep extra, "
            'pip install "mnist-course[deep]"'
        )

    monkeypatch.setattr(cnn, "import_keras", missing)
    completed = in_process(
        capsys, "train", tmp_path / "tiny.npz", "--model", "cnn", "--out", tmp_path / "cnn.npz"
    )
    assert_one_clear_line(completed, "needs Keras", "mnist-course[deep]")
    assert not (tmp_path / "cnn.npz").exists()
