"""Turn a student's value into the canonical text that is hashed, or explain why it can't be.

The canonical form never depends on ``repr`` (NumPy 2 changed how scalars print): integers are
decimal digits, floats are rounded to the flag's decimals and written with exactly that many,
strings are stripped, arrays are their shape and integer entries, a score flag's predictions are
their digits written one after the other.

Whatever the value, :func:`canonical`, :func:`candidates` and :func:`plain_value` either return
or raise :class:`BadAnswer` with a one-line message: a value whose ``repr``, ``float`` or
``__array__`` raises, a number too large for any conversion or a list nested 10,000 deep is a bad
answer, never a crash.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import TypeVar

import numpy as np

from checks.catalogue import Flag
from checks.scoring import LABEL_SETS

#: No answer of the course comes near this magnitude. A larger number is refused with a plain
#: message before a conversion can overflow (a float of 1e25 written with 4 decimals has more
#: digits than Python's default decimal precision).
LARGEST = 1e25
#: A string answer is a label such as ``'7'``; a longer one is refused before it is hashed.
LONGEST_STRING = 1_000
#: Enough digits to round any number below :data:`LARGEST` to any flag's decimals exactly.
_DECIMALS_CONTEXT = Context(prec=80, rounding=ROUND_HALF_EVEN)
_SHOWN_LENGTH = 40

T = TypeVar("T")


class BadAnswer(ValueError):
    """The value cannot be an answer to this flag; the message is one line for the student."""


# --- Describing any value, safely ---------------------------------------------------------

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 2, 4, 4, 2
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = _SHORT.maxset = _SHORT.maxfrozenset = 40


def _digits(integer: int) -> int:
    """About how many decimal digits ``integer`` has, without writing it out."""
    return int(int.bit_length(integer) * math.log10(2)) + 1


def _short_text(value: object) -> str:
    text = " ".join(_SHORT.repr(value).split())
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


#: How the everyday types are named in a message ("got the string '5'"); any other type, or a
#: subclass, is named by its class ("got a Fraction Fraction(1, 2)").
_NOUNS = {
    str: "the string",
    int: "the integer",
    float: "the number",
    bool: "the boolean",
    list: "a list",
    tuple: "a tuple",
    dict: "a dict",
    set: "a set",
}


def _with_article(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _describe(value: object) -> str:
    kind = type(value)
    if value is None or value is Ellipsis:
        return repr(value)
    if kind is np.ndarray:
        return f"a NumPy array of shape {value.shape}"  # type: ignore[union-attr]
    if isinstance(value, np.ndarray):
        return f"{_with_article(kind.__name__)} (a NumPy array) of shape {value.shape}"
    if kind is int and int.bit_length(value) > 128:  # type: ignore[arg-type]
        return f"an integer of about {_digits(value):,} digits"  # type: ignore[arg-type]
    if isinstance(value, np.generic):
        return f"a NumPy {kind.__name__} {_short_text(value.item())}"
    noun = _NOUNS.get(kind)
    if noun:
        return f"{noun} {_short_text(value)}"
    return f"{_with_article(kind.__name__)} {_short_text(value)}"


def describe(value: object) -> str:
    """A short one-line description of any value, in words: ``the integer 1234``; never raises.

    Parameters
    ----------
    value : object
        Anything, including objects whose ``repr`` raises and integers of millions of digits.

    Returns
    -------
    str
        What the value is and a shortened ``repr``: ``the string '5'``, ``a NumPy array of
        shape (3,)``, ``a Fraction Fraction(1, 2)``.
    """
    try:
        return _describe(value)
    except Exception:
        return "a value that cannot be shown"


def describe_error(error: BaseException) -> str:
    """An exception as one short line, ``RecursionError: maximum recursion ...``; never raises.

    Parameters
    ----------
    error : BaseException
        Any exception, including one whose ``str`` raises.

    Returns
    -------
    str
        The exception's type and the first line of its message, shortened.
    """
    try:
        lines = str(error).strip().splitlines()
        message = lines[0] if lines else ""
    except Exception:
        message = ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= 2 * _SHOWN_LENGTH else text[: 2 * _SHOWN_LENGTH - 3] + "..."


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


def _float_text(flag: Flag, value: object) -> str:
    return _rounded(float(_as_real(flag, value)), flag.decimals or 0)


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


def _predictions(flag: Flag, value: object) -> np.ndarray:
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


def _canonical(flag: Flag, value: object) -> str:
    if flag.kind == "integer":
        return _integer_text(flag, value)
    if flag.kind == "float":
        return _float_text(flag, value)
    if flag.kind == "string":
        return _string_text(flag, value)
    if flag.kind == "score":
        return "".join(_DIGIT_TEXTS[digit] for digit in _predictions(flag, value))
    return _array_text(flag, value)


def canonical(flag: Flag, value: object) -> str:
    """The canonical text of ``value`` for ``flag``.

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
    return _guarded(flag, lambda: _canonical(flag, value))


def plain_value(flag: Flag, value: object) -> object:
    """``value`` as plain JSON data (numbers, strings, nested lists) that gives the same canonical.

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
    text = canonical(flag, value)
    if flag.kind == "integer":
        return int(text)
    if flag.kind == "string":
        return text
    if flag.kind == "score":
        return [int(digit) for digit in text]
    if flag.kind == "array":
        entries = text.split(":")[1]
        integers = [int(entry) for entry in entries.split(",")] if entries else []
        return np.array(integers, dtype=object).reshape(flag.shape or ()).tolist()
    return _guarded(flag, lambda: float(_as_real(flag, value)))


def _float_candidates(flag: Flag, value: object, own: str) -> list[str]:
    number = float(_as_real(flag, value))
    half_bucket = 0.5 * 10.0 ** -(flag.decimals or 0)
    texts = [
        own,
        _rounded(number - half_bucket, flag.decimals or 0),
        _rounded(number + half_bucket, flag.decimals or 0),
    ]
    return list(dict.fromkeys(texts))


def candidates(flag: Flag, value: object) -> list[str]:
    """The canonical texts accepted for ``value``: its own, plus for floats the nearest neighbour.

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
    own = canonical(flag, value)
    if flag.kind != "float":
        return [own]
    return _guarded(flag, lambda: _float_candidates(flag, value, own))
