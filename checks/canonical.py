"""Turn a student's value into the canonical text that is hashed, or explain why it can't be.

The canonical form never depends on ``repr`` (NumPy 2 changed how scalars print): integers are
decimal digits, floats are rounded to the flag's decimals and written with exactly that many,
strings are stripped, arrays are their shape and integer entries.
"""

from __future__ import annotations

import math
import numbers
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from checks.catalogue import Flag


class BadAnswer(ValueError):
    """The value cannot be an answer to this flag; the message is one line for the student."""


def _describe(value: object) -> str:
    text = repr(value) if not isinstance(value, np.ndarray) else f"array of shape {value.shape}"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def _unwrap_scalar(value: object) -> object:
    """Turn NumPy scalars and 0-d arrays into Python scalars; leave anything else alone."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _as_real(flag: Flag, value: object) -> float | int:
    value = _unwrap_scalar(value)
    if value is None:
        raise BadAnswer(
            f"expected {flag.describe_expected()}, got None (did a function return nothing?)"
        )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise BadAnswer(f"expected {flag.describe_expected()}, got {_describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadAnswer(
            f"expected {flag.describe_expected()}, got {value} (check for empty or invalid data)"
        )
    return value


def _integer_text(flag: Flag, value: object) -> str:
    number = _as_real(flag, value)
    if isinstance(number, float):
        if not number.is_integer():
            raise BadAnswer(f"expected {flag.describe_expected()}, got {number}")
        number = int(number)
    return str(int(number))


def _rounded(number: float, decimals: int) -> str:
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(number).quantize(quantum, rounding=ROUND_HALF_EVEN)
    if rounded.is_zero():
        rounded = abs(rounded)  # no "-0.000"
    return format(rounded, "f")


def _string_text(flag: Flag, value: object) -> str:
    value = _unwrap_scalar(value)
    if not isinstance(value, str):
        raise BadAnswer(
            f"expected a string such as '7' (MNIST labels are strings), got {_describe(value)}"
        )
    return value.strip()


def _array_text(flag: Flag, value: object) -> str:
    if isinstance(value, str) or value is None or value is Ellipsis:
        raise BadAnswer(f"expected {flag.describe_expected()}, got {_describe(value)}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise BadAnswer(
            f"expected {flag.describe_expected()}, but it is not an array ({error})"
        ) from None
    if array.shape != flag.shape:
        raise BadAnswer(f"expected {flag.describe_expected()}, got shape {array.shape}")
    if array.dtype.kind == "b" or array.dtype.kind not in "iuf":
        raise BadAnswer(f"expected {flag.describe_expected()}, got entries of type {array.dtype}")
    if array.dtype.kind == "f" and not (
        np.isfinite(array).all() and (array == np.round(array)).all()
    ):
        raise BadAnswer(
            f"expected {flag.describe_expected()}, got entries that are not whole numbers"
        )
    entries = ",".join(str(int(entry)) for entry in array.ravel())
    return "x".join(str(size) for size in array.shape) + ":" + entries


def canonical(flag: Flag, value: object) -> str:
    """The canonical text of ``value`` for ``flag``; raise :class:`BadAnswer` if it can't be one."""
    if flag.kind == "integer":
        return _integer_text(flag, value)
    if flag.kind == "float":
        return _rounded(float(_as_real(flag, value)), flag.decimals or 0)
    if flag.kind == "string":
        return _string_text(flag, value)
    return _array_text(flag, value)


def plain_value(flag: Flag, value: object) -> object:
    """``value`` as plain JSON data (numbers, strings, nested lists) that gives the same canonical.

    Used to carry a kernel's answer to the grader, which judges it itself: an array becomes
    nested lists, a NumPy scalar a Python number.
    """
    if flag.kind == "array":
        return np.asarray(value).tolist()
    value = _unwrap_scalar(value)
    return float(value) if flag.kind == "float" else value


def candidates(flag: Flag, value: object) -> list[str]:
    """The canonical texts accepted for ``value``: its own, plus for floats the nearest neighbour.

    A float is compared in its rounding bucket and in the neighbouring bucket on the side it is
    nearest to, so that platform noise at a bucket boundary does not fail a right answer.
    """
    own = canonical(flag, value)
    if flag.kind != "float":
        return [own]
    number = float(_as_real(flag, value))
    half_bucket = 0.5 * 10.0 ** -(flag.decimals or 0)
    texts = [
        own,
        _rounded(number - half_bucket, flag.decimals or 0),
        _rounded(number + half_bucket, flag.decimals or 0),
    ]
    return list(dict.fromkeys(texts))
