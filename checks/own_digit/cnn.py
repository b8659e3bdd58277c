"""The course's best reader of your own digit: chapter 9's LeNet-5, trained by Keras, run by NumPy.

``mnist-digit train --model cnn`` trains the convolutional network of chapter 9 (LeNet-5: two
convolutions of 5x5 filters, each followed by a 2x2 max-pooling, then dense layers of 120, 84 and
10 units) with Keras, the course's ``deep`` extra. While it trains, every epoch sees each
training image once more, moved a little at random (:func:`jitter`: turned, scaled, slanted and
shifted, as handwriting varies), so that the network learns the digit rather than MNIST's exact
pixels: that is what lets it read digits written by other people, on other paper.

Only the weights are kept: the file :func:`~checks.own_digit.models.save_model` writes for a CNN
is a NumPy ``.npz`` archive of the ten weight arrays (:data:`WEIGHT_SHAPES`, float32) plus the
course's metadata record. Loading reads the arrays with ``allow_pickle=False`` and checks every
name, shape and type against the architecture, so a file runs no code and holds nothing else.
:class:`CnnClassifier` then computes the network's forward pass in NumPy: predicting needs
neither Keras nor JAX, and gives the probabilities Keras gives (within float32 rounding).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from checks.files import shown_path

#: The network, as the metadata record names it: a file of another architecture is refused.
ARCHITECTURE = "lenet5-6-16-120-84-10"
FILTERS = 6  # the first convolution's filters (LeNet-5: 6), as chapter 9 by default
#: The weight arrays of the network, in Keras's order and layout (kernels: height, width, input
#: channels, filters; dense: inputs, outputs).
WEIGHT_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1_kernel": (5, 5, 1, FILTERS),
    "conv1_bias": (FILTERS,),
    "conv2_kernel": (5, 5, FILTERS, 16),
    "conv2_bias": (16,),
    "dense1_kernel": (400, 120),
    "dense1_bias": (120,),
    "dense2_kernel": (120, 84),
    "dense2_bias": (84,),
    "output_kernel": (84, 10),
    "output_bias": (10,),
}
EPOCHS = 8
BATCH_SIZE = 64
LEARNING_RATE = 0.003  # Adam's, decayed to 0 along a cosine over the training, as in chapter 9
#: How much :func:`jitter` moves each training image, at most: degrees of rotation, relative
#: scale, slant (shear), pixels of shift.
JITTER = {"rotate": 12.0, "scale": 0.12, "shear": 0.25, "shift": 2.0}
#: The libraries whose versions a CNN file records (training); predicting needs only NumPy.
VERSIONED = ("numpy", "keras", "jax")


class DeepLearningMissing(ValueError):
    """Keras (the ``deep`` extra) is not installed: a CNN cannot be trained."""


def deep_versions() -> dict[str, str]:
    """The installed versions of NumPy, Keras and JAX (``"missing"`` for an absent one).

    Returns
    -------
    dict of str to str
        Library name to version.

    Examples
    --------
    >>> sorted(deep_versions())
    ['jax', 'keras', 'numpy']
    """
    found = {}
    for name in VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def import_keras() -> Any:
    """Keras, on JAX for the CPU unless TensorFlow is installed (as chapter 9 imports it).

    Returns
    -------
    module
        The ``keras`` module.

    Raises
    ------
    DeepLearningMissing
        Keras or its backend is not installed.
    """
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no search for a GPU, no warning
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
    except ModuleNotFoundError as error:
        raise DeepLearningMissing(
            f"the cnn needs Keras, which is missing ({error.name}): install the course's deep "
            'extra, pip install "mnist-course[deep]"'
        ) from None
    return keras


def build_keras_model(keras: Any) -> Any:
    """Chapter 9's LeNet-5, as a Keras model (unfitted).

    Parameters
    ----------
    keras : module
        From :func:`import_keras`.

    Returns
    -------
    keras.Sequential
        Input 28x28x1 (pixels / 255), output the ten probabilities.
    """
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(FILTERS, 5, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 5, activation="relu", name="conv2"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(120, activation="relu", name="dense1"),
            layers.Dense(84, activation="relu", name="dense2"),
            layers.Dense(10, activation="softmax", name="output"),
        ]
    )


def jitter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each 28x28 image moved at random: turned, scaled, slanted and shifted a little.

    Every image gets its own affine map about the frame's centre (14, 14), its amounts drawn
    uniformly within :data:`JITTER`, and is resampled by bilinear interpolation (pixels outside the
    frame are 0, MNIST's background).

    Parameters
    ----------
    images : numpy.ndarray
        Images (N, 28, 28), uint8 or float.
    rng : numpy.random.Generator
        The random numbers (seeded by the caller, for a repeatable training).

    Returns
    -------
    numpy.ndarray
        The moved images, float32 (N, 28, 28), in the input's range.

    Examples
    --------
    >>> moved = jitter(np.zeros((3, 28, 28), np.uint8), np.random.default_rng(0))
    >>> moved.shape, moved.dtype
    ((3, 28, 28), dtype('float32'))
    """
    from scipy import ndimage

    count = len(images)
    angle = np.deg2rad(rng.uniform(-JITTER["rotate"], JITTER["rotate"], count))
    scale = 1.0 + rng.uniform(-JITTER["scale"], JITTER["scale"], count)
    shear = rng.uniform(-JITTER["shear"], JITTER["shear"], count)
    shift = rng.uniform(-JITTER["shift"], JITTER["shift"], (count, 2))
    # The output pixel (row, column) takes the input at centre + A @ ((row, column) - centre) - s.
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    matrices = np.empty((count, 2, 2))
    matrices[:, 0, 0], matrices[:, 0, 1] = cos, -sin + shear * cos
    matrices[:, 1, 0], matrices[:, 1, 1] = sin, cos + shear * sin
    grid = np.stack(np.mgrid[0:28, 0:28], axis=-1).reshape(-1, 2) - 14.0  # (784, 2)
    out = np.empty((count, 28, 28), dtype=np.float32)
    for start in range(0, count, 2000):  # in chunks: 2,000 images of coordinates is 25 MB
        part = slice(start, min(start + 2000, count))
        where = np.einsum("nij,pj->npi", matrices[part], grid) + 14.0 - shift[part, None, :]
        index = np.broadcast_to(
            np.arange(part.stop - part.start, dtype=np.float64)[:, None], where.shape[:2]
        )
        coordinates = np.stack([index, where[..., 0], where[..., 1]])
        moved = ndimage.map_coordinates(
            np.asarray(images[part], dtype=np.float32), coordinates, order=1, cval=0.0
        )
        out[part] = moved.reshape(-1, 28, 28)
    return out


class CnnClassifier:
    """The trained LeNet-5, its forward pass in NumPy, used as a scikit-learn classifier is.

    ``predict_proba`` and ``predict`` take what every course model takes,
    :func:`~checks.own_digit.models.features` (N rows of 784 pixels / 255), so that
    :func:`~checks.own_digit.predict.predict_digit` reads a digit with it as with a forest.

    Parameters
    ----------
    weights : dict of str to numpy.ndarray
        The arrays of :data:`WEIGHT_SHAPES`.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The digits 0 to 9.
    weights : dict of str to numpy.ndarray
        The weights, float32.
    """

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        check_weights(weights)
        self.weights = {name: np.asarray(weights[name], dtype=np.float32) for name in WEIGHT_SHAPES}
        self.classes_ = np.arange(10)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The ten probabilities of each image.

        Parameters
        ----------
        X : numpy.ndarray
            (N, 784) pixels / 255, or (N, 28, 28).

        Returns
        -------
        numpy.ndarray
            (N, 10), each row summing to 1.
        """
        images = np.asarray(X, dtype=np.float32).reshape(-1, 28, 28, 1)
        return np.concatenate(
            [self._forward(images[start : start + 500]) for start in range(0, len(images), 500)]
            or [np.zeros((0, 10), np.float32)]
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable digit of each image (see :meth:`predict_proba`)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _forward(self, x: np.ndarray) -> np.ndarray:
        w = self.weights
        x = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))  # "same": 28x28 out
        x = _relu(_convolve(x, w["conv1_kernel"]) + w["conv1_bias"])
        x = _relu(_convolve(_pool(x), w["conv2_kernel"]) + w["conv2_bias"])
        x = _pool(x).reshape(len(x), -1)  # (N, 5*5*16), channels last: Keras's Flatten
        x = _relu(x @ w["dense1_kernel"] + w["dense1_bias"])
        x = _relu(x @ w["dense2_kernel"] + w["dense2_bias"])
        logits = x @ w["output_kernel"] + w["output_bias"]
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _convolve(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A valid 2-D cross-correlation, as Keras's Conv2D: x (N, H, W, C), kernel (kh, kw, C, F)."""
    height, width, channels, filters = kernel.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (height, width), axis=(1, 2))
    n, rows, columns = windows.shape[:3]  # windows: (N, H', W', C, kh, kw)
    patches = windows.reshape(n * rows * columns, channels * height * width)  # a copy
    weights = kernel.transpose(2, 0, 1, 3).reshape(channels * height * width, filters)
    return (patches @ weights).reshape(n, rows, columns, filters)


def _pool(x: np.ndarray) -> np.ndarray:
    """2x2 max-pooling (the odd last row or column dropped, as Keras does)."""
    n, height, width, channels = x.shape
    x = x[:, : height // 2 * 2, : width // 2 * 2]
    return x.reshape(n, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))


def check_weights(weights: dict[str, np.ndarray], source: str = "the weights") -> None:
    """Refuse weights that are not exactly the network's: names, shapes, finite floats.

    Parameters
    ----------
    weights : dict of str to numpy.ndarray
        Arrays by name.
    source : str, default "the weights"
        How messages name where they came from.

    Raises
    ------
    ValueError
        A missing, extra or misshapen array, or one of another type or not finite.
    """
    if set(weights) != set(WEIGHT_SHAPES):
        missing = sorted(set(WEIGHT_SHAPES) - set(weights))
        extra = sorted(set(weights) - set(WEIGHT_SHAPES))
        raise ValueError(
            f"{source} are not a {ARCHITECTURE} network's "
            f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'})"
        )
    for name, shape in WEIGHT_SHAPES.items():
        array = weights[name]
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
            raise ValueError(f"{source}: {name} is not an array of floats")
        if array.shape != shape:
            raise ValueError(f"{source}: {name} has shape {array.shape}, not {shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"{source}: {name} holds values that are not finite")


def weights_to_bytes(weights: dict[str, np.ndarray]) -> dict[str, bytes]:
    """Each weight array as the bytes of a ``.npy`` file (float32, no pickle).

    Parameters
    ----------
    weights : dict of str to numpy.ndarray
        The arrays of :data:`WEIGHT_SHAPES`.

    Returns
    -------
    dict of str to bytes
        ``"<name>.npy"`` to the file's bytes.
    """
    check_weights(weights)
    files = {}
    for name in WEIGHT_SHAPES:
        buffer = io.BytesIO()
        np.lib.format.write_array(
            buffer, np.ascontiguousarray(weights[name], dtype="<f4"), allow_pickle=False
        )
        files[f"{name}.npy"] = buffer.getvalue()
    return files


def read_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The weight arrays of a CNN file, read without pickle and checked against the network.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`~checks.own_digit.models.save_model` for a CNN.

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays of :data:`WEIGHT_SHAPES`.

    Raises
    ------
    ValueError
        Not a zip archive, an array that cannot be read without pickle, or arrays that are not
        exactly the network's (see :func:`check_weights`).
    """
    name = shown_path(path)
    weights = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                if member[: -len(".npy")] not in WEIGHT_SHAPES:
                    raise ValueError(f"{name} holds an array the network does not have: {member}")
                with archive.open(member) as opened:
                    data = opened.read(50_000_000)
                weights[member[: -len(".npy")]] = np.lib.format.read_array(
                    io.BytesIO(data), allow_pickle=False
                )
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"cannot read {name} as a CNN file ({error})") from None
    except ValueError as error:  # a pickled (object) array, a bad header
        if str(error).startswith(name):
            raise
        raise ValueError(f"cannot read {name} as a CNN file ({error})") from None
    check_weights(weights, name)
    return weights


def train_cnn(
    data: dict[str, np.ndarray],
    *,
    epochs: int = EPOCHS,
    augment: bool = True,
    random_state: int = 42,
    log: Callable[[str], None] | None = None,
    progress: bool = True,
) -> tuple[CnnClassifier, dict[str, Any]]:
    """Train the LeNet-5 on MNIST images with Keras; return it as a NumPy classifier.

    Adam with a learning rate decayed along a cosine from :data:`LEARNING_RATE` to 0, batches of
    :data:`BATCH_SIZE`, ``epochs`` passes; with ``augment``, each pass sees every image moved
    afresh by :func:`jitter`.

    Parameters
    ----------
    data : dict of str to numpy.ndarray
        ``X_train`` (N, 28, 28) uint8 and ``y_train`` (see :mod:`checks.own_digit.dataset`).
    epochs : int, default 8
        Passes over the training images.
    augment : bool, default True
        Jitter the images at every pass.
    random_state : int, default 42
        Seeds Keras and the jitter.
    log : callable, optional
        Receives one line per epoch (loss and training accuracy).
    progress : bool, default True
        A progress bar on standard error, per epoch, advancing with each batch (tqdm, where it
        is installed).

    Returns
    -------
    tuple of (CnnClassifier, dict)
        The network, and what its metadata record adds: ``architecture``, ``epochs``,
        ``augment``, ``versions``, ``history`` (loss and accuracy per epoch).

    Raises
    ------
    DeepLearningMissing
        Keras is not installed.
    """
    keras = import_keras()
    try:
        from tqdm import tqdm  # the course extra has it; without it, only the lines of `log`
    except ImportError:
        tqdm = None
    keras.utils.set_random_seed(random_state)
    rng = np.random.default_rng(random_state)
    X = np.asarray(data["X_train"], dtype=np.float32)
    y = np.asarray(data["y_train"], dtype=np.int64)
    model = build_keras_model(keras)
    steps = epochs * int(np.ceil(len(X) / BATCH_SIZE))
    schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=max(1, steps))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    batches = int(np.ceil(len(X) / BATCH_SIZE))
    for epoch in range(epochs):
        images = jitter(X, rng) if augment else X
        callbacks = []
        bar = None
        if progress and tqdm is not None:
            bar = tqdm(
                total=batches, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", mininterval=1.0
            )
            callbacks.append(_bar_callback(keras, bar))
        try:
            fitted = model.fit(
                (images / 255.0)[..., None],
                y,
                batch_size=BATCH_SIZE,
                epochs=1,
                shuffle=True,
                verbose=0,
                callbacks=callbacks,
            )
        finally:
            if bar is not None:
                bar.close()
        for key in history:
            history[key].append(round(float(fitted.history[key][-1]), 4))
        if log is not None:
            log(
                f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4f}, "
                f"training accuracy {history['accuracy'][-1]:.4f}"
            )
    arrays = dict(zip(WEIGHT_SHAPES, model.get_weights(), strict=True))
    record = {
        "architecture": ARCHITECTURE,
        "epochs": epochs,
        "augment": dict(JITTER) if augment else None,
        "versions": deep_versions(),
        "history": history,
    }
    return CnnClassifier(arrays), record


def _bar_callback(keras: Any, bar: Any) -> Any:
    """A Keras callback advancing ``bar`` by one batch, its loss shown beside it."""

    class BarCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            bar.update(1)
            if logs and batch % 50 == 0:
                bar.set_postfix(loss=f"{float(logs.get('loss', 0.0)):.4f}", refresh=False)

    return BarCallback()
