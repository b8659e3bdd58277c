"""Grading: each flag judged from what the kernel recorded, as submitted and under a variant."""

from __future__ import annotations

import pytest

from checks.answer_keys import make_key
from checks.catalogue import get_flag
from checks.grading.judging import judge_flag
from checks.grading.status import Verdict
from checks.judge import Standard

# --- Judging ---------------------------------------------------------------------------------

FLAG = get_flag("1.1")
KEY = make_key("1.1", "1234", "tests")
VARIANT_KEY = make_key("1.1", "4321", "tests")
RIGHT, RIGHT_UNDER_VARIANT = Standard(key=KEY), Standard(key=VARIANT_KEY)


@pytest.mark.parametrize(
    ("submitted", "under_variant", "verdict"),
    [
        ([1234], [4321], Verdict.CAPTURED),
        ([1234.0, 1234], [4321], Verdict.CAPTURED),
        ([], [4321], Verdict.NOT_ANSWERED),
        ([1233], [4321], Verdict.WRONG),
        (["1234"], [4321], Verdict.WRONG),
        ([1233, 1234], [4321], Verdict.SEVERAL),
        ([1234], [1234], Verdict.NOT_UNDER_VARIANT),  # the same value both ways: typed in
        ([1234], [], Verdict.NOT_UNDER_VARIANT),
        ([1234], [4321, 4320], Verdict.NOT_UNDER_VARIANT),
    ],
)
def test_a_flag_pays_only_when_right_as_submitted_and_under_the_variant(
    submitted, under_variant, verdict
):
    grade = judge_flag(FLAG, submitted, RIGHT, under_variant, RIGHT_UNDER_VARIANT)
    assert grade.verdict == verdict
    assert grade.points == (FLAG.points if verdict == Verdict.CAPTURED else 0)


def test_without_a_variant_the_submitted_answer_decides():
    assert judge_flag(FLAG, [1234], RIGHT).verdict == Verdict.CAPTURED
    assert judge_flag(FLAG, [1234], None).verdict == Verdict.WRONG  # no key: nothing to earn


def test_a_value_that_breaks_judging_costs_that_flag_only():
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("boom")

        def __float__(self):
            raise RuntimeError("boom")

        def __index__(self):
            raise RuntimeError("boom")

    assert judge_flag(FLAG, [Hostile()], RIGHT).verdict in (Verdict.WRONG, Verdict.UNJUDGEABLE)
    assert judge_flag(FLAG, [[[[1]]]], RIGHT).points == 0
    assert judge_flag(FLAG, [1234], RIGHT).verdict is Verdict.CAPTURED
