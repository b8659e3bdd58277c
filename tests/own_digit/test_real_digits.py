"""The course reads real digits by people, not only MNIST's: measured on the real-digit set.

The set (../shared/data/real-digits: phone photos of digits on paper, drawings made in canvas apps,
by several writers) is a private fixture, never copied into the repository; where it is missing
these tests are skipped, except in CI, which has it (conftest.real_digits). The promise of issue
26, as a user would check it: ``mnist-digit train --model cnn`` on MNIST, then ``mnist-digit
predict`` on every image, reads at least 95 % of them. ``benchmarks/real_digits.py`` prints the
full tables, per writer and kind, for every model and recipe.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from checks.own_digit import NoDigitFound, to_mnist, train_model
from checks.own_digit.dataset import mnist_dataset

pytestmark = pytest.mark.slow
LINE = re.compile(r"^(?P<file>.+): (?P<digit>\d) \(probability ")


def mnist_digit(*arguments: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "checks.own_digit", *map(str, arguments)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=1800,  # the CNN's 8 epochs on 60,000 images: about 3 minutes on 2 cores
    )


def per_writer(real_digits, right: dict[Path, bool]) -> str:
    """Right answers per writer and kind, one line each (printed with -s, and on failure)."""
    totals, counts = Counter(), Counter()
    for path, _, kind in real_digits:
        for group in (path.name.split("_")[1], kind, "all"):
            totals[group] += 1
            counts[group] += right[path]
    return "; ".join(f"{group} {counts[group]}/{totals[group]}" for group in totals)


def test_the_cnn_reads_95_percent_of_real_digits(real_digits, mnist_dir, tmp_path):
    dataset, model = tmp_path / "mnist.npz", tmp_path / "cnn.npz"
    completed = mnist_digit("dataset", dataset)
    assert completed.returncode == 0, completed.stderr
    completed = mnist_digit("train", dataset, "--model", "cnn", "--out", model)
    assert completed.returncode == 0, completed.stderr[-2000:]
    print(completed.stdout.splitlines()[0])
    completed = mnist_digit("predict", model, *(path for path, _, _ in real_digits))
    assert "Traceback" not in completed.stderr
    read = {}
    for line in completed.stdout.splitlines():
        found = LINE.match(line)
        if found:
            read[Path(found["file"])] = int(found["digit"])
    right = {path: read.get(path) == label for path, label, _ in real_digits}  # refused: wrong
    share = sum(right.values()) / len(right)
    table = per_writer(real_digits, right)
    print(f"cnn reads {sum(right.values())} of {len(right)}: {table}")
    assert share >= 0.95, f"the cnn reads {share:.1%} of the real digits ({table})"


def test_the_recipe_reads_more_real_digits_than_the_classic_one(real_digits, mnist_dir):
    data = mnist_dataset()
    chosen = np.random.default_rng(42).choice(len(data["X_train"]), 20_000, replace=False)
    data["X_train"], data["y_train"] = data["X_train"][chosen], data["y_train"][chosen]
    forest = train_model("forest", data, n_jobs=-1, log=None).estimator
    right = {}
    for recipe in ("classic", "robust"):
        seen = []
        for path, _, _ in real_digits:
            try:
                seen.append(to_mnist(path, recipe=recipe))
            except NoDigitFound:
                seen.append(np.zeros((28, 28), dtype=np.uint8))
        predicted = forest.predict(np.array(seen).reshape(len(seen), -1) / 255)
        labels = np.array([label for _, label, _ in real_digits])
        right[recipe] = dict(zip([p for p, _, _ in real_digits], predicted == labels, strict=True))
        print(f"forest, {recipe}: {per_writer(real_digits, right[recipe])}")
    classic, robust = (np.mean(list(right[r].values())) for r in ("classic", "robust"))
    # Measured: 64 % and 83 % (issue 26's forest, 20,000 images).
    assert robust >= classic + 0.10, (classic, robust)
    assert robust >= 0.75, robust
