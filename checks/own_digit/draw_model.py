"""The draw page's model: the course's MLP (``mnist-digit train --model mlp``), cached.

The book's "Draw a digit" page and the notebook's drawing widget run this model in the browser.
It is the ``mlp`` of :mod:`checks.own_digit.models` (one hidden layer of 100 ReLU units, trained
on MNIST's 60,000 training images / 255), trained once per set of library versions, so that a
rebuild of the book does not retrain, and kept as a course model file in
``~/.cache/mnist-course/draw-model/`` (``$XDG_CACHE_HOME`` is honoured). :func:`model_js` writes
it for the browser as a ``.js`` file of exact float64 weights in base64 (a ``<script>`` loads from
``file://``, a ``fetch()`` of JSON does not).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from checks.files import make_folder
from checks.layout import cache_dir
from checks.own_digit.models import (
    RANDOM_STATE,
    TrainedModel,
    library_versions,
    load_model,
    make_model,
    save_model,
    train_model,
)

if TYPE_CHECKING:
    from sklearn.neural_network import MLPClassifier

KIND = "mlp"
# What the JavaScript reads: ``window.MNIST_DRAW_MODEL``.
JS_GLOBAL = "MNIST_DRAW_MODEL"


def cache_key() -> str:
    """A short digest of the MLP's settings and the library versions: a new one retrains."""
    settings = make_model(KIND).get_params()
    described = json.dumps(
        {"kind": KIND, "settings": settings, "versions": library_versions()},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def cache_folder() -> Path:
    """Where trained draw models are kept: ``~/.cache/mnist-course/draw-model``."""
    return cache_dir() / "draw-model"


def cached_model_path() -> Path:
    """The model file for the installed libraries (it may not exist yet)."""
    return cache_folder() / f"{KIND}-{cache_key()}.skops"


def load_or_train_draw_model(data_dir: str | None = None) -> TrainedModel:
    """The cached draw model for the installed libraries, trained and cached on first use.

    The cache folder is created when missing (a new machine's empty home has none).

    Parameters
    ----------
    data_dir : str, optional
        A folder of the MNIST IDX files, used only when the model must be trained.

    Returns
    -------
    TrainedModel
        The fitted MLP and its metadata (``test_accuracy``, ``training_seconds``, versions).
    """
    from filelock import FileLock

    from checks.own_digit.dataset import mnist_dataset

    path = cached_model_path()
    # Two builds at once (the book and a test's small book) train once: the second waits for
    # the first's file, then reads it.
    with FileLock(str(make_folder(cache_folder()) / ".train.lock")):
        if path.is_file():
            return load_model(path)
        trained = train_model(KIND, mnist_dataset(data_dir=data_dir), random_state=RANDOM_STATE)
        save_model(path, trained)
    return trained


def predict_proba(model: MLPClassifier, image: np.ndarray) -> np.ndarray:
    """The ten probabilities the model gives a 28x28 uint8 image (scaled by 1/255, as trained).

    Parameters
    ----------
    model : MLPClassifier
        The draw model.
    image : ndarray of shape (28, 28), dtype uint8
        An MNIST-like image: ink 255 on background 0.

    Returns
    -------
    ndarray of shape (10,), dtype float64
        The probabilities of the digits 0 to 9.
    """
    row = np.asarray(image, dtype=np.float64).reshape(1, 784) / 255.0
    return model.predict_proba(row)[0]


def _encoded(array: np.ndarray) -> str:
    """The float64 values, little-endian, row-major, in base64."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f8").tobytes()).decode("ascii")


def model_description(model: MLPClassifier, test_accuracy: float | None = None) -> dict:
    """A fitted MLP as the JavaScript reads it: layer shapes and exact float64 weights in base64.

    Parameters
    ----------
    model : MLPClassifier
        Fitted, with ReLU hidden layers (the output layer of a classifier is a softmax).
    test_accuracy : float, optional
        Shown on the page under the bars.

    Returns
    -------
    dict
        JSON-ready: ``classes``, ``layers`` (``inputs``, ``outputs``, base64 ``weights`` row-major
        inputs x outputs, ``biases``), ``n_weights``, ``test_accuracy``.

    Raises
    ------
    ValueError
        For another activation or output than the JavaScript computes.
    """
    if model.activation != "relu" or model.out_activation_ != "softmax":
        raise ValueError(
            "the drawing canvas computes ReLU hidden layers and a softmax output, not "
            f"{model.activation} and {model.out_activation_}"
        )
    layers = [
        {
            "inputs": int(coef.shape[0]),
            "outputs": int(coef.shape[1]),
            "weights": _encoded(coef),
            "biases": _encoded(bias),
        }
        for coef, bias in zip(model.coefs_, model.intercepts_, strict=True)
    ]
    n_weights = sum(a.size for a in model.coefs_) + sum(b.size for b in model.intercepts_)
    return {
        "format": "mlp-relu-softmax-float64-base64",
        "classes": [str(c) for c in model.classes_],
        "layers": layers,
        "n_weights": int(n_weights),
        "test_accuracy": test_accuracy,
    }


def model_js(trained: TrainedModel) -> str:
    """The draw model as a script that sets ``window.MNIST_DRAW_MODEL`` (exact float64 weights).

    Parameters
    ----------
    trained : TrainedModel
        The draw model, from :func:`load_or_train_draw_model`.

    Returns
    -------
    str
        JavaScript source for a ``<script>`` tag (it loads from ``file://``, where a ``fetch()``
        of JSON is refused).
    """
    described = model_description(trained.estimator, trained.metadata["test_accuracy"])
    described["versions"] = trained.metadata["versions"]
    return (
        "// The draw page's MLP, written when the book was built (checks.own_digit.draw_model).\n"
        f"window.{JS_GLOBAL} = {json.dumps(described)};\n"
    )
