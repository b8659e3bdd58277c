"""Describe any value or error in a few words, for a one-line message; never raise.

``describe(value)`` says what a value is (``the integer 1234``, ``a NumPy array of shape (3,)``)
and ``describe_error(error)`` an exception (``RecursionError: maximum recursion ...``), however
hostile the value: one whose ``repr`` raises, an integer of millions of digits, a list nested
10,000 deep. The checker's messages, the answer keys' and the submissions' use them.
"""

from __future__ import annotations

import math
import reprlib

import numpy as np

_SHOWN_LENGTH = 40

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
