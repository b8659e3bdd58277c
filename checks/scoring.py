"""Score flags' labels: each label set of the catalogue bound to the function that loads it.

A score flag (``kind = "score"`` in ``flags.toml``) rewards *reaching* a level, not reproducing
an exact number: its answer is a model's predictions for a held-out set, and it is captured when
the metric reaches the flag's threshold. The labels are never taken from the student: they are
loaded here, by the name the flag gives (``labels = "mnist_test"``).

What a label set is (its size, its description) is the catalogue's
(:data:`checks.catalogue.LABEL_SETS`); this module is the one place that knows how its labels are
loaded (:data:`LOADERS`), and so the one that imports the data modules. The judge
(:mod:`checks.judge`) measures a score against the labels :func:`labels` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from checks.catalogue import LABEL_SETS
from checks.kaggle import kaggle_test_labels
from checks.mnist import fetch_mnist_test_labels

#: Label set name -> the function that loads its labels: strings '0'-'9' (as MNIST gives them)
#: or digits. Called (and cached) only when a score is measured.
LOADERS: dict[str, Callable[[], np.ndarray]] = {
    "mnist_test": fetch_mnist_test_labels,
    "kaggle_test": kaggle_test_labels,
}
if set(LOADERS) != set(LABEL_SETS):  # an author's error: a label set without its loader
    raise RuntimeError(f"label sets {sorted(LABEL_SETS)} and loaders {sorted(LOADERS)} differ")


@cache
def labels(name: str) -> np.ndarray:
    """The labels of a label set, as whole numbers 0-9 (loaded once per process).

    Parameters
    ----------
    name : str
        A key of :data:`checks.catalogue.LABEL_SETS`.

    Returns
    -------
    numpy.ndarray
        The labels, dtype int64, read-only.

    Raises
    ------
    checks.mnist.MnistError
        If MNIST cannot be loaded.
    """
    loaded = np.asarray(LOADERS[name]()).astype(np.int64)
    loaded.setflags(write=False)
    return loaded


def loader(name: str) -> Callable[[], np.ndarray]:
    """How a judge's standard gets a label set's labels: :func:`labels`, when they are needed.

    Parameters
    ----------
    name : str
        The label set a score flag names (``"mnist_test"``).

    Returns
    -------
    callable
        Of no argument: it returns ``labels(name)``, loading them on its first call only.
    """
    return lambda: labels(name)
