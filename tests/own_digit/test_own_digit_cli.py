"""The ``mnist-digit`` commands end to end on small data (``--limit``): dataset -> train (every
kind) -> predict on the shipped samples, in subprocesses; and every failure a user can meet
(missing model, unreadable image, corrupted model file, another scikit-learn, bad arguments) as
one line on standard error, a non-zero exit code and no traceback. Where a subprocess adds
nothing but seconds (help, most errors), ``cli.main`` runs in this process."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from checks.own_digit import cli, sample_images
from checks.own_digit.models import (
    METADATA_MEMBER,
    ModelVersionError,
    UntrustedModelError,
    library_versions,
    load_model,
    read_metadata,
)

pytestmark = pytest.mark.slow
SAMPLES = sample_images()
N_TRAIN = 1500
PREDICTION = re.compile(
    r"^(?P<file>\S+): (?P<digit>\d) \(probability (?P<p>[\d.]+); top 3: "
    r"(?P<top>\d [\d.]+, \d [\d.]+, \d [\d.]+)\)$"
)


def mnist_digit(*arguments: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, "-m", "checks.own_digit", *map(str, arguments)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def in_process(
    capsys: pytest.CaptureFixture, *arguments: str | Path
) -> subprocess.CompletedProcess:
    """``cli.main`` here, its result shaped as a subprocess's."""
    code = cli.main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(arguments, code, captured.out, captured.err)


def assert_one_clear_line(completed: subprocess.CompletedProcess, *words: str) -> str:
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("own-digit")


@pytest.fixture(scope="module")
def dataset(workdir: Path, mnist_dir: Path) -> Path:
    out = workdir / "small.npz"
    completed = mnist_digit("dataset", out, "--limit", N_TRAIN, "--augment", "shift,rotate")
    assert completed.returncode == 0, completed.stderr
    assert f"{N_TRAIN * 7:,} training images" in completed.stdout
    return out


@pytest.fixture(scope="module")
def models(dataset: Path, workdir: Path) -> dict[str, Path]:
    """Every kind trained on 600 images of the small set."""
    made = {}
    for kind in ("svm", "forest", "extra-trees", "sgd", "voting", "mlp"):
        out = workdir / f"{kind}.skops"
        completed = mnist_digit(
            "train", dataset, "--model", kind, "--limit", 600, "--out", out, "--jobs", 1
        )
        assert completed.returncode == 0, completed.stderr
        assert "Traceback" not in completed.stderr
        assert re.search(
            rf"^{kind}: test accuracy 0\.\d{{4}} on {N_TRAIN:,}", completed.stdout, re.M
        )
        assert "macro avg" in completed.stdout  # the per-class report
        made[kind] = out
    return made


def test_the_dataset_file_holds_mnist_and_its_shifted_and_rotated_copies(dataset: Path):
    with np.load(dataset, allow_pickle=False) as archive:
        X, y = archive["X_train"], archive["y_train"]
        assert archive["X_test"].shape == (N_TRAIN, 28, 28)
    assert X.shape == (7 * N_TRAIN, 28, 28) and X.dtype == np.uint8
    original = X[:N_TRAIN]
    up = np.zeros_like(original)
    up[:, :-1] = original[:, 1:]  # the first copy: one pixel up
    assert np.array_equal(X[N_TRAIN : 2 * N_TRAIN], up)
    assert np.array_equal(y[N_TRAIN : 2 * N_TRAIN], y[:N_TRAIN])
    rotated = X[5 * N_TRAIN : 6 * N_TRAIN].astype(float)
    assert not np.array_equal(rotated, original)
    assert abs(rotated.sum() / original.sum() - 1) < 0.05  # ink is kept by a small rotation


def test_every_kind_trains_saves_and_predicts_the_samples(models: dict[str, Path], capsys):
    for kind, path in models.items():
        metadata = read_metadata(path)
        assert metadata["kind"] == kind and metadata["training_size"] == 600
        assert metadata["versions"] == library_versions()
        if kind == "svm":
            completed = mnist_digit("predict", path, *SAMPLES)
        else:
            completed = in_process(capsys, "predict", path, *SAMPLES)
        assert completed.returncode == 0, completed.stderr
        lines = completed.stdout.strip().splitlines()
        assert len(lines) == len(SAMPLES)
        for line, sample in zip(lines, SAMPLES, strict=True):
            match = PREDICTION.match(line)
            assert match, line
            assert match["file"] == str(sample)
            top = [pair.split() for pair in match["top"].split(", ")]
            probabilities = [float(p) for _, p in top]
            assert top[0][0] == match["digit"] and probabilities == sorted(probabilities)[::-1]
            assert sum(probabilities) <= 1.001


def test_show_draws_the_image_the_model_sees(models: dict[str, Path], capsys):
    completed = in_process(capsys, "predict", models["sgd"], SAMPLES[0], "--show")
    assert completed.returncode == 0, completed.stderr
    drawing = completed.stdout.splitlines()[1:]
    assert len(drawing) == 28 and {len(row) for row in drawing} == {56}
    assert "@" in completed.stdout


def test_no_preprocess_only_resizes(models: dict[str, Path], capsys):
    completed = in_process(capsys, "predict", models["sgd"], *SAMPLES, "--no-preprocess")
    assert completed.returncode == 0, completed.stderr
    assert all(PREDICTION.match(line) for line in completed.stdout.splitlines())


def test_a_search_reports_its_best_parameters(dataset: Path, workdir: Path, capsys):
    out = workdir / "searched.skops"
    completed = in_process(
        capsys,
        "train",
        dataset,
        "--model",
        "sgd",
        "--search",
        "--n-iter",
        2,
        "--limit",
        400,
        "--out",
        out,
    )
    assert completed.returncode == 0, completed.stderr
    assert "best: {'sgdclassifier__alpha'" in completed.stderr
    assert set(read_metadata(out)["search"]) == {"sgdclassifier__alpha"}


def test_a_missing_model(tmp_path: Path):
    assert_one_clear_line(
        mnist_digit("predict", tmp_path / "none.skops", SAMPLES[0]), "no such model file"
    )


def test_a_missing_dataset(tmp_path: Path, capsys):
    completed = in_process(
        capsys, "train", tmp_path / "none.npz", "--model", "sgd", "--out", tmp_path / "m.skops"
    )
    assert_one_clear_line(completed, "no such training-set file", "mnist-digit dataset")


def test_an_unreadable_image_among_good_ones(models: dict[str, Path], tmp_path: Path, capsys):
    bad = tmp_path / "holiday.png"
    bad.write_text("not a picture")
    completed = in_process(capsys, "predict", models["sgd"], SAMPLES[0], bad, tmp_path / "gone.jpg")
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert PREDICTION.match(completed.stdout.strip())  # the good image is still predicted
    errors = completed.stderr.strip().splitlines()
    assert len(errors) == 2
    assert str(bad) in errors[0] and "cannot read" in errors[0]
    assert "no such image file" in errors[1]


def test_a_blank_image_has_no_digit(models: dict[str, Path], tmp_path: Path, capsys):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 240).save(blank)
    assert_one_clear_line(in_process(capsys, "predict", models["sgd"], blank), "no digit found")


def test_a_corrupted_model_file(models: dict[str, Path], tmp_path: Path, capsys):
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(models["forest"].read_bytes()[:5000])
    assert_one_clear_line(in_process(capsys, "predict", truncated, SAMPLES[0]), str(truncated))
    garbage = tmp_path / "garbage.skops"
    garbage.write_bytes(b"\x00" * 100)
    assert_one_clear_line(
        in_process(capsys, "predict", garbage, SAMPLES[0]), "not a readable model file"
    )


def with_metadata(source: Path, target: Path, **changes: object) -> Path:
    """A copy of a model file whose metadata record is changed."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            content = old.read(item)
            if item.filename == METADATA_MEMBER:
                metadata = json.loads(content)
                for key, value in changes.items():
                    metadata["versions"][key] = value
                content = json.dumps(metadata).encode()
            new.writestr(item, content)
    return target


def test_another_scikit_learn_is_refused(models: dict[str, Path], tmp_path: Path):
    old = with_metadata(models["sgd"], tmp_path / "old.skops", **{"scikit-learn": "1.4.0"})
    with pytest.raises(ModelVersionError, match="retrain"):
        load_model(old)
    line = assert_one_clear_line(mnist_digit("predict", old, SAMPLES[0]), "1.4.0", "retrain")
    assert library_versions()["scikit-learn"] in line


def test_another_numpy_is_a_warning(models: dict[str, Path], tmp_path: Path):
    other = with_metadata(models["sgd"], tmp_path / "other.skops", numpy="1.26.0")
    completed = mnist_digit("predict", other, SAMPLES[0])
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip() == (
        f"mnist-digit: warning: {other} was saved with numpy 1.26.0, this is "
        f"{library_versions()['numpy']}"
    )


class Smuggled:
    """A type no course model holds."""

    def __init__(self) -> None:
        self.payload = "run me"


def test_a_model_file_with_other_types_is_refused(models: dict[str, Path], tmp_path: Path, capsys):
    import skops.io

    planted = tmp_path / "planted.skops"
    skops.io.dump({"model": Smuggled()}, planted)
    with zipfile.ZipFile(models["sgd"]) as source, zipfile.ZipFile(planted, "a") as target:
        target.writestr(METADATA_MEMBER, source.read(METADATA_MEMBER))
    with pytest.raises(UntrustedModelError, match="Smuggled"):
        load_model(planted)
    assert_one_clear_line(in_process(capsys, "predict", planted, SAMPLES[0]), "refused", "Smuggled")


@pytest.mark.parametrize(
    "arguments",
    [
        ["train", "x.npz", "--model", "knn", "--out", "m.skops"],
        ["train", "x.npz", "--model", "svm"],
        ["dataset", "out.npz", "--augment", "flip"],
        ["dataset", "out.npz", "--limit", "0"],
        ["predict", "m.skops"],
        ["fly"],
    ],
)
def test_bad_arguments_exit_2_with_a_usage_line(arguments: list[str], capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(arguments)
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("mnist-digit")


@pytest.mark.parametrize("command", [None, "dataset", "train", "predict"])
def test_help_of_each_command(command: str | None, capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"] if command else ["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: mnist-digit {command or ''}".rstrip())
    assert "--help" in shown


def test_the_entry_point_is_declared():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["mnist-digit"].partition(":")
    assert getattr(importlib.import_module(module), name) is cli.main
    completed = mnist_digit("--help")
    assert completed.returncode == 0 and completed.stdout.startswith("usage: mnist-digit")
