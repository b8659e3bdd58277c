"""Warn once per session when the libraries that shape the numbers differ from the pins."""

from __future__ import annotations

import re
import warnings
from importlib import metadata

DISTRIBUTION = "mnist-course"
# The libraries whose versions shape the answers: the one list of them.
NUMBER_SHAPING = ("numpy", "scikit-learn", "scipy")

_warned = False


class VersionMismatchWarning(UserWarning):
    """Installed library versions differ from those the answers were computed with."""


def pinned_versions() -> dict[str, str]:
    """The exact versions of ``numpy``, ``scikit-learn`` and ``scipy`` the course pins."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    pins = {}
    for requirement in requirements:
        match = re.match(r"^([A-Za-z0-9_.-]+)\s*==\s*([^\s;]+)", requirement)
        if match and match.group(1).lower() in NUMBER_SHAPING:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def installed_versions() -> dict[str, str]:
    """The installed version of each library that shapes the numbers ("not installed" if none)."""
    found = {}
    for name in NUMBER_SHAPING:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def mismatches() -> dict[str, tuple[str, str]]:
    """Library -> (installed, pinned), for each pinned library whose installed version differs."""
    installed = installed_versions()
    return {
        name: (installed[name], pinned)
        for name, pinned in pinned_versions().items()
        if installed[name] != pinned
    }


def warn_once_if_mismatched() -> None:
    """Emit one :class:`VersionMismatchWarning` per session if the versions differ from the pins."""
    global _warned
    if _warned:
        return
    _warned = True
    differing = mismatches()
    if differing:
        listed = ", ".join(
            f"{name} {have} (course: {want})" for name, (have, want) in differing.items()
        )
        warnings.warn(
            f"{listed}. Your numbers may differ slightly from the course's answers; if a right "
            "answer is refused, install the course's versions (see the README).",
            VersionMismatchWarning,
            stacklevel=3,
        )
