"""Predict the digit in image files with a course model (``mnist-digit predict``).

Each image becomes MNIST-like by :func:`~checks.own_digit.preprocess.to_mnist` (or, to see why
that matters, is only resized: :func:`~checks.own_digit.preprocess.plain_resize`), then the model
gives the digit, its probability and the three most probable digits. The digit is the most
probable one (for the SVM, ``predict_proba``'s argmax, which can differ from ``SVC.predict`` on
rare borderline images). A model without ``predict_proba`` (a hard-voting ensemble, an SVC
without ``probability=True``) gives the digit only: "probabilities not available".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from checks.own_digit.models import features
from checks.own_digit.preprocess import ImageLike, plain_resize, to_mnist

SHADES = " .:-=+*#%@"


@dataclass
class Prediction:
    """The prediction for one image."""

    #: What was predicted: the file name, or ``"image 1"`` for an array.
    source: str
    #: The digit predicted, 0..9.
    digit: int
    #: The 28x28 uint8 image the model saw.
    image: np.ndarray
    #: The probability of each class (in ``classes``' order), or None when not available.
    probabilities: np.ndarray | None = None
    #: The classes, in the model's order.
    classes: tuple[int, ...] = ()

    @property
    def top(self) -> list[tuple[int, float]]:
        """The three most probable digits with their probabilities (empty without them)."""
        if self.probabilities is None:
            return []
        order = np.argsort(-self.probabilities, kind="stable")[:3]
        return [(self.classes[i], float(self.probabilities[i])) for i in order]

    def __str__(self) -> str:
        if self.probabilities is None:
            return f"{self.source}: {self.digit} (probabilities not available)"
        top = ", ".join(f"{digit} {probability:.3f}" for digit, probability in self.top)
        return f"{self.source}: {self.digit} (probability {self.top[0][1]:.3f}; top 3: {top})"


def predict_digit(
    estimator: Any, image: ImageLike, *, preprocess: bool = True, source: str = "image"
) -> Prediction:
    """Predict the digit in one image.

    The image is preprocessed (or only resized), scaled like the training images, and
    given to the model.

    Parameters
    ----------
    estimator : sklearn classifier
        Trained on :func:`~checks.own_digit.models.features` of MNIST (e.g.
        ``load_model(path).estimator``).
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        An image file or an image (see :func:`~checks.own_digit.preprocess.to_mnist`); a 28x28
        uint8 array that is already MNIST-like can be given with ``preprocess=False``.
    preprocess : bool, default True
        Make it MNIST-like first; False only resizes it to 28x28 gray.
    source : str, default "image"
        How the result names the image (a path given as ``image`` names itself).

    Returns
    -------
    Prediction
        The digit, the probabilities and the 28x28 image the model saw.

    Raises
    ------
    checks.own_digit.NoDigitFound
        The image holds no digit.
    checks.own_digit.UnreadableImage
        A missing file or not an image.

    See Also
    --------
    checks.own_digit.to_mnist : The preprocessing.

    Examples
    --------
    >>> prediction = predict_digit(model, "my_digit.png")  # doctest: +SKIP
    >>> print(prediction)  # doctest: +SKIP
    my_digit.png: 7 (probability 0.930; top 3: 7 0.930, 1 0.040, 9 0.020)
    """
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        source = str(image)
    seen = to_mnist(image) if preprocess else plain_resize(image)
    rows = features(seen[np.newaxis])
    classes = tuple(int(c) for c in estimator.classes_)
    if hasattr(estimator, "predict_proba"):
        probabilities = estimator.predict_proba(rows)[0]
        digit = classes[int(np.argmax(probabilities))]
        return Prediction(source, digit, seen, probabilities, classes)
    return Prediction(source, int(estimator.predict(rows)[0]), seen, None, classes)


def as_text(image: np.ndarray) -> str:
    """A 28x28 image drawn in characters, darkest ``" "`` to brightest ``"@"``.

    For ``mnist-digit predict --show`` in a terminal.

    Parameters
    ----------
    image : numpy.ndarray
        A uint8 image (28, 28).

    Returns
    -------
    str
        28 lines of 56 characters (each pixel twice, for a square look).

    See Also
    --------
    predict_digit : Its ``image`` is what the model saw.

    Examples
    --------
    >>> len(as_text(np.zeros((28, 28), dtype=np.uint8)).splitlines())
    28
    """
    levels = (np.asarray(image, dtype=np.int64) * len(SHADES)) // 256
    return "\n".join("".join(SHADES[level] * 2 for level in row) for row in levels)
