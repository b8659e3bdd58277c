"""Your own digit (chapter 10): make any image of a digit look like MNIST, train, predict.

In a notebook::

    from checks.own_digit import to_mnist
    digit = to_mnist("my_digit.jpg")      # 28x28 uint8, white ink on black, like MNIST

The command line (``mnist-digit``, or ``python -m checks.own_digit``) lives in
:mod:`checks.own_digit.cli` and is not imported here.
"""

from checks.own_digit.preprocess import NoDigitFound, UnreadableImage, preprocess_steps, to_mnist

__all__ = ["NoDigitFound", "UnreadableImage", "preprocess_steps", "to_mnist"]
