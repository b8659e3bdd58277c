"""Accuracy on the shipped sample digits, with and without preprocessing.

Trains each requested kind of model on MNIST's 60,000 training images (``--limit`` fewer), then
predicts the ten sample images of ``checks/own_digit/samples/`` twice: each image only resized
to 28x28 gray (``plain_resize``, what a model receives if its user skips the recipe) and made
MNIST-like (``to_mnist``). Prints a table of both accuracies and each prediction::

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
from checks.own_digit.samples_index import sample_images, sample_label


def main(argv: list[str] | None = None) -> int:
    """Train, predict the samples raw and preprocessed, print the accuracies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=KINDS, default=["mlp", "sgd", "forest"])
    parser.add_argument("--limit", type=int, default=None)
    arguments = parser.parse_args(argv)
    data = mnist_dataset(arguments.limit)
    files = sample_images()
    labels = np.array([sample_label(path) for path in files])
    print(f"{len(files)} samples; models trained on {len(data['X_train']):,} MNIST images")
    for kind in arguments.models:
        started = time.perf_counter()
        trained = train_model(kind, data, n_jobs=-1, log=None)
        seconds = time.perf_counter() - started
        line = f"{kind:12s} MNIST test {trained.metadata['test_accuracy']:.4f} ({seconds:.0f} s)"
        for preprocess in (False, True):
            digits = np.array(
                [predict_digit(trained.estimator, p, preprocess=preprocess).digit for p in files]
            )
            name = "preprocessed" if preprocess else "raw"
            line += f"  {name} {np.mean(digits == labels):.0%} {digits.tolist()}"
        print(line, flush=True)
    print(f"labels {labels.tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
