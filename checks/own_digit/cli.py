"""``mnist-digit``: build a training set, train a model, predict your own digit.

::

    mnist-digit dataset mnist.npz --augment shift,rotate      # MNIST to a file
    mnist-digit train mnist.npz --model mlp --out mlp.skops    # train, test metrics, save
    mnist-digit train mnist.npz --model cnn --out cnn.npz      # the best reader of real digits
    mnist-digit predict mlp.skops my_digit.jpg --show          # digit, probability, top 3

Also ``python -m checks.own_digit``. Exit codes: 0 done; 1 a file, model or image could not be
used (one line on standard error, no traceback); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from checks.own_digit.dataset import (
    DatasetError,
    augment,
    load_dataset,
    mnist_dataset,
    parse_augmentations,
    save_dataset,
)
from checks.own_digit.limited import is_limited, run_limited
from checks.own_digit.models import (
    KINDS,
    ModelFileError,
    check_model_path,
    load_model,
    save_model,
    train_model,
)
from checks.own_digit.predict import as_text, predict_digit
from checks.own_digit.preprocess import NoDigitFound, UnreadableImage

PROGRAM = "mnist-digit"


class CommandError(Exception):
    """A failure reported as one line, exit code 1."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _augmentations(text: str) -> tuple[str, ...]:
    try:
        return parse_augmentations(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parser() -> argparse.ArgumentParser:
    """The command line's parser, with one sub-command per job.

    Each sub-command has its own ``--help``.

    Returns
    -------
    argparse.ArgumentParser
        ``dataset``, ``train`` and ``predict``.

    See Also
    --------
    main : Runs them.

    Examples
    --------
    >>> parser().parse_args(["predict", "m.skops", "a.png"]).images
    ['a.png']
    """
    main_parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Your own digit: build an MNIST training set, train a model, predict "
        "the digit in your own images.",
        epilog="Exit codes: 0 done, 1 a file, model or image could not be used, 2 bad arguments.",
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dataset = commands.add_parser(
        "dataset",
        help="write MNIST (optionally augmented) to a compressed .npz training-set file",
        description="Write MNIST's training and test images to a compressed .npz file (uint8 "
        "images X_train, X_test and labels y_train, y_test), the training images optionally "
        "followed by shifted and rotated copies. MNIST comes from MNIST_DATA_DIR, the cache or "
        "OpenML (checks.fetch_mnist).",
    )
    dataset.add_argument("out", metavar="OUT.npz", type=Path, help="the file to write")
    dataset.add_argument(
        "--augment",
        type=_augmentations,
        default=(),
        metavar="KINDS",
        help="comma-separated: shift (4 copies, 1 pixel each way), rotate (2 copies, ±10°)",
    )
    dataset.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="only the first N training images and N test images (at most 10,000)",
    )
    dataset.add_argument("--data-dir", metavar="DIR", help="a folder of the MNIST IDX files")

    train = commands.add_parser(
        "train",
        help="train a model on a training-set file, print test metrics, save it",
        description="Train a model on the training images of a .npz file from `mnist-digit "
        "dataset`, print its accuracy and per-class report on the file's test images, and "
        "save it with skops and a metadata record (versions, sizes, accuracy). The cnn (chapter "
        "9's LeNet-5, the best reader of real digits) needs the course's deep extra (Keras); its "
        "file holds only its weights, as NumPy arrays.",
    )
    train.add_argument("dataset", metavar="DATASET.npz", type=Path, help="from mnist-digit dataset")
    train.add_argument("--model", required=True, choices=KINDS, help="the kind of model")
    train.add_argument(
        "--out",
        required=True,
        metavar="MODEL",
        type=Path,
        help="the model file to write (e.g. forest.skops; cnn.npz for the cnn)",
    )
    train.add_argument(
        "--search",
        action="store_true",
        help="first a small randomized search (3-fold cross-validation) of its hyperparameters",
    )
    train.add_argument("--n-iter", type=_positive, default=4, help="candidates of the search")
    train.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="train on N training images drawn at random (seed 42) from the file",
    )
    train.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="cores to use (-1: all; default 1); the cnn uses every core",
    )
    train.add_argument(
        "--epochs",
        type=_positive,
        metavar="N",
        help="cnn only: passes over the training images, each image moved a little at random "
        "every time (default 8)",
    )
    train.add_argument(
        "--no-augment",
        action="store_true",
        help="cnn only: train on MNIST's images as they are, never moved at random",
    )

    predict = commands.add_parser(
        "predict",
        help="predict the digit in image files",
        description="Predict the digit in each image file (PNG, JPEG...; a photo or a "
        "drawing, dark on light or light on dark): the digit, its probability and the top 3.",
    )
    predict.add_argument("model", metavar="MODEL", type=Path, help="from mnist-digit train")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    predict.add_argument(
        "--no-preprocess",
        action="store_true",
        help="only resize each image to 28x28 gray (to see why preprocessing matters)",
    )
    predict.add_argument(
        "--show", action="store_true", help="also draw the 28x28 image the model sees, as text"
    )
    return main_parser


def run_dataset(arguments: argparse.Namespace) -> None:
    """``mnist-digit dataset``."""
    from checks.mnist import MnistError

    started = time.perf_counter()
    try:
        data = mnist_dataset(arguments.limit, data_dir=arguments.data_dir)
    except MnistError as error:
        raise CommandError(str(error).splitlines()[0]) from None
    n_original = len(data["X_train"])
    if arguments.augment:
        data["X_train"], data["y_train"] = augment(
            data["X_train"], data["y_train"], arguments.augment
        )
    save_dataset(arguments.out, data)
    size = arguments.out.stat().st_size / 1e6
    kinds = " and ".join(arguments.augment)
    how = f" ({n_original:,} + {kinds} copies)" if arguments.augment else ""
    print(
        f"wrote {arguments.out}: {len(data['X_train']):,} training images{how}, "
        f"{len(data['X_test']):,} test images, {size:.1f} MB in "
        f"{time.perf_counter() - started:.1f} s"
    )


def run_train(arguments: argparse.Namespace) -> None:
    """``mnist-digit train``."""
    for option, given in (
        ("--epochs", arguments.epochs is not None),
        ("--no-augment", arguments.no_augment),
    ):
        if given and arguments.model != "cnn":
            raise CommandError(f"{option} is for the cnn only, not for {arguments.model}")
    if arguments.search and arguments.model == "cnn":
        raise CommandError("no --search for the cnn: train it without --search")
    check_model_path(arguments.out)  # before the training, not after
    data = load_dataset(arguments.dataset)
    if arguments.limit and arguments.limit < len(data["X_train"]):
        chosen = np.random.default_rng(42).choice(
            len(data["X_train"]), arguments.limit, replace=False
        )
        data["X_train"], data["y_train"] = data["X_train"][chosen], data["y_train"][chosen]
    trained = train_model(
        arguments.model,
        data,
        search=arguments.search,
        n_iter=arguments.n_iter,
        n_jobs=arguments.jobs,
        epochs=arguments.epochs,
        augment=not arguments.no_augment,
    )
    metadata = trained.metadata
    print(
        f"{arguments.model}: test accuracy {metadata['test_accuracy']:.4f} on "
        f"{metadata['test_size']:,} test images (trained on {metadata['training_size']:,})"
    )
    print(trained.report)
    save_model(arguments.out, trained)
    print(f"saved {arguments.out} ({arguments.out.stat().st_size / 1e6:.1f} MB)")


def run_predict(arguments: argparse.Namespace) -> bool:
    """``mnist-digit predict``; False when an image could not be used."""
    model = load_model(arguments.model)
    all_read = True
    for image in arguments.images:
        try:
            prediction = predict_digit(
                model.estimator, image, preprocess=not arguments.no_preprocess
            )
        except (UnreadableImage, NoDigitFound) as error:
            print(f"{PROGRAM}: {image}: {error}", file=sys.stderr)
            all_read = False
            continue
        print(prediction)
        if arguments.show:
            print(as_text(prediction.image))
    return all_read


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{PROGRAM}: warning: {str(message).splitlines()[0]}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mnist-digit`` with the given arguments.

    The entry point of ``mnist-digit`` and ``python -m checks.own_digit``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: the command line's; then ``predict`` runs in a child process
        with a time and a memory limit, :mod:`checks.own_digit.limited`).

    Returns
    -------
    int
        The exit code: 0 done, 1 a file, model or image could not be used, 2 bad arguments.

    See Also
    --------
    parser : The arguments of each command.

    Examples
    --------
    >>> main(["predict", "mlp.skops", "my_digit.jpg"])  # doctest: +SKIP
    my_digit.jpg: 7 (probability 0.930; top 3: 7 0.930, 1 0.040, 9 0.020)
    0
    """
    arguments = parser().parse_args(argv)
    if arguments.command == "predict" and argv is None and not is_limited():
        # From the command line, a model may come from anyone: predict in a limited child.
        return run_limited(sys.argv[1:], str(arguments.model))
    shown_before, warnings.showwarning = warnings.showwarning, _one_line_warning
    try:
        if arguments.command == "dataset":
            run_dataset(arguments)
        elif arguments.command == "train":
            run_train(arguments)
        else:
            return 0 if run_predict(arguments) else 1
    except MemoryError:
        print(f"{PROGRAM}: error: not a model this course can use: out of memory", file=sys.stderr)
        return 1
    except (CommandError, DatasetError, ModelFileError, OSError, ValueError) as error:
        print(f"{PROGRAM}: error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown_before
    return 0


if __name__ == "__main__":
    sys.exit(main())
