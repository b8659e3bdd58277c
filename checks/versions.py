"""Warn once per session when the installed libraries would change the course's answers.

What changes answers is measured by the compatibility matrix (:mod:`checks.compatibility`): only
the libraries it found shaping answers are compared with the pins (scikit-learn, in the last
run), and a scikit-learn series the matrix ran is covered: its differing answers are in the keys.
The warning then names the flags that may refuse a right answer and the command that fixes it.
Without a matrix, every library that may shape the numbers is compared with the pins.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from importlib import metadata

from checks.compatibility import UNKNOWN_ANSWER, Compatibility, load_compatibility, series
from checks.distribution import DISTRIBUTION

# The libraries whose versions may shape the answers: the one list of them.
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


def installed_series() -> str | None:
    """The installed scikit-learn's release series (``"1.6"``), or None if it is not installed."""
    try:
        return series(metadata.version("scikit-learn"))
    except metadata.PackageNotFoundError:
        return None


def mismatches() -> dict[str, tuple[str, str]]:
    """Library -> (installed, pinned), for each pinned library whose installed version differs."""
    installed = installed_versions()
    return {
        name: (installed[name], pinned)
        for name, pinned in pinned_versions().items()
        if installed[name] != pinned
    }


@dataclass(frozen=True)
class VersionAdvice:
    """Why the installed versions may refuse right answers, and what fixes it."""

    differing: dict[str, tuple[str, str]]  # library -> (installed, pinned)
    flags: tuple[str, ...] | None  # the flags affected; None when not known

    def command(self) -> str:
        """The pip command that installs the course's versions of the differing libraries."""
        return "pip install " + " ".join(
            f"{n}=={pinned}" for n, (_, pinned) in self.differing.items()
        )

    def message(self) -> str:
        """The warning's text: what differs, which flags it affects, the command that fixes it."""
        listed = ", ".join(
            f"{name} {have} (course: {want})" for name, (have, want) in self.differing.items()
        )
        if self.flags:
            effect = f"flag(s) {', '.join(self.flags)} may refuse a right answer"
        else:
            effect = "some answers may differ from the course's"
        return (
            f"{listed}: {effect}. To fix it, run `%{self.command()}` in a cell, then restart the "
            f"kernel (in a terminal: `{self.command()}`)."
        )


def version_advice(
    installed: dict[str, str] | None = None,
    pins: dict[str, str] | None = None,
    compatibility: Compatibility | None = None,
) -> VersionAdvice | None:
    """The advice for the installed versions, or None when they give the course's answers.

    Parameters
    ----------
    installed, pins : dict, optional
        Library -> version; default: :func:`installed_versions` and :func:`pinned_versions`.
    compatibility : Compatibility, optional
        The matrix's findings; default: the package's (:func:`checks.compatibility.
        load_compatibility`).
    """
    installed = installed if installed is not None else installed_versions()
    pins = pins if pins is not None else pinned_versions()
    compatibility = compatibility if compatibility is not None else load_compatibility()
    differing = {
        name: (installed.get(name, "not installed"), pinned)
        for name, pinned in pins.items()
        if installed.get(name, "not installed") != pinned
    }
    if compatibility is None:  # never measured: every difference may matter
        return VersionAdvice(differing, None) if differing else None
    differing = {name: pair for name, pair in differing.items() if name in compatibility.shaping}
    affected: list[str] = []
    if "scikit-learn" in differing:
        statuses = compatibility.statuses_for(differing["scikit-learn"][0])
        if statuses is None:
            affected = compatibility.sensitive_flags()
        else:
            affected = [flag for flag, status in statuses.items() if status in UNKNOWN_ANSWER]
            if not affected:
                del differing["scikit-learn"]  # covered: its answers are in the keys
    if not differing:
        return None
    return VersionAdvice(differing, tuple(affected) or None)


def note_for_flag(flag_id: str) -> str | None:
    """For a refused answer: a note when the installed versions leave the flag's answer unknown."""
    advice = version_advice()
    if advice is None or not advice.flags or flag_id not in advice.flags:
        return None
    return (
        f"Your library versions change this flag's answer: run `%{advice.command()}`, restart the "
        "kernel and run the notebook again."
    )


def warn_once_if_mismatched() -> None:
    """Emit one :class:`VersionMismatchWarning` per session if the versions may change answers."""
    global _warned
    if _warned:
        return
    _warned = True
    advice = version_advice()
    if advice is not None:
        warnings.warn(advice.message(), VersionMismatchWarning, stacklevel=3)
