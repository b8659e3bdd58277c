"""Accuracy on the shipped sample digits, with and without preprocessing.

Trains each requested kind of model on MNIST's 60,000 training images (``--limit`` fewer), then
predicts the ten sample images of ``checks/own_digit/samples/`` three times: each image only
resized to 28x28 gray (``plain_resize``, what a model receives if its user skips the recipe), made
MNIST-like by the classic recipe (``to_mnist(recipe="classic")``) and by the course's
(``to_mnist``). Prints the accuracies and each prediction (real digits by people:
``benchmarks/real_digits.py``)::

    MNIST_DATA_DIR=... python benchmarks/own_digit_accuracy.py --models mlp sgd forest
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from checks.own_digit.dataset import mnist_dataset
from checks.own_digit.models import KINDS, train_model
from checks.own_digit.predict import predict_digit
from checks.own_digit.preprocess import plain_resize, to_mnist
from checks.own_digit.samples_index import sample_images, sample_label


def main(argv: list[str] | None = None) -> int:
    """Train, predict the samples raw and preprocessed, print the accuracies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=KINDS, default=["mlp", "sgd", "forest"])
    parser.add_argument("--epochs", type=int, default=None, help="the cnn's (default 8)")
    parser.add_argument("--limit", type=int, default=None)
    arguments = parser.parse_args(argv)
    data = mnist_dataset(arguments.limit)
    files = sample_images()
    labels = np.array([sample_label(path) for path in files])
    seen = {
        "raw": [plain_resize(path) for path in files],
        "classic": [to_mnist(path, recipe="classic") for path in files],
        "robust": [to_mnist(path) for path in files],
    }
    print(f"{len(files)} samples; models trained on {len(data['X_train']):,} MNIST images")
    for kind in arguments.models:
        started = time.perf_counter()
        options = {"epochs": arguments.epochs} if kind == "cnn" else {"n_jobs": -1}
        trained = train_model(kind, data, log=None, **options)
        seconds = time.perf_counter() - started
        line = f"{kind:12s} MNIST test {trained.metadata['test_accuracy']:.4f} ({seconds:.0f} s)"
        for name, images in seen.items():
            digits = np.array(
                [
                    predict_digit(trained.estimator, image, preprocess=False).digit
                    for image in images
                ]
            )
            line += f"  {name} {np.mean(digits == labels):.0%} {digits.tolist()}"
        print(line, flush=True)
    print(f"labels {labels.tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
