"""The version warning: once per session, only when the installed versions differ from the pins."""

from __future__ import annotations

import warnings

import pytest

from checks import versions


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    monkeypatch.setattr(versions, "_warned", False)


def test_pins_are_read_from_the_package_metadata():
    pins = versions.pinned_versions()
    assert set(pins) == {"numpy", "scikit-learn", "scipy"}


def test_this_environment_matches_the_pins():
    assert versions.mismatches() == {}


def test_a_mismatch_warns_once(monkeypatch):
    monkeypatch.setattr(versions, "pinned_versions", lambda: {"scikit-learn": "0.1"})
    with pytest.warns(versions.VersionMismatchWarning, match=r"scikit-learn .* \(course: 0.1\)"):
        versions.warn_once_if_mismatched()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        versions.warn_once_if_mismatched()  # second time: silent


def test_no_warning_when_versions_match(monkeypatch):
    monkeypatch.setattr(versions, "mismatches", dict)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        versions.warn_once_if_mismatched()
