"""A training-set file for the own-digit commands: MNIST, optionally augmented, as ``.npz``.

Why ``.npz`` (``numpy.savez_compressed``) and not HDF5: NumPy alone reads and writes it (no
``h5py`` to install), ``numpy.load(..., allow_pickle=False)`` never executes anything from the
file, and compressed it is small (MNIST's 70,000 images: 11.5 MB; with the shifted and rotated
copies, 80 MB). The arrays are uint8 images (N, 28, 28), 0..255 like MNIST, and uint8 labels
0..9::

    X_train, y_train, X_test, y_test

Augmentation (only of the training images, as in chapter 6) adds, per requested kind, copies of
every training image: ``shift`` four (one pixel up, down, left, right), ``rotate`` two (±10°).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import ndimage

AUGMENTATIONS = ("shift", "rotate")
SHIFTS = ((-1, 0), (1, 0), (0, -1), (0, 1))
ANGLES = (-10.0, 10.0)
KEYS = ("X_train", "y_train", "X_test", "y_test")


class DatasetError(ValueError):
    """A training-set file that is missing, unreadable or not one of ours."""


def mnist_dataset(
    limit: int | None = None, *, data_dir: str | None = None
) -> dict[str, np.ndarray]:
    """MNIST as uint8 images: the first ``limit`` training and test images (all by default).

    MNIST loaded by :func:`checks.fetch_mnist`, as uint8 images and labels.

    Parameters
    ----------
    limit : int, optional
        Keep the first ``limit`` training images and the first ``min(limit, 10000)`` test images.
    data_dir : str, optional
        Passed to :func:`checks.fetch_mnist` (else ``MNIST_DATA_DIR``, the cache or OpenML).

    Returns
    -------
    dict of str to numpy.ndarray
        ``X_train`` (N, 28, 28) and ``X_test`` uint8 images, ``y_train`` and ``y_test`` uint8
        labels.

    See Also
    --------
    save_dataset : Write it to a file.

    Examples
    --------
    >>> data = mnist_dataset(limit=1234)  # doctest: +SKIP
    >>> data["X_train"].shape, data["X_test"].shape  # doctest: +SKIP
    ((1234, 28, 28), (1234, 28, 28))
    """
    from checks.mnist import N_TRAIN, fetch_mnist

    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of images, not {limit}")
    mnist = fetch_mnist(data_dir, verbose=False)
    images = mnist.data.astype(np.uint8).reshape(-1, 28, 28)
    labels = mnist.target.astype(np.uint8)
    n_train = N_TRAIN if limit is None else min(limit, N_TRAIN)
    n_test = len(images) - N_TRAIN if limit is None else min(limit, len(images) - N_TRAIN)
    return {
        "X_train": images[:n_train].copy(),
        "y_train": labels[:n_train].copy(),
        "X_test": images[N_TRAIN : N_TRAIN + n_test].copy(),
        "y_test": labels[N_TRAIN : N_TRAIN + n_test].copy(),
    }


def parse_augmentations(text: str) -> tuple[str, ...]:
    """``"shift,rotate"`` as ``("shift", "rotate")``, each checked.

    For ``--augment``.

    Parameters
    ----------
    text : str
        Comma-separated kinds, among ``shift`` and ``rotate``; ``""`` for none.

    Returns
    -------
    tuple of str
        The kinds, in :data:`AUGMENTATIONS` order, without repeats.

    See Also
    --------
    augment : Applies them.

    Examples
    --------
    >>> parse_augmentations("rotate, shift")
    ('shift', 'rotate')
    """
    kinds = {part.strip() for part in text.split(",") if part.strip()}
    unknown = kinds - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(
            f"unknown augmentation {', '.join(sorted(unknown))!r}: choose among "
            f"{', '.join(AUGMENTATIONS)}"
        )
    return tuple(kind for kind in AUGMENTATIONS if kind in kinds)


def augment(
    images: np.ndarray, labels: np.ndarray, kinds: Iterable[str], *, progress: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The images followed by their shifted and/or rotated copies.

    The augmentation of chapter 6, for ``mnist-digit dataset --augment``.

    Parameters
    ----------
    images : numpy.ndarray
        The uint8 images (N, 28, 28).
    labels : numpy.ndarray
        Their labels (N,).
    kinds : iterable of str
        ``"shift"`` (4 copies: one pixel in each direction, zeros come in) and/or ``"rotate"``
        (2 copies: ±10° about the centre, bilinear).
    progress : bool, default True
        Show a progress bar (tqdm) on standard error.

    Returns
    -------
    images : numpy.ndarray
        The originals first, then each copy in turn; uint8.
    labels : numpy.ndarray
        Their labels.

    See Also
    --------
    mnist_dataset : The images to augment.

    Examples
    --------
    >>> images = np.zeros((2, 28, 28), dtype=np.uint8)
    >>> bigger, labels = augment(images, np.array([3, 4], np.uint8), ["shift"], progress=False)
    >>> bigger.shape, labels.tolist()[:4]
    ((10, 28, 28), [3, 4, 3, 4])
    """
    from tqdm.auto import tqdm

    kinds = tuple(kinds)
    transforms = []
    if "shift" in kinds:
        transforms += [("shift", offset) for offset in SHIFTS]
    if "rotate" in kinds:
        transforms += [("rotate", angle) for angle in ANGLES]
    copies, copy_labels = [images], [labels]
    bar = tqdm(total=len(transforms) * len(images), disable=not progress, unit="img", leave=False)
    for kind, parameter in transforms:
        copy = np.empty_like(images)
        for index, image in enumerate(images):
            if kind == "shift":
                copy[index] = ndimage.shift(image, parameter, order=0, cval=0)
            else:
                rotated = ndimage.rotate(
                    image.astype(np.float64), parameter, reshape=False, order=1
                )
                copy[index] = np.clip(np.floor(rotated + 0.5), 0, 255).astype(np.uint8)
            if index % 500 == 499:
                bar.update(500)
        bar.update(len(images) % 500)
        copies.append(copy)
        copy_labels.append(labels)
    bar.close()
    return np.concatenate(copies), np.concatenate(copy_labels)


def save_dataset(path: str | os.PathLike, data: dict[str, np.ndarray]) -> Path:
    """Write the four arrays to a compressed ``.npz`` file.

    Written with ``numpy.savez_compressed``; see the module's description for why.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.npz`` is appended by NumPy when missing, so it is required here.
    data : dict of str to numpy.ndarray
        ``X_train``, ``y_train``, ``X_test``, ``y_test``.

    Returns
    -------
    pathlib.Path
        The file written.

    See Also
    --------
    load_dataset : Read it back.

    Examples
    --------
    >>> save_dataset("mnist.npz", mnist_dataset(limit=1234))  # doctest: +SKIP
    PosixPath('mnist.npz')
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise DatasetError(f"a training-set file must end in .npz, not {path.name!r}")
    if not path.parent.is_dir():
        raise DatasetError(f"no such folder: {path.parent}")
    np.savez_compressed(path, **{key: data[key] for key in KEYS})
    return path


def load_dataset(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a training-set file written by :func:`save_dataset`, checked.

    Read with ``allow_pickle=False``: nothing in the file is executed.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.

    Returns
    -------
    dict of str to numpy.ndarray
        ``X_train`` (N, 28, 28) uint8, ``y_train`` (N,) uint8, ``X_test``, ``y_test``.

    Raises
    ------
    DatasetError
        Missing, unreadable, or not the four arrays of the right shapes.

    See Also
    --------
    save_dataset : Write one.

    Examples
    --------
    >>> data = load_dataset("mnist.npz")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no such training-set file: {path} (make one: mnist-digit dataset)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {key: archive[key] for key in KEYS if key in archive.files}
    except Exception as error:  # a zip, pickle or format error: all say "not ours"
        raise DatasetError(f"cannot read {path} as a training-set file ({error})") from None
    missing = [key for key in KEYS if key not in data]
    if missing:
        raise DatasetError(f"{path} is not a training-set file: no {', '.join(missing)}")
    for split in ("train", "test"):
        images, labels = data[f"X_{split}"], data[f"y_{split}"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise DatasetError(f"{path}: X_{split} must be uint8 images (N, 28, 28)")
        if labels.shape != (len(images),) or len(images) == 0:
            raise DatasetError(f"{path}: y_{split} must hold one label per image")
    return data
