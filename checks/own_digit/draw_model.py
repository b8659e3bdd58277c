"""The draw page's model: an MLP the course trains on MNIST, cached, and its forward pass.

The book's "Draw a digit" page and the notebook's drawing widget run this model in the browser.
It is trained once per set of library versions (a rebuild of the book does not retrain), cached in
``~/.cache/mnist-course/draw-model/`` (``$XDG_CACHE_HOME`` is honoured) as a skops file, and
written for the browser by :func:`model_js` as a ``.js`` file whose weights are the exact float64
values, base64-encoded (a ``<script>`` loads from ``file://``, a ``fetch()`` of JSON does not).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from checks.files import atomic_write_bytes, atomic_write_text, course_cache_dir

if TYPE_CHECKING:
    from sklearn.neural_network import MLPClassifier

HIDDEN_UNITS = 100
RANDOM_STATE = 42
N_TRAIN = 60_000
# What the JavaScript reads: ``window.MNIST_DRAW_MODEL``.
JS_GLOBAL = "MNIST_DRAW_MODEL"
_TRUSTED = ["sklearn.neural_network._stochastic_optimizers.AdamOptimizer"]


@dataclass(frozen=True)
class DrawModel:
    """The trained MLP and what was measured when it was trained.

    Attributes
    ----------
    model : MLPClassifier
        One hidden layer of 100 relu units, trained on MNIST's 60,000 training images / 255.
    test_accuracy : float
        Its accuracy on MNIST's 10,000 test images.
    train_seconds : float
        The wall time its training took.
    versions : dict of str to str
        The library versions it was trained with (part of its cache key).
    """

    model: MLPClassifier
    test_accuracy: float
    train_seconds: float
    versions: dict[str, str]

    @property
    def n_weights(self) -> int:
        """The number of weights and biases (784*100 + 100 + 100*10 + 10)."""
        coefs, intercepts = self.model.coefs_, self.model.intercepts_
        return sum(a.size for a in coefs) + sum(b.size for b in intercepts)


def model_settings() -> dict[str, object]:
    """The MLP's settings: one home for them, also part of the cache key."""
    return {
        "hidden_layer_sizes": (HIDDEN_UNITS,),
        "activation": "relu",
        "random_state": RANDOM_STATE,
    }


def library_versions() -> dict[str, str]:
    """The versions of the libraries that shape the trained weights."""
    return {name: metadata.version(name) for name in ("numpy", "scipy", "scikit-learn")}


def cache_key() -> str:
    """A short digest of the settings and the library versions: a new one retrains."""
    described = json.dumps(
        {"settings": model_settings(), "versions": library_versions(), "n_train": N_TRAIN},
        sort_keys=True,
    )
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def cache_folder() -> Path:
    """Where trained draw models are kept: ``~/.cache/mnist-course/draw-model``."""
    return course_cache_dir() / "draw-model"


def train_draw_model(data_dir: str | Path | None = None) -> DrawModel:
    """Train the MLP on MNIST's 60,000 training images scaled to 0..1, and measure it.

    Parameters
    ----------
    data_dir : str or path, optional
        A folder of the MNIST IDX files, as for :func:`checks.mnist.fetch_mnist`.

    Returns
    -------
    DrawModel
        The fitted model, its test accuracy and training time.
    """
    from sklearn.neural_network import MLPClassifier

    from checks.mnist import fetch_mnist

    mnist = fetch_mnist(data_dir, verbose=False)
    X = mnist.data / 255.0
    y = mnist.target
    model = MLPClassifier(**model_settings())
    started = time.perf_counter()
    model.fit(X[:N_TRAIN], y[:N_TRAIN])
    seconds = time.perf_counter() - started
    accuracy = float(model.score(X[N_TRAIN:], y[N_TRAIN:]))
    return DrawModel(model, accuracy, seconds, library_versions())


def load_or_train_draw_model(data_dir: str | Path | None = None) -> DrawModel:
    """The cached draw model for the installed libraries, trained and cached on first use.

    Parameters
    ----------
    data_dir : str or path, optional
        A folder of the MNIST IDX files, used only when the model must be trained.

    Returns
    -------
    DrawModel
        The model and its measurements.
    """
    import skops.io

    folder = cache_folder()
    key = cache_key()
    weights, record = folder / f"mlp-{key}.skops", folder / f"mlp-{key}.json"
    if weights.is_file() and record.is_file():
        recorded = json.loads(record.read_text(encoding="utf-8"))
        model = skops.io.load(weights, trusted=_trusted_types(weights))
        return DrawModel(
            model, recorded["test_accuracy"], recorded["train_seconds"], recorded["versions"]
        )
    trained = train_draw_model(data_dir)
    atomic_write_bytes(weights, skops.io.dumps(trained.model))
    atomic_write_text(
        record,
        json.dumps(
            {
                "test_accuracy": trained.test_accuracy,
                "train_seconds": trained.train_seconds,
                "versions": trained.versions,
                "settings": model_settings(),
            },
            indent=1,
        ),
    )
    return trained


def _trusted_types(path: Path) -> list[str]:
    """The types in the file, refused unless each is one this module expects."""
    import skops.io

    found = skops.io.get_untrusted_types(file=path)
    unexpected = sorted(set(found) - set(_TRUSTED))
    if unexpected:
        raise ValueError(f"{path} holds unexpected types {unexpected}: delete it to retrain")
    return found


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


def model_js(draw_model: DrawModel) -> str:
    """The draw model as a script that sets ``window.MNIST_DRAW_MODEL`` (exact float64 weights).

    Parameters
    ----------
    draw_model : DrawModel
        The trained model.

    Returns
    -------
    str
        JavaScript source for a ``<script>`` tag (it loads from ``file://``, where a ``fetch()``
        of JSON is refused).
    """
    described = model_description(draw_model.model, draw_model.test_accuracy)
    described["versions"] = draw_model.versions
    return (
        "// The draw page's MLP, written when the book was built (checks.own_digit.draw_model).\n"
        f"window.{JS_GLOBAL} = {json.dumps(described)};\n"
    )
