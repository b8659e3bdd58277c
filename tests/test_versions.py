"""The version warning: once per session, only when the installed versions may change answers.

What may change answers is what the compatibility matrix measured (synthetic findings here).
"""

from __future__ import annotations

import warnings

import pytest

from checks import versions
from checks.compatibility import Compatibility

PINS = {"numpy": "2.4.6", "scikit-learn": "1.9.1", "scipy": "1.17.1"}
FOUND = Compatibility(
    environments={
        "1.9.1": dict(PINS),
        "1.6.1": {"numpy": "2.0.2", "scikit-learn": "1.6.1", "scipy": "1.14.1"},
        "1.5.2": {"numpy": "2.0.2", "scikit-learn": "1.5.2", "scipy": "1.14.1"},
    },
    flags={
        "1.1": {"1.9.1": "same", "1.6.1": "same", "1.5.2": "same"},
        "3.3": {"1.9.1": "same", "1.6.1": "differs", "1.5.2": "differs"},
        "5.3": {"1.9.1": "same", "1.6.1": "same", "1.5.2": "unsupported"},
    },
    shaping=("scikit-learn",),
)


_version_advice = versions.version_advice


def advice(installed: dict[str, str], compatibility: Compatibility = FOUND):
    return _version_advice({**PINS, **installed}, PINS, compatibility)


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    monkeypatch.setattr(versions, "_warned", False)


def test_pins_are_read_from_the_package_metadata():
    pins = versions.pinned_versions()
    assert set(pins) == {"numpy", "scikit-learn", "scipy"}


def test_this_environment_matches_the_pins():
    assert versions.mismatches() == {}
    assert versions.version_advice() is None


def test_numpy_and_scipy_alone_are_silent_when_the_matrix_found_they_change_nothing():
    assert advice({"numpy": "2.0.2", "scipy": "1.14.1"}) is None


def test_a_covered_series_is_silent():
    assert advice({"scikit-learn": "1.6.1"}) is None  # 3.3 differs there, and is keyed
    assert advice({"scikit-learn": "1.9.0"}) is None  # the course's own series


def test_a_series_outside_the_matrix_names_the_sensitive_flags_and_the_fix():
    found = advice({"scikit-learn": "1.4.2", "numpy": "1.26.4"})
    assert found is not None and found.flags == ("3.3", "5.3")
    assert found.command() == "pip install scikit-learn==1.9.1"
    message = found.message()
    assert "scikit-learn 1.4.2 (course: 1.9.1)" in message and "numpy" not in message
    assert "`%pip install scikit-learn==1.9.1`" in message and "restart the kernel" in message


def test_a_covered_series_warns_only_for_its_unsupported_flags():
    found = advice({"scikit-learn": "1.5.2"})
    assert found is not None and found.flags == ("5.3",)


def test_without_a_matrix_every_difference_warns(monkeypatch):
    monkeypatch.setattr(versions, "load_compatibility", lambda: None)
    found = _version_advice({**PINS, "numpy": "2.0.2"}, PINS)
    assert found is not None and found.differing == {"numpy": ("2.0.2", "2.4.6")}
    assert found.flags is None


def test_numpy_warns_when_the_matrix_found_it_shapes_answers():
    shaping = Compatibility(FOUND.environments, FOUND.flags, ("numpy", "scikit-learn"))
    found = advice({"numpy": "2.0.2"}, compatibility=shaping)
    assert found is not None and found.command() == "pip install numpy==2.4.6"


def test_a_mismatch_warns_once(monkeypatch):
    monkeypatch.setattr(versions, "version_advice", lambda: advice({"scikit-learn": "1.4.2"}))
    with pytest.warns(
        versions.VersionMismatchWarning, match=r"scikit-learn 1.4.2 \(course: 1.9.1\)"
    ):
        versions.warn_once_if_mismatched()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        versions.warn_once_if_mismatched()  # second time: silent


def test_no_warning_when_versions_match(monkeypatch):
    monkeypatch.setattr(versions, "version_advice", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        versions.warn_once_if_mismatched()


def test_a_refused_answer_gets_the_fix_only_for_an_affected_flag(monkeypatch):
    monkeypatch.setattr(versions, "version_advice", lambda: advice({"scikit-learn": "1.5.2"}))
    assert "%pip install scikit-learn==1.9.1" in versions.note_for_flag("5.3")
    assert versions.note_for_flag("3.3") is None
