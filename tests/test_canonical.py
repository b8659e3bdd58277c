"""Canonical answer texts: exact for every kind, rounding buckets for floats, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from checks.canonical import BadAnswer, candidates, canonical
from checks.catalogue import Flag

INTEGER = Flag("9.1", "an integer", 10, "integer", "hint")
FLOAT = Flag("9.2", "a float", 10, "float", "hint", decimals=3)
STRING = Flag("9.3", "a string", 10, "string", "hint")
ARRAY = Flag("9.4", "an array", 10, "array", "hint", shape=(2, 2))


@pytest.mark.parametrize(
    "value",
    [
        5421,
        np.int64(5421),
        np.array(5421),
        np.float64(5421.0),
        5421.0,
        np.array([[5421]]).sum(),
        np.uint16(5421),
    ],
)
def test_integers_in_any_numeric_form(value):
    assert canonical(INTEGER, value) == "5421"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.90965, "0.910"),
        (np.float32(0.25), "0.250"),
        (np.array(1), "1.000"),
        (-0.0001, "0.000"),
        (2.0005, "2.001"),
        (0.0625, "0.062"),
    ],
)
# 2.0005 is stored as 2.000500000000000167 (rounds up); 0.0625 is exact (half to even).
def test_floats_are_rounded_to_the_flag_decimals(value, expected):
    assert canonical(FLOAT, value) == expected


def test_float_candidates_add_the_nearest_neighbouring_bucket():
    assert candidates(FLOAT, 0.12349) == ["0.123", "0.124"]  # just below the boundary 0.1235
    assert candidates(FLOAT, 0.12351) == ["0.124", "0.123"]  # just above it
    assert candidates(FLOAT, 0.1231) == ["0.123", "0.124"]  # the nearer boundary is above
    assert candidates(FLOAT, 0.1229) == ["0.123", "0.122"]  # the nearer boundary is below
    assert "0.125" not in candidates(FLOAT, 0.1231)  # never two buckets away
    assert candidates(INTEGER, 7) == ["7"]


def test_float_canonical_form_does_not_depend_on_repr():
    assert canonical(FLOAT, np.float64(1 / 3)) == canonical(FLOAT, 1 / 3) == "0.333"


def test_strings_and_arrays():
    assert canonical(STRING, " 7 ") == "7"
    assert canonical(STRING, np.str_("7")) == "7"
    assert canonical(ARRAY, [[1, 2], [3, 4]]) == "2x2:1,2,3,4"
    assert canonical(ARRAY, np.array([[1.0, 2.0], [3.0, 4.0]])) == "2x2:1,2,3,4"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        (INTEGER, None, "got None"),
        (INTEGER, float("nan"), "got nan"),
        (FLOAT, float("inf"), "got inf"),
        (INTEGER, "5421", "got the string '5421'"),
        (INTEGER, True, "got the boolean True"),
        (INTEGER, 3.5, "whole number, got 3.5"),
        (INTEGER, [1, 2], "got a list"),
        (INTEGER, np.array([1, 2]), "got a NumPy array of shape"),
        (STRING, 7, "expected a string such as '7'"),
        (ARRAY, [1, 2, 3, 4], r"shape \(2, 2\), got shape \(4,\)"),
        (ARRAY, [[1.5, 2], [3, 4]], "not whole numbers"),
        (ARRAY, "1,2,3,4", "got the string"),
        (ARRAY, [[True, False], [True, True]], "entries of type bool"),
    ],
)
def test_bad_input_is_refused_with_one_line(flag, value, message):
    with pytest.raises(BadAnswer, match=message) as error:
        canonical(flag, value)
    assert "\n" not in str(error.value)
