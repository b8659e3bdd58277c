"""Your own digit (chapter 10): make any image of a digit look like MNIST, train, predict.

In a notebook::

    from checks.own_digit import to_mnist, load_model, predict_digit, sample_images
    digit = to_mnist("my_digit.jpg")      # 28x28 uint8, white ink on black, like MNIST
    model = load_model("mlp.skops")       # made by `mnist-digit train` or save_model
    print(predict_digit(model.estimator, "my_digit.jpg"))

Modules, one job each: :mod:`~checks.own_digit.preprocess` (the MNIST recipe, for real photos
and drawings), :mod:`~checks.own_digit.morphology` (its exact cleaning operations),
:mod:`~checks.own_digit.dataset` (MNIST to a training-set file),
:mod:`~checks.own_digit.models` (train, save, load), :mod:`~checks.own_digit.model_file`
(a model file's sizes, arrays and trees checked before use), :mod:`~checks.own_digit.predict`,
:mod:`~checks.own_digit.samples_index` (the shipped sample images). The command line
(``mnist-digit``, or ``python -m checks.own_digit``) is :mod:`checks.own_digit.cli`, not
imported here; its ``predict`` runs in a child with limits (:mod:`checks.own_digit.limited`).
"""

from checks.own_digit.models import (
    ModelFileError,
    features,
    load_model,
    save_model,
    train_model,
)
from checks.own_digit.predict import Prediction, predict_digit
from checks.own_digit.preprocess import (
    NoDigitFound,
    UnreadableImage,
    plain_resize,
    preprocess_steps,
    to_mnist,
)
from checks.own_digit.samples_index import sample_images, sample_label

__all__ = [
    "ModelFileError",
    "NoDigitFound",
    "Prediction",
    "UnreadableImage",
    "features",
    "load_model",
    "plain_resize",
    "predict_digit",
    "preprocess_steps",
    "sample_images",
    "sample_label",
    "save_model",
    "to_mnist",
    "train_model",
]
