"""Turn a student's value into the canonical text that is hashed, or explain why it can't be.

The canonical form never depends on ``repr`` (NumPy 2 changed how scalars print): integers are
decimal digits, floats are rounded to the flag's decimals and written with exactly that many,
strings are stripped, arrays are their shape and integer entries, a score flag's predictions are
their digits written one after the other.

:func:`read_answer` reads a value once into an :class:`Answer`: its canonical text, the texts a
key may match, and the plain value a kernel records. Whatever the value, it (and
:func:`canonical`, :func:`candidates`, :func:`plain_value`, :func:`predictions`) either returns
or raises :class:`BadAnswer` with a one-line message: a value whose ``repr``, ``float`` or
``__array__`` raises, a number too large for any conversion or a list nested 10,000 deep is a bad
answer, never a crash.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import TypeVar

import numpy as np

from checks.catalogue import LABEL_SETS, MEMBER_ROWS, TABLE_METRICS, Flag
from checks.describe import describe, describe_error

#: No answer of the course comes near this magnitude. A larger number is refused with a plain
#: message before a conversion can overflow (a float of 1e25 written with 4 decimals has more
#: digits than Python's default decimal precision).
LARGEST = 1e25
#: A string answer is a label such as ``'7'``; a longer one is refused before it is hashed.
LONGEST_STRING = 1_000
#: Enough digits to round any number below :data:`LARGEST` to any flag's decimals exactly.
_DECIMALS_CONTEXT = Context(prec=80, rounding=ROUND_HALF_EVEN)

T = TypeVar("T")


class BadAnswer(ValueError):
    """The value cannot be an answer to this flag; the message is one line for the student."""


# --- Numbers -------------------------------------------------------------------------------


def _unwrap_scalar(value: object) -> object:
    """Turn NumPy scalars and 0-d arrays into Python scalars; leave anything else alone."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _is_finite(number: numbers.Real) -> bool:
    if isinstance(number, int):
        return True
    if isinstance(number, np.floating):  # a long double: no trip through a Python float
        return bool(np.isfinite(number))
    try:
        return math.isfinite(number)
    except OverflowError:  # finite, but too large for a float: refused as too large
        return True


def _is_too_large(number: numbers.Real) -> bool:
    if isinstance(number, int):
        return abs(number) >= LARGEST
    if isinstance(number, np.floating):
        return bool(np.abs(number) >= LARGEST)
    try:
        return abs(float(number)) >= LARGEST
    except OverflowError:
        return True


def _number_text(number: object) -> str:
    return str(number) if type(number) is float else describe(number)


def _as_real(flag: Flag, value: object) -> numbers.Real:
    value = _unwrap_scalar(value)
    expected = flag.describe_expected()
    if value is None:
        raise BadAnswer(f"expected {expected}, got None (did a function return nothing?)")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise BadAnswer(f"expected {expected}, got {describe(value)}")
    if not _is_finite(value):
        raise BadAnswer(
            f"expected {expected}, got {_number_text(value)} (check for empty or invalid data)"
        )
    if _is_too_large(value):
        raise BadAnswer(
            f"expected {expected}, got {describe(value)}, which is far too large to be an answer"
        )
    return value


def _integer_text(flag: Flag, value: object) -> str:
    """Only a value exactly equal to an integer is one: 1234.0 is 1234, a long 1234.5 is not."""
    number = _as_real(flag, value)
    integral = int(number)
    if integral != number:
        raise BadAnswer(f"expected {flag.describe_expected()}, got {_number_text(number)}")
    return str(integral)


def _rounded(number: float, decimals: int) -> str:
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(number).quantize(quantum, context=_DECIMALS_CONTEXT)
    if rounded.is_zero():
        rounded = abs(rounded)  # no "-0.000"
    return format(rounded, "f")


# --- Strings and arrays --------------------------------------------------------------------


def _string_text(flag: Flag, value: object) -> str:
    value = _unwrap_scalar(value)
    expected = "a string such as '7' (MNIST labels are strings)"
    if not isinstance(value, str):
        raise BadAnswer(f"expected {expected}, got {describe(value)}")
    if str.__len__(value) > LONGEST_STRING:
        raise BadAnswer(f"expected {expected}, got a string far too long to be an answer")
    text = str.strip(value)  # a plain str, whatever the subclass
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadAnswer(f"expected {expected}, got a string that is not valid text") from None
    return text


def _as_array(value: object, expected: str) -> np.ndarray:
    """``value`` as a NumPy array, or a BadAnswer saying what was ``expected``."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise BadAnswer(
            f"expected {expected}, but it is not an array ({describe_error(error)})"
        ) from None


def _array_text(flag: Flag, value: object) -> str:
    expected = flag.describe_expected()
    if isinstance(value, str) or value is None or value is Ellipsis:
        raise BadAnswer(f"expected {expected}, got {describe(value)}")
    array = _as_array(value, expected)
    if array.shape != flag.shape:
        raise BadAnswer(f"expected {expected}, got shape {array.shape}")
    if array.dtype.kind == "b" or array.dtype.kind not in "iuf":
        raise BadAnswer(f"expected {expected}, got entries of type {array.dtype}")
    if array.dtype.kind == "f" and not (
        np.isfinite(array).all() and (array == np.round(array)).all()
    ):
        raise BadAnswer(f"expected {expected}, got entries that are not whole numbers")
    if array.dtype.kind == "f" and (np.abs(array) >= LARGEST).any():
        raise BadAnswer(f"expected {expected}, got entries far too large to be an answer")
    entries = ",".join(str(int(entry)) for entry in array.ravel())
    return "x".join(str(size) for size in array.shape) + ":" + entries


# --- Predictions (score flags) -------------------------------------------------------------

_DIGIT_TEXTS = tuple(str(digit) for digit in range(10))


def _digit(item: object) -> int | None:
    """One prediction as a digit 0-9: from ``'7'``, ``7`` or ``7.0``; None if it is not one."""
    item = _unwrap_scalar(item)
    if isinstance(item, str):
        return _DIGIT_TEXTS.index(item) if item in _DIGIT_TEXTS else None
    if isinstance(item, bool) or not isinstance(item, numbers.Real):
        return None
    if isinstance(item, int):
        return item if 0 <= item <= 9 else None
    number = float(item)
    return int(number) if number in range(10) else None


def _digits_of(flag: Flag, array: np.ndarray) -> np.ndarray:
    """A 1-D array's entries as digits 0-9, or :class:`BadAnswer` naming the first that is not."""
    expected = flag.describe_expected()
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise BadAnswer(f"expected {expected}, got NaN among them (a prediction is missing)")
    if array.dtype.kind in "iu" and ((array >= 0) & (array <= 9)).all():
        return array.astype(np.int64)
    if array.dtype.kind == "U" and np.isin(array, _DIGIT_TEXTS).all():
        return array.astype(np.int64)
    if array.dtype.kind in "iufUO":
        digits = [_digit(item) for item in array]
        bad = next((index for index, digit in enumerate(digits) if digit is None), None)
        if bad is None:
            return np.array(digits, dtype=np.int64)
        item = _unwrap_scalar(array[bad])
        if isinstance(item, float) and math.isnan(item):
            raise BadAnswer(f"expected {expected}, got NaN among them (a prediction is missing)")
        shown = describe(item)
        raise BadAnswer(f"expected {expected}, got labels that are not digits, such as {shown}")
    raise BadAnswer(f"expected {expected}, got entries of type {array.dtype}")


def _prediction_table(flag: Flag, value: object) -> np.ndarray:
    """A table metric's answer: rows of predictions, the ensemble's first, then its members'."""
    expected = flag.describe_expected()
    size = LABEL_SETS[flag.labels or ""].size
    if isinstance(value, str | bytes | dict) or value is None or value is Ellipsis:
        raise BadAnswer(f"expected {expected}, got {describe(value)}")
    if hasattr(value, "__len__") and not isinstance(value, np.ndarray):
        rows = len(value)  # refuse a huge list before converting it
        if not MEMBER_ROWS[0] + 1 <= rows <= MEMBER_ROWS[1] + 1:
            raise BadAnswer(f"expected {expected}, got {rows:,} rows")
    array = _as_array(value, expected)
    if array.ndim != 2 or not MEMBER_ROWS[0] + 1 <= len(array) <= MEMBER_ROWS[1] + 1:
        raise BadAnswer(f"expected {expected}, got an array of shape {array.shape}")
    if array.shape[1] != size:
        raise BadAnswer(f"expected {expected}, got rows of {array.shape[1]:,}")
    return np.stack([_digits_of(flag, row) for row in array])


def _predictions(flag: Flag, value: object) -> np.ndarray:
    if flag.metric in TABLE_METRICS:
        return _prediction_table(flag, value)
    expected = flag.describe_expected()
    size = LABEL_SETS[flag.labels or ""].size
    if isinstance(value, str | bytes | dict) or value is None or value is Ellipsis:
        raise BadAnswer(f"expected {expected}, got {describe(value)}")
    if hasattr(value, "__len__") and not isinstance(value, np.ndarray):
        length = len(value)  # refuse a huge list before converting it
        if length != size:
            raise BadAnswer(f"expected {expected}, got {length:,} of them")
    array = _as_array(value, expected)
    if array.ndim != 1:
        flat = " (use .ravel() on a column of predictions)" if array.size == size else ""
        raise BadAnswer(f"expected {expected}, got an array of shape {array.shape}{flat}")
    if len(array) != size:
        raise BadAnswer(f"expected {expected}, got {len(array):,} of them")
    return _digits_of(flag, array)


def predictions(flag: Flag, value: object) -> np.ndarray:
    """A score flag's answer as predictions: one digit 0-9 per label of its label set.

    Parameters
    ----------
    flag : Flag
        A score flag (``kind = "score"``).
    value : object
        Anything; predictions are any 1-D array-like of the strings ``'0'``-``'9'`` (as MNIST's
        labels) or the whole numbers 0-9, one per image.

    Returns
    -------
    numpy.ndarray
        The predictions as int64 digits.

    Raises
    ------
    BadAnswer
        For a value of the wrong length or shape, labels that are not digits, NaN, or anything
        that cannot be read, with a one-line message; never anything else.
    """
    return _guarded(flag, lambda: _predictions(flag, value))


# --- The public functions ------------------------------------------------------------------


def _guarded(flag: Flag, compute: Callable[[], T]) -> T:
    """Run ``compute``; turn any error but :class:`BadAnswer` into a :class:`BadAnswer`."""
    try:
        return compute()
    except BadAnswer:
        raise
    except Exception as error:
        raise BadAnswer(
            f"expected {flag.describe_expected()}, got a value that cannot be read "
            f"({describe_error(error)})"
        ) from None


@dataclass(frozen=True)
class Answer:
    """A value read once as the answer to a flag: all that judging and recording need of it.

    Made by :func:`read_answer`, the one conversion of a value: the judge compares its texts
    with a key and the declared mistakes, the recorder writes its plain value, and nothing
    reads the value again.
    """

    flag: Flag
    #: The canonical text: ``"1234"``, ``"0.125"``, ``"7"``, ``"2x2:1,2,3,4"``; for a score flag
    #: (never hashed) its predictions' digits, ``"7210..."``.
    text: str
    #: The texts a key may match: :attr:`text` first, then for a float flag the nearest
    #: neighbour, so that platform noise at a bucket boundary does not fail a right answer.
    candidates: tuple[str, ...]
    #: Plain JSON data that reads as the same answer (what a kernel records for the grader).
    plain: object
    #: A score flag's predictions, int64 digits 0-9; None for any other flag.
    predictions: np.ndarray | None = field(default=None, compare=False)


def _float_answer(flag: Flag, value: object) -> Answer:
    number = float(_as_real(flag, value))
    decimals = flag.decimals or 0
    own = _rounded(number, decimals)
    half_bucket = 0.5 * 10.0**-decimals
    nearest = (
        own,
        _rounded(number - half_bucket, decimals),
        _rounded(number + half_bucket, decimals),
    )
    return Answer(flag, own, tuple(dict.fromkeys(nearest)), number)


def _array_plain(flag: Flag, text: str) -> object:
    entries = text.split(":")[1]
    integers = [int(entry) for entry in entries.split(",")] if entries else []
    return np.array(integers, dtype=object).reshape(flag.shape or ()).tolist()


def _read(flag: Flag, value: object) -> Answer:
    if flag.kind == "integer":
        text = _integer_text(flag, value)
        return Answer(flag, text, (text,), int(text))
    if flag.kind == "float":
        return _float_answer(flag, value)
    if flag.kind == "string":
        text = _string_text(flag, value)
        return Answer(flag, text, (text,), text)
    if flag.kind == "score":
        digits = _predictions(flag, value)
        if digits.ndim == 2:  # a table: a row per model
            rows = ["".join(_DIGIT_TEXTS[digit] for digit in row) for row in digits]
            plain = [[int(digit) for digit in row] for row in rows]
            return Answer(flag, "|".join(rows), ("|".join(rows),), plain, digits)
        text = "".join(_DIGIT_TEXTS[digit] for digit in digits)
        return Answer(flag, text, (text,), [int(digit) for digit in text], digits)
    text = _array_text(flag, value)
    return Answer(flag, text, (text,), _array_plain(flag, text))


def read_answer(flag: Flag, value: object) -> Answer:
    """Read ``value`` as the answer to ``flag``, once: its canonical texts and its plain value.

    Parameters
    ----------
    flag : Flag
        The flag the value answers; its kind (and decimals, shape, label set) say how to read it.
    value : object
        Anything.

    Returns
    -------
    Answer
        The canonical text, the texts a key may match, the plain JSON value, and for a score
        flag the predictions.

    Raises
    ------
    BadAnswer
        For any value that cannot be an answer, with a one-line message; never anything else.

    Examples
    --------
    >>> from checks.catalogue import get_flag
    >>> read_answer(get_flag("1.1"), 5923).text
    '5923'
    """
    return _guarded(flag, lambda: _read(flag, value))


def canonical(flag: Flag, value: object) -> str:
    """The canonical text of ``value`` for ``flag`` (:attr:`Answer.text`).

    Parameters
    ----------
    flag : Flag
        The flag the value answers; its kind (and decimals, shape) say how to write it.
    value : object
        Anything.

    Returns
    -------
    str
        The text that is hashed: ``"1234"``, ``"0.125"``, ``"7"``, ``"2x2:1,2,3,4"``; for a
        score flag (never hashed) its predictions' digits, ``"7210..."``.

    Raises
    ------
    BadAnswer
        For any value that cannot be an answer, with a one-line message; never anything else.
    """
    return read_answer(flag, value).text


def plain_value(flag: Flag, value: object) -> object:
    """``value`` as plain JSON data that gives the same canonical (:attr:`Answer.plain`).

    Used to carry a kernel's answer to the grader, which judges it itself: an array becomes
    nested lists of Python ints, an integer answer a Python int, a NumPy float a Python float.

    Parameters
    ----------
    flag : Flag
        The flag the value answers.
    value : object
        A value that can be an answer to ``flag``.

    Returns
    -------
    object
        An int, float, str or nested list of ints (a score flag's predictions: a list of ints).

    Raises
    ------
    BadAnswer
        If the value cannot be an answer; never anything else.
    """
    return read_answer(flag, value).plain


def candidates(flag: Flag, value: object) -> list[str]:
    """The canonical texts accepted for ``value`` (:attr:`Answer.candidates`).

    A float is compared in its rounding bucket and in the neighbouring bucket on the side it is
    nearest to, so that platform noise at a bucket boundary does not fail a right answer.

    Parameters
    ----------
    flag : Flag
        The flag the value answers.
    value : object
        Anything.

    Returns
    -------
    list of str
        The value's canonical text first, then for a float flag its nearest neighbour.

    Raises
    ------
    BadAnswer
        For any value that cannot be an answer; never anything else.
    """
    return list(read_answer(flag, value).candidates)
